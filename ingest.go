package rag

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"iter"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/tokenizer"

	"golang.org/x/sync/semaphore"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
)

// IngestOptions tune ingestion. The zero value works: every zero field
// takes the default given in its comment.
type IngestOptions struct {
	// BatchSize is the largest number of texts in one embedding request.
	// Default: 256, or the embedder's embed.Limits.MaxInputs if smaller.
	BatchSize int
	// BatchTokens is the largest number of tokens in one embedding
	// request. Default: the embedder's embed.Limits.MaxRequestTokens (for
	// OpenAI, 300,000), or no limit.
	BatchTokens int
	// MaxInputTokens is the largest chunk the embedder accepts; a longer
	// chunk fails its document with embed.ErrInputTooLong. Default: the
	// embedder's embed.Limits.MaxInputTokens (for OpenAI, 8,192), or no limit.
	MaxInputTokens int
	// Concurrency is the number of embedding requests in flight. Default: 8.
	Concurrency int
	// RequestsPerMinute and TokensPerMinute, when positive, bound the rate
	// of embedding requests and of tokens sent, with token buckets that hold
	// a tenth of a minute's worth.
	RequestsPerMinute int
	TokensPerMinute   int
	// MaxRetries is how many times a failed request is retried (on 429,
	// 5xx, timeouts and connection errors; never on other 4xx). Default: 6.
	// Negative means no retry.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries, with full jitter. A Retry-After the provider sends wins over
	// a shorter backoff. Defaults: 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds each embedding request; a request that takes
	// longer is abandoned and retried. Default: 60s.
	RequestTimeout time.Duration
	// Linger is how long a partly filled batch waits for more chunks before
	// it is sent anyway. Default: 5ms.
	Linger time.Duration
	// MaxPendingChunks bounds the chunks held in memory between chunking
	// and writing, so a stream of any length runs in bounded memory.
	// Default: 4 × Concurrency × BatchSize.
	MaxPendingChunks int
	// Cache keeps embeddings by model and text, so unchanged chunks of a
	// changed document are not embedded again. Default: an in-memory
	// embed.MemoryCache of embed.DefaultCacheBytes. Set NoCache to disable.
	Cache   embed.Cache
	NoCache bool
	// Tokenizer counts the tokens of chunks whose chunker did not.
	// Default: tokenizer.CL100K().
	Tokenizer tokenizer.Tokenizer
	// Progress, if set, is called after each document finishes (stored,
	// unchanged or failed), from one goroutine at a time. It must be quick:
	// ingestion waits for it.
	Progress func(Progress)
}

func (o IngestOptions) withDefaults(e embed.Embedder) IngestOptions {
	var lim embed.Limits
	if l, ok := e.(embed.Limiter); ok {
		lim = l.Limits()
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
		if lim.MaxInputs > 0 && lim.MaxInputs < o.BatchSize {
			o.BatchSize = lim.MaxInputs
		}
	}
	if o.BatchTokens <= 0 {
		o.BatchTokens = lim.MaxRequestTokens
	}
	if o.MaxInputTokens <= 0 {
		o.MaxInputTokens = lim.MaxInputTokens
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 6
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.Linger <= 0 {
		o.Linger = 5 * time.Millisecond
	}
	if o.MaxPendingChunks <= 0 {
		o.MaxPendingChunks = 4 * o.Concurrency * o.BatchSize
	}
	if o.Cache == nil && !o.NoCache {
		o.Cache = embed.NewMemoryCache(0)
	}
	if o.NoCache {
		o.Cache = nil
	}
	if o.Tokenizer == nil {
		o.Tokenizer = tokenizer.CL100K()
	}
	return o
}

// Status is what Ingest did with a document.
type Status int

const (
	// Stored: the document was chunked, embedded and written.
	Stored Status = iota + 1
	// Unchanged: the store already held this version (same ID and content
	// hash); nothing was embedded or written.
	Unchanged
	// Failed: the document was not written; the store holds its previous
	// version, if any, unchanged.
	Failed
)

func (s Status) String() string {
	switch s {
	case Stored:
		return "stored"
	case Unchanged:
		return "unchanged"
	case Failed:
		return "failed"
	}
	return "Status(" + fmt.Sprint(int(s)) + ")"
}

// DocumentResult is the outcome of one document.
type DocumentResult struct {
	ID     string
	Status Status
	Chunks int   // chunks written (Stored), or made before failing
	Err    error // why it failed (a *DocumentError), when Status is Failed
}

// IngestReport summarises an ingestion.
type IngestReport struct {
	// Documents lists every document's outcome in the order they finished
	// (Ingest), or only the first MaxFailures failed ones (IngestSeq, whose
	// input may be endless; the counts below are complete).
	Documents []DocumentResult

	Stored, Unchanged, Failed int
	Chunks                    int // chunks written
	CachedChunks              int // chunks whose vectors came from the embedding cache
	Tokens                    int // tokens sent to the embedder (retries not counted)
	Requests                  int // embedding requests made, retries included
	Retries                   int // requests that were retries
	Elapsed                   time.Duration
}

// Progress is a snapshot of a running ingestion.
type Progress struct {
	Documents                 int // finished: Stored + Unchanged + Failed
	Stored, Unchanged, Failed int
	Chunks                    int // chunks written
	Tokens                    int // tokens embedded
	Requests, Retries         int
	Elapsed                   time.Duration
}

// ChunksPerSecond is the rate of chunks written so far.
func (p Progress) ChunksPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Chunks) / p.Elapsed.Seconds()
}

