package queue

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// ingestWorker works ingestion jobs: it claims the document, makes its
// documents (inline, or by loading the referenced file), submits them to
// the Ingester and waits until each is written or has failed.
type ingestWorker struct {
	river.WorkerDefaults[ingestArgs]
	q *Queue
}

func (w *ingestWorker) Work(ctx context.Context, job *river.Job[ingestArgs]) error {
	q := w.q
	ok, err := q.claim(ctx, job.Args.ID, job.ID, job.Kind, job.Attempt)
	if !ok || err != nil {
		return err
	}
	docs, err := q.documents(ctx, &job.Args)
	if err != nil {
		return q.finish(ctx, job.JobRow, job.Args.ID, 0, stateFailed, err)
	}
	results := make(chan document.Result, len(docs))
	submitted := 0
	for _, d := range docs {
		if err := q.opts.Ingester.Submit(ctx, d, func(r document.Result) { results <- r }); err != nil {
			// Not queued: the stream is stopping, or ctx is done. Retry
			// later; what was submitted may still be written, harmlessly.
			return q.finish(ctx, job.JobRow, job.Args.ID, 0, stateFailed, err)
		}
		submitted++
	}
	chunks, state := 0, stateUnchanged
	var errs []error
	for range submitted {
		select {
		case r := <-results:
			chunks += r.Chunks
			switch r.Status {
			case document.Stored:
				state = stateStored
			case document.Failed:
				errs = append(errs, r.Err)
			}
		case <-ctx.Done():
			// The job timed out or the queue is stopping: the documents
			// may still be written; the retry finds them Unchanged.
			return context.Cause(ctx)
		}
	}
	if len(errs) > 0 {
		return q.finish(ctx, job.JobRow, job.Args.ID, chunks, stateFailed, errors.Join(errs...))
	}
	return q.finish(ctx, job.JobRow, job.Args.ID, chunks, state, nil)
}

// deleteWorker works deletion jobs.
type deleteWorker struct {
	river.WorkerDefaults[deleteArgs]
	q *Queue
}

func (w *deleteWorker) Work(ctx context.Context, job *river.Job[deleteArgs]) error {
	q := w.q
	ok, err := q.claim(ctx, job.Args.ID, job.ID, job.Kind, job.Attempt)
	if !ok || err != nil {
		return err
	}
	if err := q.opts.Ingester.Delete(ctx, job.Args.ID); err != nil {
		return q.finish(ctx, job.JobRow, job.Args.ID, 0, stateFailed, err)
	}
	return q.finish(ctx, job.JobRow, job.Args.ID, 0, stateDeleted, nil)
}

// documents makes the documents of an ingestion job.
func (q *Queue) documents(ctx context.Context, a *ingestArgs) ([]document.Document, error) {
	base, err := a.document()
	if err != nil {
		return nil, err
	}
	if a.Path == "" {
		return []document.Document{base}, nil
	}
	if q.opts.FS == nil {
		return nil, ErrNoFS
	}
	data, err := fs.ReadFile(q.opts.FS, a.Path)
	if err != nil {
		return nil, fmt.Errorf("queue: read %s: %w", a.Path, err)
	}
	f := &loader.File{Name: a.Path, Data: data}
	if st, err := fs.Stat(q.opts.FS, a.Path); err == nil {
		f.ModTime = st.ModTime()
	}
	loaded, err := q.opts.Loader.Load(ctx, f)
	if err != nil {
		return nil, err
	}
	docs := make([]document.Document, len(loaded))
	for i, l := range loaded {
		d := base
		d.ID = base.ID
		if i > 0 {
			d.ID = base.ID + "/" + strconv.Itoa(i+1)
		}
		d.Content, d.Spans = l.Content, l.Spans
		if d.Title == "" {
			d.Title = l.Title
		}
		if d.Source == "" {
			d.Source = l.Source
		}
		if d.Source == "" {
			d.Source = a.Path
		}
		d.Tags = append(append([]string(nil), base.Tags...), l.Tags...)
		if len(l.Metadata) > 0 {
			m := make(map[string]any, len(l.Metadata)+len(base.Metadata))
			for k, v := range l.Metadata {
				m[k] = v
			}
			for k, v := range base.Metadata { // the enqueuer's fields win
				m[k] = v
			}
			d.Metadata = m
		}
		docs[i] = d
	}
	return docs, nil
}

