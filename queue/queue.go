package queue

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/loader"
)

// Ingester is the pipeline as the workers see it: *rag.IngestStream.
//
// Submit and Delete are called from many goroutines at once (one per job
// being worked). Submit queues d and returns; done is called once with
// its outcome after its write has committed or it has failed, unless
// Submit returns an error (then d was not queued). Delete removes the
// named documents and returns once they are gone.
type Ingester interface {
	Submit(ctx context.Context, d document.Document, done func(document.Result)) error
	Delete(ctx context.Context, docIDs ...string) error
}

// Options configure a Queue. The zero value works for a Queue that only
// enqueues and reads statuses; a Queue that works jobs needs Ingester.
type Options struct {
	// Ingester receives the documents of the jobs this process works.
	// Nil: Start fails with ErrNoIngester.
	Ingester Ingester
	// FS is where references (Item.Path) are read from. Nil: jobs with a
	// reference fail with ErrNoFS, permanently.
	FS fs.FS
	// Loader turns a referenced file into documents. Default: loader.Load,
	// the package registry of package loader (formats register themselves
	// when their packages are imported).
	Loader loader.Loader
	// Queue is the River queue the jobs go to. Default: "rag_ingest".
	Queue string
	// Workers is the number of jobs this process works at once; they all
	// feed the one Ingester, so this bounds the documents in flight, not
	// the embedding concurrency. Default: 100.
	Workers int
	// MaxAttempts is how many times a job is tried before it fails for
	// good; retries wait with River's backoff (attempt⁴ seconds, jittered).
	// Default: 10.
	MaxAttempts int
	// MaxInlineBytes bounds the content of an inline document: a larger
	// one is refused by Enqueue with ErrTooLarge (enqueue a reference
	// instead). Default: 1 MiB. The content travels in River's job row.
	MaxInlineBytes int
	// JobTimeout bounds one attempt of one job. Default: 10 minutes.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River's
	// rescuer, in any replica, takes it as lost (its worker died) and
	// makes it available again. It also bounds how long a dead worker's
	// hold on a document ID keeps later jobs of that ID waiting. It must
	// exceed JobTimeout. Default: JobTimeout + 1 minute.
	RescueAfter time.Duration
	// Permanent reports whether a document's error will fail again on a
	// retry, so its job fails at once and stays failed. Default:
	// IsPermanent.
	Permanent func(error) bool
	// PollInterval is how often idle workers look for jobs when no
	// notification came. Default: River's (1s).
	PollInterval time.Duration
	// Logger receives River's logs and the queue's. Default: slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Loader == nil {
		o.Loader = loader.LoaderFunc(loader.Load)
	}
	if o.Queue == "" {
		o.Queue = "rag_ingest"
	}
	if o.Workers <= 0 {
		o.Workers = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.MaxInlineBytes <= 0 {
		o.MaxInlineBytes = 1 << 20
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 10 * time.Minute
	}
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = o.JobTimeout + time.Minute
	}
	if o.Permanent == nil {
		o.Permanent = IsPermanent
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Errors of the package.
var (
	// ErrNoIngester: Start was called on a Queue without Options.Ingester.
	ErrNoIngester = errors.New("queue: no ingester: set Options.Ingester")
	// ErrNoFS: a job names a file but the worker's Queue has no Options.FS.
	ErrNoFS = errors.New("queue: no file system for references: set Options.FS")
	// ErrTooLarge: an inline document's content exceeds MaxInlineBytes.
	ErrTooLarge = errors.New("queue: inline content too large")
	// ErrInvalidItem: an Item has neither content nor a path, or both, or
	// a reference without an ID.
	ErrInvalidItem = errors.New("queue: invalid item")
)

// IsPermanent reports whether err is a document's own fault that no retry
// mends: invalid content or metadata, a chunk longer than the embedder
// takes, a file that does not exist or that no loader can read.
func IsPermanent(err error) bool {
	for _, target := range []error{
		document.ErrEmptyContent, document.ErrInvalidUTF8, document.ErrInvalidDocument,
		embed.ErrInputTooLong, fs.ErrNotExist, ErrNoFS,
		loader.ErrUnsupported, loader.ErrTooLarge, loader.ErrMalformed, loader.ErrEncrypted,
		loader.ErrNoText, loader.ErrPanic,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Queue enqueues ingestion jobs, works them (after Start) and reports the
// status of documents. All its methods may be called concurrently.
type Queue struct {
	pool   *pgxpool.Pool
	opts   Options
	client *river.Client[pgx.Tx]

	claims   *batcher[claimReq, claimRes]     // the jobs' claims of their documents
	outcomes *batcher[outcomeReq, outcomeRes] // and their outcomes

	mu      sync.Mutex
	started bool
}

// New returns a Queue on pool, whose database Migrate has prepared.
func New(pool *pgxpool.Pool, opts Options) (*Queue, error) {
	opts = opts.withDefaults()
	q := &Queue{pool: pool, opts: opts}
	q.newBatchers()
	workers := river.NewWorkers()
	river.AddWorker(workers, &ingestWorker{q: q})
	river.AddWorker(workers, &deleteWorker{q: q})
	cfg := &river.Config{
		Logger:               opts.Logger,
		MaxAttempts:          opts.MaxAttempts,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		Workers:              workers,
		FetchPollInterval:    opts.PollInterval,
	}
	if opts.Ingester != nil {
		cfg.Queues = map[string]river.QueueConfig{opts.Queue: {MaxWorkers: opts.Workers}}
	}
	if opts.PollInterval > 0 {
		cfg.FetchCooldown = min(opts.PollInterval, 100*time.Millisecond)
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.client = c
	return q, nil
}

// Start starts working jobs, until Stop or until ctx is cancelled. It
// fails with ErrNoIngester on a Queue that has none.
func (q *Queue) Start(ctx context.Context) error {
	if q.opts.Ingester == nil {
		return ErrNoIngester
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	q.started = true
	return nil
}

// Stop stops fetching jobs and waits for those being worked to finish,
// or, once ctx is done, cancels them (they are retried later, by this
// process or another) and waits for their workers to return. It does not
// close the Ingester, which is the caller's.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.started {
		return nil
	}
	q.started = false
	if err := q.client.Stop(ctx); err != nil {
		if ctx.Err() != nil {
			// Out of patience: cancel the jobs in progress and wait for them.
			if err := q.client.StopAndCancel(context.WithoutCancel(ctx)); err != nil {
				return fmt.Errorf("queue: stop: %w", err)
			}
			return nil
		}
		return fmt.Errorf("queue: stop: %w", err)
	}
	return nil
}