// IngestError is returned by Ingest and IngestSeq when documents failed.
// It unwraps to the documents' errors (at most MaxErrors of them are
// kept), so errors.Is and errors.As find their causes.
type IngestError struct {
	Failed int     // documents that failed
	Errs   []error // *DocumentError values, the first MaxErrors of them
}

// MaxErrors is the number of document errors an IngestError keeps.
const MaxErrors = 100

// MaxFailures is the number of failed documents an IngestSeq report lists.
const MaxFailures = 10000

func (e *IngestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rag: %d document(s) failed", e.Failed)
	for i, err := range e.Errs {
		if i == 3 {
			fmt.Fprintf(&b, "; ...")
			break
		}
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *IngestError) Unwrap() []error { return e.Errs }

// Ingest chunks, embeds and stores docs, and returns a report of what
// happened to each.
//
// Chunking runs in parallel; chunks of many documents are packed into
// embedding requests within the batch limits and sent concurrently within
// the rate limits, with retries. A document is written only when all its
// chunks are embedded, in one Upsert: a reader never sees half a document,
// and a document that fails leaves the store as it was. A document whose ID
// and content hash the store already holds is not embedded again
// (Unchanged); a changed document replaces every chunk of its old version.
//
// The error is nil when every document was stored or unchanged; otherwise
// it is an *IngestError (documents failed) and/or the context's error. The
// report is never nil. When ctx is cancelled, Ingest aborts the requests in
// flight and returns promptly, having written only whole documents.
func (p *Pipeline) Ingest(ctx context.Context, docs ...Document) (*IngestReport, error) {
	pulled := 0
	seq := func(yield func(Document) bool) {
		for _, d := range docs {
			pulled++
			if !yield(d) {
				return
			}
		}
	}
	rep, err := p.ingestSeq(ctx, seq, true)
	if pulled < len(docs) && ctx.Err() != nil {
		// Cancelled before these were read: they failed too.
		cause := context.Cause(ctx)
		for _, d := range docs[pulled:] {
			if d.ID == "" {
				d.ID = documentID(d.Content)
			}
			rep.add(DocumentResult{ID: d.ID, Status: Failed, Err: &DocumentError{DocID: d.ID, Err: cause}}, true)
		}
		var ie *IngestError
		if errors.As(err, &ie) {
			ie.Failed = rep.Failed
		} else {
			err = errors.Join(&IngestError{Failed: rep.Failed, Errs: []error{rep.Documents[len(rep.Documents)-1].Err}}, err)
		}
	}
	return rep, err
}

// IngestSeq is Ingest for a stream of documents of any length: documents
// are pulled from docs as the pipeline has room for them, so memory stays
// bounded. The report lists only failed documents; set
// IngestOptions.Progress to follow the others.
func (p *Pipeline) IngestSeq(ctx context.Context, docs iter.Seq[Document]) (*IngestReport, error) {
	return p.ingestSeq(ctx, docs, false)
}

// job is one document moving through the ingestion stages.
type job struct {
	doc     Document
	hash    string
	wait    <-chan struct{} // closed when an earlier job with the same ID finishes
	done    chan struct{}   // closed when this job finishes
	records []store.Record
	tokens  []int        // tokens of each chunk
	pending atomic.Int32 // chunks still waiting for a vector
	weight  int64        // semaphore weight held
	settled atomic.Bool  // set once, by whoever finishes the job
}

// item is one text to embed, for one chunk of one job.
type item struct {
	j      *job
	i      int // index into j.records
	tokens int
	key    string // cache key
}

// batch is one embedding request.
type batch struct {
	items  []item
	texts  []string // distinct texts
	of     []int    // of[k]: index in texts of items[k]
	tokens int
}

type ingestRun struct {
	p       *Pipeline
	o       *IngestOptions
	ctx     context.Context
	keepAll bool
	start   time.Time

	pending *semaphore.Weighted
	rpm     *limiter
	tpm     *limiter
	pause   atomic.Int64 // unix nanos before which no request is sent (after a 429)

	mu       sync.Mutex
	rep      IngestReport
	unsealed map[*job]struct{} // jobs pulled from the input and not finished
	lastByID map[string]*job   // the latest job of each ID in flight

	items   chan item
	batches chan *batch
	writes  chan *job

	// counters updated by several goroutines
	tokens, requests, retries, cached atomic.Int64
}

func (p *Pipeline) ingestSeq(parent context.Context, docs iter.Seq[Document], keepAll bool) (*IngestReport, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	o := &p.ingest
	r := &ingestRun{
		p: p, o: o, ctx: ctx, keepAll: keepAll, start: time.Now(),
		pending:  semaphore.NewWeighted(int64(o.MaxPendingChunks)),
		unsealed: make(map[*job]struct{}),
		lastByID: make(map[string]*job),
		items:    make(chan item, o.BatchSize),
		batches:  make(chan *batch),
		writes:   make(chan *job, 16),
	}
	if o.RequestsPerMinute > 0 {
		r.rpm = newLimiter(o.RequestsPerMinute, 1)
	}
	if o.TokensPerMinute > 0 {
		r.tpm = newLimiter(o.TokensPerMinute, o.BatchTokens)
	}

	jobs := make(chan *job, 2*hashBatch)
	var feeding, chunking, requesting, writing sync.WaitGroup

	feeding.Go(func() {
		defer close(jobs)
		r.feed(docs, jobs)
	})
	for range runtime.GOMAXPROCS(0) + p.gen.enrichWorkers() {
		chunking.Go(func() { r.chunkWorker(jobs) })
	}
	go func() {
		feeding.Wait()
		chunking.Wait()
		close(r.items)
	}()
	requesting.Go(r.batcher)
	for range o.Concurrency {
		requesting.Go(r.requestWorker)
	}
	go func() {
		requesting.Wait()
		close(r.writes)
	}()
	writing.Go(r.writer)
	feeding.Wait()
	chunking.Wait()
	requesting.Wait()
	writing.Wait()

	// Every stage has stopped. Jobs still unfinished were cut short by
	// cancellation: report them.
	rep := &r.rep
	for j := range r.unsealed {
		if j.settled.CompareAndSwap(false, true) {
			rep.add(r.failure(j, context.Cause(ctx)), r.keepAll)
		}
	}
	rep.Tokens = int(r.tokens.Load())
	rep.Requests = int(r.requests.Load())
	rep.Retries = int(r.retries.Load())
	rep.CachedChunks = int(r.cached.Load())
	rep.Elapsed = time.Since(r.start)

	var errs []error
	if rep.Failed > 0 {
		ie := &IngestError{Failed: rep.Failed}
		for _, d := range rep.Documents {
			if d.Status == Failed && len(ie.Errs) < MaxErrors {
				ie.Errs = append(ie.Errs, d.Err)
			}
		}
		errs = append(errs, ie)
	}
	if err := parent.Err(); err != nil {
		errs = append(errs, fmt.Errorf("rag: ingest: %w", err))
	}
	return rep, errors.Join(errs...)
}

// feed pulls documents from the sequence, derives IDs and chains jobs that
// share an ID, so the later version is written after the earlier one.
func (r *ingestRun) feed(docs iter.Seq[Document], jobs chan<- *job) {
	for d := range docs {
		if d.ID == "" {
			d.ID = documentID(d.Content)
		}
		j := &job{doc: d, done: make(chan struct{})}
		r.mu.Lock()
		if prev, ok := r.lastByID[d.ID]; ok {
			j.wait = prev.done
		}
		r.lastByID[d.ID] = j
		r.unsealed[j] = struct{}{}
		r.mu.Unlock()
		select {
		case jobs <- j:
		case <-r.ctx.Done():
			return
		}
	}
}

// finish records a job's outcome exactly once, releases what it holds and
// reports progress.
func (r *ingestRun) finish(j *job, res DocumentResult) {
	if !j.settled.CompareAndSwap(false, true) {
		return
	}
	if j.weight > 0 {
		r.pending.Release(j.weight)
	}
	close(j.done)
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.unsealed, j)
	if r.lastByID[j.doc.ID] == j {
		delete(r.lastByID, j.doc.ID)
	}
	r.rep.add(res, r.keepAll)
	if r.o.Progress != nil {
		rep := &r.rep
		r.o.Progress(Progress{
			Documents: rep.Stored + rep.Unchanged + rep.Failed,
			Stored:    rep.Stored, Unchanged: rep.Unchanged, Failed: rep.Failed,
			Chunks: rep.Chunks, Tokens: int(r.tokens.Load()),
			Requests: int(r.requests.Load()), Retries: int(r.retries.Load()),
			Elapsed: time.Since(r.start),
		})
	}
}

