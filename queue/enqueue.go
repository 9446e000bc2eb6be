package queue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/ragkit-go/rag/document"
)

// Item is one document to enqueue: inline (Document.Content set, at most
// Options.MaxInlineBytes) or a reference (Path set, Content empty), whose
// file a worker reads from its Options.FS and parses with its loader when
// the job runs; the document's other fields (ID, required for a
// reference, Title, Tags, Metadata, ExpiresAt) apply to what the loader
// makes. A file that loads as several documents is ingested as several,
// with IDs ID, ID/2, ID/3, ...
type Item struct {
	Document document.Document
	// Path is a slash-separated path under the workers' Options.FS.
	Path string
	// Version identifies the referenced file's content (a modification
	// time, an ETag, a hash): a job is unique by ID, path and Version, so
	// a new Version makes a new job while the same one is a no-op.
	Version string
}

// Enqueued is what Enqueue did with one Item.
type Enqueued struct {
	ID    string // the document's ID (derived from the content when empty)
	JobID int64  // the River job that will apply it
	// Duplicate: a job for the same ID and content was already waiting or
	// running; no job was added.
	Duplicate bool
}

// Enqueue adds one ingestion job per item, in one transaction of its own
// (see EnqueueTx).
func (q *Queue) Enqueue(ctx context.Context, items ...Item) ([]Enqueued, error) {
	return inTx(ctx, q, func(tx pgx.Tx) ([]Enqueued, error) { return q.EnqueueTx(ctx, tx, items...) })
}

// EnqueueTx adds one ingestion job per item inside the caller's
// transaction tx, so that a service can record its own rows and the jobs
// atomically: no job exists until tx commits, and none if it rolls back.
// The status of each document becomes pending. An item that is invalid
// (a document that document.Validate refuses, content over
// MaxInlineBytes, neither content nor a path) fails the call with an
// error naming it, matching the cause (errors.Is: ErrInvalidItem,
// ErrTooLarge, document.ErrInvalidUTF8, ...); nothing is enqueued then.
func (q *Queue) EnqueueTx(ctx context.Context, tx pgx.Tx, items ...Item) ([]Enqueued, error) {
	params := make([]river.InsertManyParams, len(items))
	ids := make([]string, len(items))
	for i, it := range items {
		args, err := q.ingestArgs(it)
		if err != nil {
			return nil, fmt.Errorf("queue: enqueue item %d (document %q): %w", i, it.Document.ID, err)
		}
		ids[i] = args.ID
		params[i] = river.InsertManyParams{Args: args, InsertOpts: q.insertOpts()}
	}
	return q.insert(ctx, tx, ids, params, KindIngest)
}

// EnqueueDelete adds one deletion job per document ID, in one transaction
// of its own (see EnqueueDeleteTx).
func (q *Queue) EnqueueDelete(ctx context.Context, docIDs ...string) ([]Enqueued, error) {
	return inTx(ctx, q, func(tx pgx.Tx) ([]Enqueued, error) { return q.EnqueueDeleteTx(ctx, tx, docIDs...) })
}

// EnqueueDeleteTx adds one deletion job per document ID inside the
// caller's transaction. A deletion is ordered with the document's other
// jobs: it applies after those enqueued before it, and a later ingestion
// job applies after it.
func (q *Queue) EnqueueDeleteTx(ctx context.Context, tx pgx.Tx, docIDs ...string) ([]Enqueued, error) {
	params := make([]river.InsertManyParams, len(docIDs))
	for i, id := range docIDs {
		if id == "" {
			return nil, fmt.Errorf("queue: enqueue deletion %d: %w: empty document ID", i, ErrInvalidItem)
		}
		params[i] = river.InsertManyParams{Args: deleteArgs{ID: id}, InsertOpts: q.insertOpts()}
	}
	return q.insert(ctx, tx, docIDs, params, KindDelete)
}

func (q *Queue) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: q.opts.Queue, MaxAttempts: q.opts.MaxAttempts, UniqueOpts: uniqueOpts}
}

// insert inserts the jobs and makes each the latest of its document, the
// one the document's status follows and the only one that may apply.
func (q *Queue) insert(ctx context.Context, tx pgx.Tx, ids []string, params []river.InsertManyParams, kind string) ([]Enqueued, error) {
	if len(params) == 0 {
		return nil, nil
	}
	res, err := q.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return nil, fmt.Errorf("queue: enqueue: %w", err)
	}
	out := make([]Enqueued, len(res))
	latest := make(map[string]int64, len(res)) // later items of one call win, as later calls do
	for i, r := range res {
		out[i] = Enqueued{ID: ids[i], JobID: r.Job.ID, Duplicate: r.UniqueSkippedAsDuplicate}
		latest[ids[i]] = r.Job.ID
	}
	docs := make([]string, 0, len(latest))
	jobIDs := make([]int64, 0, len(latest))
	kinds := make([]string, 0, len(latest))
	for id, job := range latest {
		docs, jobIDs, kinds = append(docs, id), append(jobIDs, job), append(kinds, kind)
	}
	if _, err := tx.Exec(ctx, sqlEnqueue, docs, jobIDs, kinds); err != nil {
		return nil, fmt.Errorf("queue: enqueue: status: %w", err)
	}
	return out, nil
}

// ingestArgs validates an item and makes its job.
func (q *Queue) ingestArgs(it Item) (ingestArgs, error) {
	d := it.Document
	switch {
	case it.Path != "" && d.Content != "":
		return ingestArgs{}, fmt.Errorf("%w: both content and a path", ErrInvalidItem)
	case it.Path == "" && d.Content == "":
		return ingestArgs{}, fmt.Errorf("%w: neither content nor a path", ErrInvalidItem)
	case it.Path != "" && d.ID == "":
		return ingestArgs{}, fmt.Errorf("%w: a reference needs a document ID", ErrInvalidItem)
	case len(d.Content) > q.opts.MaxInlineBytes:
		return ingestArgs{}, fmt.Errorf("%w: %d bytes, more than %d: enqueue a reference instead", ErrTooLarge, len(d.Content), q.opts.MaxInlineBytes)
	}
	ref := it.Path != ""
	if ref {
		// Validate the fields the file's documents take, on a stand-in
		// content, so the metadata is normalised and checked now.
		d.Content = "-"
	}
	if d.ID == "" {
		d.ID = document.ID(d.Content)
	}
	if err := document.Validate(&d); err != nil {
		return ingestArgs{}, err
	}
	meta, err := encodeMeta(d.Metadata)
	if err != nil {
		return ingestArgs{}, err
	}
	a := ingestArgs{ID: d.ID, Title: d.Title, Source: d.Source, Tags: d.Tags, Meta: meta}
	if ref {
		a.Path, a.Version = it.Path, it.Version
		a.Hash = document.Hash(&d, "ref", it.Path, it.Version)
	} else {
		a.Content = d.Content
		a.Hash = document.Hash(&d)
		for _, sp := range d.Spans {
			a.Spans = append(a.Spans, spanValue{Kind: sp.Kind, Label: sp.Label, Start: sp.Start, End: sp.End})
		}
	}
	return a, nil
}

// inTx runs f in a transaction of q's pool and commits it.
func inTx[T any](ctx context.Context, q *Queue, f func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return zero, fmt.Errorf("queue: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit, a no-op
	v, err := f(tx)
	if err != nil {
		return zero, err
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, fmt.Errorf("queue: commit: %w", err)
	}
	return v, nil
}