// The states a worker records. Pending and running are River's.
const (
	statePending   = "pending"
	stateRunning   = "running"
	stateStored    = "stored"
	stateUnchanged = "unchanged"
	stateFailed    = "failed"
	stateDeleted   = "deleted"
)

// claim makes job the one applying document id, and reports whether it
// may go on. It may not when a later job of the document was enqueued
// (this one is superseded: it completes with no effect) or while another
// job of the document holds a live claim (this one is snoozed: the error
// is River's JobSnooze).
func (q *Queue) claim(ctx context.Context, id string, job int64, kind string, attempt int) (bool, error) {
	for range 2 {
		var (
			latest  int64
			holder  *int64
			live    bool
			claimed bool
		)
		err := q.pool.QueryRow(ctx, sqlClaim, id, job, q.opts.RescueAfter.Milliseconds(), attempt).Scan(&latest, &holder, &live, &claimed)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Enqueued without a status row (by River directly): it is
			// the latest.
			if _, err := q.pool.Exec(ctx, `INSERT INTO rag_queue_document (doc_id, job_id, kind, state, updated_at)
				VALUES ($1, $2, $3, 'pending', clock_timestamp()) ON CONFLICT DO NOTHING`, id, job, kind); err != nil {
				return false, fmt.Errorf("queue: claim %q: %w", id, err)
			}
			continue
		case err != nil:
			return false, fmt.Errorf("queue: claim %q: %w", id, err)
		case claimed:
			return true, nil
		case latest != job:
			return false, nil // superseded
		default:
			// Another job of this ID is applying: wait for it, with
			// jitter so that waiting jobs do not wake together.
			return false, river.JobSnooze(time.Second + rand.N(time.Second))
		}
	}
	return false, fmt.Errorf("queue: claim %q: no status row", id)
}

// sqlClaim claims document $1 for job $2, for $3 milliseconds, if $2 is
// its latest job and no other job holds a live claim on it, in one
// statement; it returns the row as it was and whether the claim was
// made. No row: the document has no status row.
const sqlClaim = `
WITH cur AS (
	SELECT job_id, claim_job, coalesce(claim_until > clock_timestamp(), false) AS live
	FROM rag_queue_document WHERE doc_id = $1 FOR UPDATE
), upd AS (
	UPDATE rag_queue_document d SET claim_job = $2,
		claim_until = clock_timestamp() + $3 * interval '1 millisecond', attempts = $4, updated_at = clock_timestamp()
	FROM cur WHERE d.doc_id = $1 AND cur.job_id = $2 AND (cur.claim_job IS NULL OR cur.claim_job = $2 OR NOT cur.live)
	RETURNING 1
)
SELECT job_id, claim_job, live, EXISTS (SELECT 1 FROM upd) FROM cur`

// finish records a job's outcome, releases its claim and returns what the
// worker returns to River: nil, the error (retried with backoff), or the
// error wrapped by river.JobCancel when it is permanent. A failure that
// will be retried leaves the document pending, with its error.
func (q *Queue) finish(ctx context.Context, job *rivertype.JobRow, id string, chunks int, state string, cause error) error {
	var ret error
	var msg *string
	if cause != nil {
		s := cause.Error()
		msg = &s
		switch {
		case q.opts.Permanent(cause):
			ret = river.JobCancel(cause)
		case job.Attempt < job.MaxAttempts:
			state, ret = statePending, cause
		default:
			ret = cause
		}
	}
	// The outcome is recorded even when the job's context is done: the
	// write, if any, has committed.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := q.pool.Exec(wctx, `UPDATE rag_queue_document SET claim_job = NULL, claim_until = NULL,
		state = CASE WHEN job_id <> $2 THEN state
			WHEN $3 = 'unchanged' AND state = 'stored' THEN state -- a re-delivery of a job that stored it
			ELSE $3 END,
		chunks = CASE WHEN job_id <> $2 THEN chunks WHEN $3 = 'unchanged' AND state = 'stored' THEN chunks ELSE $4 END,
		error = CASE WHEN job_id <> $2 THEN error ELSE $5 END,
		updated_at = clock_timestamp()
		WHERE doc_id = $1 AND claim_job = $2`, id, job.ID, state, chunks, msg)
	if err != nil {
		// The status row is behind; River retries the job, which will find
		// the document Unchanged and record it.
		return errors.Join(ret, fmt.Errorf("queue: record outcome of %q: %w", id, err))
	}
	return ret
}