func (r *ingestRun) failure(j *job, err error) DocumentResult {
	return DocumentResult{ID: j.doc.ID, Status: Failed, Chunks: len(j.records), Err: &DocumentError{DocID: j.doc.ID, Err: err}}
}

func (r *ingestRun) fail(j *job, err error) { r.finish(j, r.failure(j, err)) }

// chunkWorker validates, hashes and chunks documents, takes what it can
// from the cache and hands the rest to the batcher.
func (r *ingestRun) chunkWorker(jobs <-chan *job) {
	// Enrichment calls a model for each document inside prepare: a group
	// would run its calls one after another, so then each worker takes
	// one document at a time and the workers run them concurrently.
	batch := hashBatch
	if r.p.gen.enrich != nil {
		batch = 1
	}
	group := make([]*job, 0, batch)
	for j := range jobs {
		// Take the jobs that are ready too, so one Hashes call serves
		// them all (one query instead of many, for a database store).
		group = append(group[:0], j)
	more:
		for len(group) < batch {
			select {
			case j, ok := <-jobs:
				if !ok {
					break more
				}
				group = append(group, j)
			default:
				break more
			}
		}
		if !r.prepareGroup(group) {
			return
		}
	}
}

// hashBatch is the most documents whose stored hashes are read at once.
const hashBatch = 32

