package queue

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/riverqueue/river"

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
