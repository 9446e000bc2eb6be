package ingest

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/store"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("ingest: stream closed")

// A Stream is a running engine. Documents submitted to it, from any number
// of goroutines, share its chunking workers, embedding requests and
// writes; each one's outcome is reported to the function given with it.
//
// Stages: Submit queues the document; chunking workers validate and hash
// it, read the stored hashes of several documents at once, chunk the
// changed ones and take what they can from the cache; a batcher packs
// the chunks of many documents into requests; Concurrency workers embed
// them; writers write each complete document, several per Upsert, two
// Upserts at a time.
type Stream struct {
	cfg    *Config
	ctx    context.Context
	cancel context.CancelFunc

	pending *semaphore.Weighted // chunks between chunking and writing

	mu       sync.Mutex
	unsealed jobList         // submitted and not settled
	lastByID map[string]*job // the latest job of each ID not settled
	errs     []error         // of the run, not of one document

	submit sync.RWMutex // held for reading while sending on jobs
	closed bool

	jobs    chan *job
	items   chan item
	batches chan *batch
	writes  chan *job
	stages  sync.WaitGroup

	tokens, requests, retries, cached atomic.Int64
	embeddedChunks, embeddedBytes     atomic.Int64
	writtenBytes                      atomic.Int64
}

// job is one document moving through the stages.
type job struct {
	doc  document.Document
	hash string
	done func(Result)
	wait <-chan struct{} // closed when an earlier job with the same ID settles
	// settle, made when a later job with the same ID is submitted (most
	// jobs have none), is closed when this job settles. It, latest and
	// the links are guarded by Stream.mu.
	settle     chan struct{}
	latest     bool // Stream.lastByID holds this job
	prev, next *job // in Stream.unsealed
	records    []store.Record
	tokens     []int        // tokens of each chunk
	pending    atomic.Int32 // chunks still waiting for a vector
	weight     int64        // pending-chunk budget held
	settled    atomic.Bool  // set once, by whoever settles the job
}

// Start starts a stream. Cancelling ctx stops it: requests in flight are
// abandoned, and documents not yet written are reported Failed with ctx's
// cause when Close returns. Close must be called to release it.
func Start(ctx context.Context, cfg *Config) *Stream {
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{
		cfg: cfg, ctx: ctx, cancel: cancel,
		pending:  semaphore.NewWeighted(int64(cfg.MaxPendingChunks)),
		lastByID: make(map[string]*job),
		jobs:     make(chan *job, 2*hashBatch),
		items:    make(chan item, cfg.BatchSize),
		batches:  make(chan *batch),
		writes:   make(chan *job, 2*writeDocs),
	}
	var chunking, requesting sync.WaitGroup
	for range runtime.GOMAXPROCS(0) + cfg.EnrichWorkers {
		chunking.Go(s.chunkWorker)
	}
	requesting.Go(s.batcher)
	for range cfg.Concurrency {
		requesting.Go(s.requestWorker)
	}
	s.stages.Go(func() {
		chunking.Wait()
		close(s.items)
	})
	s.stages.Go(func() {
		requesting.Wait()
		close(s.writes)
	})
	for range writers {
		s.stages.Go(s.writer)
	}
	return s
}

// Submit queues d; done is called once with its outcome, from one of the
// stream's goroutines (several may call their functions at once), unless
// Submit returns an error: then d was not queued. A d without an ID gets
// document.ID of its content. Versions of one ID submitted one after the
// other are written in that order. Submit blocks while the stream is full;
// it fails with ctx's error, the stream's cause once it is cancelled, or
// ErrClosed after Close.
func (s *Stream) Submit(ctx context.Context, d document.Document, done func(Result)) error {
	if d.ID == "" {
		d.ID = document.ID(d.Content)
	}
	s.submit.RLock()
	defer s.submit.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.ctx.Err(); err != nil {
		return context.Cause(s.ctx)
	}
	j := &job{doc: d, done: done, latest: true}
	s.mu.Lock()
	if prev, ok := s.lastByID[d.ID]; ok {
		// prev has not settled: retire takes it out of lastByID first.
		if prev.settle == nil {
			prev.settle = make(chan struct{})
		}
		j.wait = prev.settle
		prev.latest = false
	}
	s.lastByID[d.ID] = j
	s.unsealed.push(j)
	s.mu.Unlock()
	if ctx.Err() == nil {
		select { // without a select of three cases while there is room
		case s.jobs <- j:
			return nil
		default:
		}
	}
	select {
	case s.jobs <- j:
		return nil
	case <-ctx.Done():
		s.forget(j)
		return context.Cause(ctx)
	case <-s.ctx.Done():
		s.forget(j)
		return context.Cause(s.ctx)
	}
}