// prepareGroup validates, hashes and checks a group of jobs against the
// store's hashes, then chunks and dispatches the changed ones. A job that
// must wait for an earlier one with its ID reads its hash after that wait.
// It reports false when the run was cancelled.
func (r *ingestRun) prepareGroup(group []*job) bool {
	var ids []string
	ready := make([]bool, len(group))
	for i, j := range group {
		if j.wait != nil {
			continue
		}
		if err := r.check(j); err != nil {
			r.fail(j, err)
			continue
		}
		ready[i] = true
		ids = append(ids, j.doc.ID)
	}
	var have map[string]string
	if len(ids) > 0 {
		var err error
		if have, err = r.p.store.Hashes(r.ctx, ids...); err != nil {
			if r.ctx.Err() != nil {
				return false
			}
			for i, j := range group {
				if ready[i] {
					r.fail(j, fmt.Errorf("reading stored hash: %w", err))
					ready[i] = false
				}
			}
		}
	}
	for i, j := range group {
		if j.wait != nil {
			select {
			case <-j.wait:
			case <-r.ctx.Done():
				return false
			}
			if err := r.check(j); err != nil {
				r.fail(j, err)
				continue
			}
			h, err := r.p.store.Hashes(r.ctx, j.doc.ID)
			if err != nil {
				if r.ctx.Err() != nil {
					return false
				}
				r.fail(j, fmt.Errorf("reading stored hash: %w", err))
				continue
			}
			have, ready[i] = h, true
		}
		if !ready[i] {
			continue
		}
		if r.ctx.Err() != nil {
			return false
		}
		stored, ok := have[j.doc.ID]
		if err := r.prepare(j, ok && stored == j.hash); err != nil {
			if r.ctx.Err() != nil {
				return false
			}
			r.fail(j, err)
			continue
		}
		if j.records == nil { // unchanged
			r.finish(j, DocumentResult{ID: j.doc.ID, Status: Unchanged})
			continue
		}
		if !r.dispatch(j) {
			return false
		}
	}
	return true
}

