package rag

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/internal/telemetry"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/tokenizer"

	"github.com/ragkit-go/rag/embed"
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
	// of embedding requests and of tokens sent (provider.Budget: token
	// buckets that hold a tenth of a minute's worth). The budget is the
	// pipeline's: every Ingest and IngestSeq call and every query
	// embedding share it, and the provider's x-ratelimit-* headers and
	// 429 answers adjust it.
	RequestsPerMinute int
	TokensPerMinute   int
	// SharedBudget, if set, is waited on too before every embedding
	// request (ingestion and queries, retries included): a budget that
	// several processes share, such as package queue's Budget, so that
	// replicas together stay within the provider's limits. The limits
	// above then stay at 0, or at this process's share.
	SharedBudget provider.Limiter
	// Retry is the policy of embedding requests, for ingestion and
	// queries: retries on 429, 5xx, timeouts and connection errors, never
	// on other 4xx (see provider.RetryPolicy for its defaults: 6 retries,
	// backoff from 500ms to 30s). Its RequestTimeout defaults to 60s here,
	// and bounds an attempt the provider never answers only until enough
	// answers are known: then an attempt that has run 4 times the 95th
	// percentile of recent latencies (at least 1s) is cut as hung and
	// retried, so that a few hung requests do not hold an Ingest for a
	// minute each, while a provider slow for everyone raises that
	// deadline. A negative RequestTimeout turns both off.
	Retry provider.RetryPolicy
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
	// unchanged or failed) and after each embedding request's vectors
	// come back, so that it moves with chunks and bytes within a large
	// document too. It is called from one goroutine at a time, with
	// counters that never go back. It must be quick: ingestion waits for
	// it.
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
	if o.Retry.RequestTimeout == 0 {
		o.Retry.RequestTimeout = 60 * time.Second
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

// Status is what Ingest did with a document: document.Status.
type Status = document.Status

// The statuses of a document.
const (
	Stored    = document.Stored    // chunked, embedded and written
	Unchanged = document.Unchanged // the store held this version: nothing embedded or written
	Failed    = document.Failed    // not written: the store holds its previous version, if any
)

// DocumentResult is the outcome of one document: document.Result. Its Err
// is a *DocumentError when Status is Failed.
type DocumentResult = document.Result

// IngestReport summarises an ingestion.
type IngestReport struct {
	// Documents lists every document's outcome in the order they finished
	// (Ingest), or only the first maxFailures failed ones (IngestSeq, whose
	// input may be endless; the counts below are complete).
	Documents []DocumentResult

	Stored, Unchanged, Failed int
	Chunks                    int   // chunks written
	CachedChunks              int   // chunks whose vectors came from the embedding cache
	Tokens                    int   // tokens sent to the embedder (retries not counted)
	Requests                  int   // embedding requests made, retries included
	Retries                   int   // requests that were retries
	Bytes                     int64 // bytes of the chunk texts written
	Elapsed                   time.Duration
}

// Progress is a snapshot of a running ingestion.
type Progress struct {
	Documents                 int // finished: Stored + Unchanged + Failed
	Stored, Unchanged, Failed int
	Chunks                    int // chunks written
	Tokens                    int // tokens embedded
	// EmbeddedChunks and EmbeddedBytes count the chunks whose vectors came
	// back from the embedder and the bytes of their texts, as requests
	// complete: they move while a large document is still being embedded.
	EmbeddedChunks int
	EmbeddedBytes  int64
	// WrittenBytes counts the bytes of the chunk texts written to the
	// store.
	WrittenBytes      int64
	Requests, Retries int
	Elapsed           time.Duration
}

// ChunksPerSecond is the rate of chunks written so far.
func (p Progress) ChunksPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Chunks) / p.Elapsed.Seconds()
}

// IngestError is returned by Ingest and IngestSeq when documents failed.
// It unwraps to the documents' errors (at most maxErrors of them are
// kept), so errors.Is and errors.As find their causes.
type IngestError struct {
	Failed int     // documents that failed
	Errs   []error // *DocumentError values, the first maxErrors of them
}

// maxErrors is the number of document errors an IngestError keeps.
const maxErrors = 100