// forget takes back a job that was never queued: it settles without
// reporting, so a later version of its ID does not wait for it.
func (s *Stream) forget(j *job) { s.retire(j, false) }

// retire settles j once: it gives back j's share of the pending chunks
// if it holds one (release), wakes a later version of its ID and drops
// it from the stream's books. It reports whether this call settled j.
func (s *Stream) retire(j *job, release bool) bool {
	if !j.settled.CompareAndSwap(false, true) {
		return false
	}
	if release && j.weight > 0 {
		s.pending.Release(j.weight)
	}
	s.mu.Lock()
	if j.settle != nil {
		close(j.settle)
	}
	s.unsealed.remove(j)
	if j.latest {
		delete(s.lastByID, j.doc.ID)
	}
	s.mu.Unlock()
	return true
}

// jobList is a list of jobs linked through their prev and next fields:
// pushing and removing cost neither a map's hashing nor its garbage.
type jobList struct {
	head, tail *job
	n          int
}

func (l *jobList) push(j *job) {
	j.prev, j.next = l.tail, nil
	if l.tail == nil {
		l.head = j
	} else {
		l.tail.next = j
	}
	l.tail = j
	l.n++
}

func (l *jobList) remove(j *job) {
	if j.prev == nil {
		l.head = j.next
	} else {
		j.prev.next = j.next
	}
	if j.next == nil {
		l.tail = j.prev
	} else {
		j.next.prev = j.prev
	}
	j.prev, j.next = nil, nil
	l.n--
}

// Close stops taking documents, waits until every submitted one has
// settled (or the stream was cancelled), reports those cut short by
// cancellation as Failed, and returns the stream's counters and the
// errors that were not any one document's (joined). Close waits for
// Submit calls in progress; it may be called more than once.
func (s *Stream) Close() (Stats, error) {
	s.submit.Lock()
	if !s.closed {
		s.closed = true
		close(s.jobs)
	}
	s.submit.Unlock()
	s.stages.Wait()
	s.mu.Lock()
	cut := make([]*job, 0, s.unsealed.n)
	for j := s.unsealed.head; j != nil; j = j.next {
		cut = append(cut, j)
	}
	s.mu.Unlock()
	cause := context.Cause(s.ctx)
	if cause == nil {
		cause = errors.New("ingest: stream stopped before the document settled")
	}
	for _, j := range cut {
		s.fail(j, cause)
	}
	s.cancel()
	s.mu.Lock()
	err := errors.Join(s.errs...)
	s.mu.Unlock()
	return s.Stats(), err
}

// Stats returns the counters so far.
func (s *Stream) Stats() Stats {
	return Stats{
		Tokens: int(s.tokens.Load()), Requests: int(s.requests.Load()),
		Retries: int(s.retries.Load()), CachedChunks: int(s.cached.Load()),
		EmbeddedChunks: int(s.embeddedChunks.Load()), EmbeddedBytes: s.embeddedBytes.Load(),
		WrittenBytes: s.writtenBytes.Load(),
	}
}

// Run ingests the documents of docs on a stream of its own and reports
// each outcome to done (see Submit). It returns when every document has
// settled, or promptly after ctx is cancelled; documents not pulled from
// docs by then are not reported.
func Run(ctx context.Context, cfg *Config, docs iter.Seq[document.Document], done func(Result)) (Stats, error) {
	s := Start(ctx, cfg)
	for d := range docs {
		if s.Submit(ctx, d, done) != nil {
			break
		}
	}
	return s.Close()
}

// settle records a job's outcome exactly once, releases what it holds and
// lets a later version of its ID go on.
func (s *Stream) settle(j *job, res Result) {
	if s.retire(j, true) {
		j.done(res)
	}
}

func (s *Stream) fail(j *job, err error) {
	s.settle(j, Result{ID: j.doc.ID, Status: Failed, Chunks: len(j.records), Err: err})
}

// runError records an error of the run that is not one document's.
func (s *Stream) runError(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}