// check validates the document and computes its content hash.
func (r *ingestRun) check(j *job) error {
	d := &j.doc
	if err := validateDocument(d); err != nil {
		return err
	}
	if err := setExpiry(d); err != nil { // expiry.go
		return err
	}
	j.hash = r.p.contentHash(d)
	return nil
}

// prepare chunks a checked document, unless the store already holds this
// version (unchanged), in which case it leaves j.records nil.
func (r *ingestRun) prepare(j *job, unchanged bool) error {
	d := &j.doc
	if unchanged {
		if l := r.p.lexical; l != nil {
			if lh, ok := l.Hash(d.ID); !ok || lh != j.hash {
				// The store has this version but the lexical index does
				// not: chunk it again (no embedding) to repair the index.
				if err := r.chunk(j); err != nil {
					return err
				}
				if err := l.Upsert(store.Document{ID: d.ID, Hash: j.hash, Records: j.records}); err != nil {
					return fmt.Errorf("lexical index: %w", err)
				}
				j.records = nil
			}
		}
		return nil
	}
	if err := r.chunk(j); err != nil {
		return err
	}
	if r.p.gen.enrich != nil { // enrich.go: summary record and tags
		return r.enrich(j)
	}
	return nil
}

// chunk splits the document into records without vectors.
func (r *ingestRun) chunk(j *job) error {
	d := &j.doc
	ch := r.p.chunker
	if r.p.chunkerFor != nil {
		if c := r.p.chunkerFor(*d); c != nil {
			ch = c
		}
	}
	chunks, err := ch.Chunk(r.ctx, d.Content)
	if err != nil {
		return fmt.Errorf("chunking: %w", err)
	}
	if len(chunks) == 0 {
		return fmt.Errorf("%w: the chunker made no chunk", ErrEmptyContent)
	}
	j.records = make([]store.Record, len(chunks))
	for i, c := range chunks {
		if c.Tokens <= 0 {
			chunks[i].Tokens = r.o.Tokenizer.Count(c.Text)
		}
		if r.o.MaxInputTokens > 0 && chunks[i].Tokens > r.o.MaxInputTokens {
			return fmt.Errorf("chunk %d has %d tokens, the model takes %d: %w", i, chunks[i].Tokens, r.o.MaxInputTokens, embed.ErrInputTooLong)
		}
		meta := d.Metadata
		if len(c.Headings) > 0 {
			// The chunk's own section, as metadata it can be filtered on.
			meta = make(map[string]any, len(d.Metadata)+1)
			maps.Copy(meta, d.Metadata)
			meta[MetaHeadings] = c.Headings
		}
		j.records[i] = store.Record{
			ID: RecordID(d.ID, i), DocID: d.ID, Chunk: i, Start: c.Start, End: c.End, Text: c.Text,
			Title: d.Title, Source: d.Source, Tags: d.Tags, Metadata: meta,
		}
	}
	// Token counts ride along with the items, not the records.
	j.pending.Store(int32(len(chunks)))
	j.tokens = make([]int, len(chunks))
	for i, c := range chunks {
		j.tokens[i] = c.Tokens
	}
	return nil
}