// maxFailures is the number of failed documents an IngestSeq report lists.
const maxFailures = 10000

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
// The same ID given twice is not an error: its versions are written in the
// order given, so the last one wins.
//
// The error is nil when every document was stored or unchanged; otherwise
// it is an *IngestError (documents failed) and/or the context's error. The
// report is never nil. When ctx is cancelled, Ingest aborts the requests in
// flight and returns promptly, having written only whole documents.
func (p *Pipeline) Ingest(ctx context.Context, docs ...Document) (*IngestReport, error) {
	return p.own.Ingest(ctx, docs...)
}

// Ingest is Pipeline.Ingest within the scope.
func (sc *scope) Ingest(ctx context.Context, docs ...Document) (*IngestReport, error) {
	pulled := 0
	seq := func(yield func(Document) bool) {
		for _, d := range docs {
			pulled++
			if !yield(d) {
				return
			}
		}
	}
	rep, err := sc.run(ctx, seq, len(docs), nil)
	if pulled < len(docs) && ctx.Err() != nil {
		// Cancelled before these were read: they failed too.
		cause := context.Cause(ctx)
		for _, d := range docs[pulled:] {
			if d.ID == "" {
				d.ID = document.ID(d.Content)
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
// bounded. The report lists only failed documents (the first
// maxFailures); set IngestOptions.Progress to follow the others.
func (p *Pipeline) IngestSeq(ctx context.Context, docs iter.Seq[Document]) (*IngestReport, error) {
	return p.own.run(ctx, docs, 0, nil)
}

// runHooks let a caller of run (Sync) see each document's outcome and
// take the progress reports instead of IngestOptions.Progress. Both are
// called from one goroutine at a time.
type runHooks struct {
	done     func(ingest.Result)
	progress func(Progress)
}

// run ingests docs on the engine and builds the report, in an
// "ingest {model}" span. The report lists every outcome when listAll > 0
// (Ingest passes the number of documents, the list's capacity; with none
// there is nothing to list), else only the failures.
func (sc *scope) run(ctx context.Context, docs iter.Seq[Document], listAll int, hooks *runHooks) (rep *IngestReport, err error) {
	p := sc.p
	sctx, op := p.tel.Start(ctx, telemetry.OpIngest, p.embedding.Provider, p.embedding.Model, trace.SpanKindInternal, false)
	defer func() {
		op.Set(telemetry.Documents.Int(rep.Stored+rep.Unchanged+rep.Failed), telemetry.Stored.Int(rep.Stored),
			telemetry.Unchanged.Int(rep.Unchanged), telemetry.Failed.Int(rep.Failed), telemetry.Chunks.Int(rep.Chunks),
			telemetry.Bytes.Int64(rep.Bytes), telemetry.Requests.Int(rep.Requests), telemetry.Retries.Int(rep.Retries))
		op.InputTokens(rep.Tokens)
		op.End(ctx, err)
	}()
	ctx = sctx
	start := time.Now()
	rep = &IngestReport{}
	keepAll := listAll > 0
	if keepAll {
		rep.Documents = make([]DocumentResult, 0, listAll)
	}
	report := p.ingest.Progress
	var each func(ingest.Result)
	if hooks != nil {
		report, each = hooks.progress, hooks.done
	}
	var (
		mu     sync.Mutex
		stream *ingest.Stream
		last   ingest.Stats // of the last Progress, so counters never go back
	)
	// Called with mu held.
	progress := func() {
		st := stream.Stats()
		last.Requests, last.Retries = max(last.Requests, st.Requests), max(last.Retries, st.Retries)
		last.Tokens, last.EmbeddedChunks = max(last.Tokens, st.Tokens), max(last.EmbeddedChunks, st.EmbeddedChunks)
		last.EmbeddedBytes, last.WrittenBytes = max(last.EmbeddedBytes, st.EmbeddedBytes), max(last.WrittenBytes, st.WrittenBytes)
		report(Progress{
			Documents: rep.Stored + rep.Unchanged + rep.Failed,
			Stored:    rep.Stored, Unchanged: rep.Unchanged, Failed: rep.Failed,
			Chunks: rep.Chunks, Tokens: last.Tokens, Requests: last.Requests, Retries: last.Retries,
			EmbeddedChunks: last.EmbeddedChunks, EmbeddedBytes: last.EmbeddedBytes, WrittenBytes: last.WrittenBytes,
			Elapsed: time.Since(start),
		})
	}
	// stream is set before the first document can settle: Run starts the
	// stream, then pulls from docs. Progress reads its counters.
	done := func(r ingest.Result) {
		res := DocumentResult{ID: r.ID, Status: r.Status, Chunks: r.Chunks}
		if r.Err != nil {
			res.Err = &DocumentError{DocID: r.ID, Err: r.Err}
			level := slog.LevelWarn
			if ctx.Err() != nil {
				level = slog.LevelDebug // the caller gave up: not the document's fault
			}
			p.logger.Log(ctx, level, "rag: document failed", telemetry.KeyDoc, r.ID, telemetry.KeyChunks, r.Chunks, telemetry.KeyErr, r.Err)
		}
		mu.Lock()
		defer mu.Unlock()
		rep.add(res, keepAll)
		if each != nil {
			each(r)
		}
		if report != nil {
			progress()
		}
	}
	cfg := sc.engine
	if report != nil {
		c := *sc.engine
		c.Progress = func() {
			mu.Lock()
			defer mu.Unlock()
			progress()
		}
		cfg = &c
	}
	stream = ingest.Start(ctx, cfg)
	for d := range docs {
		if err := stream.Submit(ctx, d, done); err != nil {
			// Pulled but not queued: cancelled.
			if d.ID == "" {
				d.ID = document.ID(d.Content)
			}
			done(ingest.Result{ID: d.ID, Status: ingest.Failed, Err: err})
			break
		}
	}
	st, runErr := stream.Close()
	rep.Tokens, rep.Requests, rep.Retries, rep.CachedChunks = st.Tokens, st.Requests, st.Retries, st.CachedChunks
	rep.Bytes = st.WrittenBytes
	rep.Elapsed = time.Since(start)

	var errs []error
	if runErr != nil {
		errs = append(errs, fmt.Errorf("rag: ingest: %w", runErr))
	}
	if rep.Failed > 0 {
		ie := &IngestError{Failed: rep.Failed}
		for _, d := range rep.Documents {
			if d.Status == Failed && len(ie.Errs) < maxErrors {
				ie.Errs = append(ie.Errs, d.Err)
			}
		}
		errs = append(errs, ie)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("rag: ingest: %w", err))
	}
	return rep, errors.Join(errs...)
}

// engineConfig is the configuration of the ingestion engine for the
// scope: its store, lexical index and cache keys.
func (sc *scope) engineConfig() *ingest.Config {
	p := sc.p
	o := &p.ingest
	cfg := &ingest.Config{
		Store: sc.store,
		Embed: func(ctx context.Context, texts []string, tokens int) ([][]float32, int, error) {
			return p.embedding.Embed(ctx, texts, tokens, false)
		},
		// A misconfigured request fails for every text: splitting its
		// batch would only make more requests that fail the same way.
		Permanent: func(err error) bool { return !provider.Retryable(err) && !provider.Misconfigured(err) },
		Chunker: func(d Document) chunk.Chunker {
			if p.chunkerFor != nil {
				if c := p.chunkerFor(d); c != nil {
					return c
				}
			}
			return p.chunker
		},
		Tokenizer:        o.Tokenizer,
		HashSalts:        p.hashSalts,
		Model:            sc.cacheModel(),
		Cache:            o.Cache,
		Dimension:        &p.dims,
		BatchSize:        o.BatchSize,
		BatchTokens:      o.BatchTokens,
		MaxInputTokens:   o.MaxInputTokens,
		Concurrency:      o.Concurrency,
		Linger:           o.Linger,
		MaxPendingChunks: o.MaxPendingChunks,
	}
	if sc.lexical != nil {
		cfg.Lexical = sc.lexical
	}
	if e := p.gen.enrich; e != nil {
		cfg.Enrich = e.Enrich
		cfg.EnrichWorkers = e.Concurrency()
	}
	return cfg
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
	if keepAll || d.Status == Failed && rep.Failed <= maxFailures {
		rep.Documents = append(rep.Documents, d)
	}
}