// dispatch fills vectors from the cache and sends the remaining chunks to
// the batcher, holding pending-chunk budget for them. It reports false when
// the run was cancelled.
func (r *ingestRun) dispatch(j *job) bool {
	var missing []item
	for i := range j.records {
		it := item{j: j, i: i, tokens: j.tokens[i]}
		if r.o.Cache != nil {
			it.key = embed.CacheKey(r.p.model, j.records[i].Text)
			if v, ok := r.o.Cache.Get(r.ctx, it.key); ok && r.p.dims.ok(len(v)) {
				j.records[i].Vector = v
				r.cached.Add(1)
				continue
			}
		}
		missing = append(missing, it)
	}
	j.pending.Store(int32(len(missing)))
	if len(missing) == 0 {
		return r.toWriter(j)
	}
	j.weight = min(int64(len(missing)), int64(r.o.MaxPendingChunks))
	if err := r.pending.Acquire(r.ctx, j.weight); err != nil {
		j.weight = 0
		return false
	}
	for _, it := range missing {
		select {
		case r.items <- it:
		case <-r.ctx.Done():
			return false
		}
	}
	return true
}

func (r *ingestRun) toWriter(j *job) bool {
	select {
	case r.writes <- j:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// batcher packs items into requests within the batch limits. A batch is
// sent when full, when no more items will come, or when it has waited
// Linger for more.
func (r *ingestRun) batcher() {
	defer close(r.batches)
	var (
		cur     = r.newBatch()
		carry   *item // an item that did not fit in cur
		seen    = map[string]int{}
		in      = r.items
		linger  = time.NewTimer(time.Hour)
		expired bool
	)
	linger.Stop()
	defer linger.Stop()
	add := func(it item) bool {
		text := it.j.records[it.i].Text
		k, dup := seen[text]
		if !dup {
			if len(cur.texts) >= r.o.BatchSize || (r.o.BatchTokens > 0 && len(cur.texts) > 0 && cur.tokens+it.tokens > r.o.BatchTokens) {
				return false
			}
			k = len(cur.texts)
			seen[text] = k
			cur.texts = append(cur.texts, text)
			cur.tokens += it.tokens
		}
		cur.items = append(cur.items, it)
		cur.of = append(cur.of, k)
		if len(cur.items) == 1 {
			linger.Reset(r.o.Linger)
			expired = false
		}
		return true
	}
	for {
		full := carry != nil || len(cur.texts) >= r.o.BatchSize
		var send chan<- *batch
		if len(cur.items) > 0 && (full || expired || in == nil) {
			send = r.batches
		}
		recv := in
		if full {
			recv = nil
		}
		if recv == nil && send == nil {
			return // input closed and nothing left
		}
		select {
		case it, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			if !add(it) {
				carry = &it
			}
		case send <- cur:
			cur = r.newBatch()
			clear(seen)
			linger.Stop()
			expired = false
			if carry != nil {
				add(*carry)
				carry = nil
			}
		case <-linger.C:
			expired = true
		case <-r.ctx.Done():
			return
		}
	}
}

func (r *ingestRun) newBatch() *batch {
	return &batch{items: make([]item, 0, r.o.BatchSize), texts: make([]string, 0, r.o.BatchSize)}
}

// requestWorker embeds batches and hands complete documents to the writer.
func (r *ingestRun) requestWorker() {
	for b := range r.batches {
		r.embedBatch(b)
		if r.ctx.Err() != nil {
			return
		}
	}
}

// embedBatch embeds one batch with retries. A batch that fails for good
// with a permanent error is split in two and each half tried again, so one
// bad input fails only its own document.
func (r *ingestRun) embedBatch(b *batch) {
	vecs, err := r.embedWithRetry(b.texts, b.tokens)
	if r.ctx.Err() != nil {
		return
	}
	if err != nil {
		if len(b.texts) > 1 && !retryable(err) {
			left, right := b.split()
			r.embedBatch(left)
			r.embedBatch(right)
			return
		}
		for _, it := range b.items {
			r.fail(it.j, fmt.Errorf("embedding: %w", err))
		}
		return
	}
	used := make([]bool, len(vecs))
	for k, it := range b.items {
		v := vecs[b.of[k]]
		if used[b.of[k]] {
			v = slices.Clone(v) // a text shared by several chunks: each record owns its vector
		}
		used[b.of[k]] = true
		if it.key != "" && r.o.Cache != nil {
			r.o.Cache.Put(r.ctx, it.key, v)
		}
		if it.j.settled.Load() {
			continue // the document already failed
		}
		it.j.records[it.i].Vector = v
		if it.j.pending.Add(-1) == 0 {
			if !r.toWriter(it.j) {
				return
			}
		}
	}
}

// split halves a batch by distinct texts.
func (b *batch) split() (*batch, *batch) {
	mid := len(b.texts) / 2
	left, right := &batch{}, &batch{}
	left.texts, right.texts = b.texts[:mid], b.texts[mid:]
	for k, it := range b.items {
		t := b.of[k]
		if t < mid {
			left.items, left.of, left.tokens = append(left.items, it), append(left.of, t), left.tokens+it.tokens
		} else {
			right.items, right.of, right.tokens = append(right.items, it), append(right.of, t-mid), right.tokens+it.tokens
		}
	}
	return left, right
}

// embedWithRetry makes one embedding request, retrying retryable failures
// (see retry), within the rate limits; a 429 pauses every request of the
// run for its Retry-After.
func (r *ingestRun) embedWithRetry(texts []string, tokens int) ([][]float32, error) {
	p := r.p
	r.tokens.Add(int64(tokens))
	var vecs [][]float32
	err := retry(r.ctx, r.o, func(ctx context.Context, attempt int) error {
		if err := r.waitTurn(tokens); err != nil {
			return err
		}
		r.requests.Add(1)
		if attempt > 0 {
			r.retries.Add(1)
		}
		var err error
		vecs, err = p.embedder.Embed(ctx, texts)
		if err != nil {
			return err
		}
		return p.checkVectors(vecs, len(texts))
	}, func(ae *embed.APIError) {
		if ae.StatusCode != 429 || ae.RetryAfter <= 0 {
			return
		}
		// A rate limit holds for every request, not only this one.
		until := time.Now().Add(ae.RetryAfter).UnixNano()
		for {
			cur := r.pause.Load()
			if cur >= until || r.pause.CompareAndSwap(cur, until) {
				break
			}
		}
	})
	return vecs, err
}

// checkVectors validates an embedder's answer for n texts and the
// dimension against the one the pipeline knows.
func (p *Pipeline) checkVectors(vecs [][]float32, n int) error {
	if _, err := embed.Check(vecs, n, p.dims.get()); err != nil {
		return err
	}
	if n > 0 && !p.dims.set(len(vecs[0])) {
		return fmt.Errorf("%w: got %d dimensions, the pipeline has %d", embed.ErrDimensionMismatch, len(vecs[0]), p.dims.get())
	}
	return nil
}

// waitTurn waits for a 429 pause to pass and for the rate limiters.
func (r *ingestRun) waitTurn(tokens int) error {
	if until := r.pause.Load(); until > 0 {
		if d := time.Until(time.Unix(0, until)); d > 0 {
			if err := backoff.Sleep(r.ctx, d); err != nil {
				return err
			}
		}
	}
	if r.rpm != nil {
		if err := r.rpm.wait(r.ctx, 1); err != nil {
			return err
		}
	}
	if r.tpm != nil {
		if err := r.tpm.wait(r.ctx, tokens); err != nil {
			return err
		}
	}
	return nil
}

// writer writes complete documents to the store, several per Upsert.
func (r *ingestRun) writer() {
	const maxDocs, maxRecords = 64, 4096
	var group []*job
	for {
		group = group[:0]
		j, ok := <-r.writes
		if !ok {
			return
		}
		group = append(group, j)
		n := len(j.records)
	drain:
		for len(group) < maxDocs && n < maxRecords {
			select {
			case j, ok := <-r.writes:
				if !ok {
					break drain
				}
				group = append(group, j)
				n += len(j.records)
			default:
				break drain
			}
		}
		r.write(group)
		if r.ctx.Err() != nil {
			// Drain so no sender is stuck; the jobs are reported as
			// cancelled.
			for range r.writes {
			}
			return
		}
	}
}

func (r *ingestRun) write(group []*job) {
	docs := make([]store.Document, 0, len(group))
	live := group[:0:0]
	for _, j := range group {
		if !j.settled.Load() {
			docs = append(docs, store.Document{ID: j.doc.ID, Hash: j.hash, Records: j.records})
			live = append(live, j)
		}
	}
	if len(docs) == 0 {
		return
	}
	err := r.p.store.Upsert(r.ctx, docs)
	if err == nil {
		if l := r.p.lexical; l != nil {
			if err := l.Upsert(docs...); err != nil {
				for _, j := range live {
					r.fail(j, fmt.Errorf("stored, but not in the lexical index: %w", err))
				}
				return
			}
		}
		for _, j := range live {
			r.finish(j, DocumentResult{ID: j.doc.ID, Status: Stored, Chunks: len(j.records)})
		}
		return
	}
	if r.ctx.Err() != nil {
		return // reported as cancelled; the store holds whole documents only
	}
	if len(live) == 1 {
		r.fail(live[0], fmt.Errorf("writing to the store: %w", err))
		return
	}
	// Find which documents the store refused by writing them one by one
	// (Upsert replaces whole documents, so writing one again is harmless).
	for _, j := range live {
		r.write([]*job{j})
	}
}

func (rep *IngestReport) add(d DocumentResult, keepAll bool) {
	switch d.Status {
	case Stored:
		rep.Stored++
		rep.Chunks += d.Chunks
	case Unchanged:
		rep.Unchanged++
	case Failed:
		rep.Failed++
	}
	if keepAll || d.Status == Failed && rep.Failed <= MaxFailures {
		rep.Documents = append(rep.Documents, d)
	}
}

// validateDocument checks a document before any work is spent on it and
// normalises its metadata.
func validateDocument(d *Document) error {
	if !utf8.ValidString(d.Content) || !utf8.ValidString(d.Title) || !utf8.ValidString(d.Source) || !utf8.ValidString(d.ID) {
		return ErrInvalidUTF8
	}
	if strings.TrimSpace(d.Content) == "" {
		return ErrEmptyContent
	}
	for _, t := range d.Tags {
		if !utf8.ValidString(t) {
			return ErrInvalidUTF8
		}
	}
	d.Metadata = store.NormalizeMetadata(d.Metadata)
	if err := store.CheckMetadata(d.Metadata); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	for k, v := range d.Metadata {
		ok := utf8.ValidString(k)
		switch x := v.(type) {
		case string:
			ok = ok && utf8.ValidString(x)
		case []string:
			for _, s := range x {
				ok = ok && utf8.ValidString(s)
			}
		}
		if !ok {
			return ErrInvalidUTF8
		}
	}
	return nil
}

// contentHash hashes everything a document's records are made from: its
// fields and the embedder's name. Two ingests of a document with the same
// hash would store the same records.
func (p *Pipeline) contentHash(d *Document) string {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	str(p.model)
	if p.gen.enrich != nil {
		str(p.gen.enrich.version) // enrich.go: enriched records differ
	}
	str(d.Content)
	str(d.Title)
	str(d.Source)
	str(fmt.Sprint(len(d.Tags)))
	for _, t := range d.Tags {
		str(t)
	}
	keys := make([]string, 0, len(d.Metadata))
	for k := range d.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		str(k)
		hashValue(h, str, d.Metadata[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashValue(h hash.Hash, str func(string), v any) {
	switch x := v.(type) {
	case string:
		str("s" + x)
	case bool:
		str(fmt.Sprint("b", x))
	case float64:
		str(fmt.Sprint("f", math.Float64bits(x)))
	case time.Time:
		str("t" + x.UTC().Format(time.RFC3339Nano))
	case []string:
		str(fmt.Sprint("l", len(x)))
		for _, s := range x {
			str(s)
		}
	default:
		str(fmt.Sprintf("?%T%v", v, v))
	}
}
