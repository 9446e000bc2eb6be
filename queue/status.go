package queue

import (
	"context"
	"fmt"
	"time"
)

// State is where a document stands in the queue.
type State string

// The states of a document. Pending and Running follow its latest job in
// River's table; the others are what that job's worker recorded.
const (
	Pending   State = statePending   // waiting for a worker, or for a retry (Err says why the last attempt failed)
	Running   State = stateRunning   // a worker holds it now
	Stored    State = stateStored    // written
	Unchanged State = stateUnchanged // the store already held this version
	Failed    State = stateFailed    // failed for good: a permanent error, or every attempt failed
	Deleted   State = stateDeleted   // removed by a deletion job
)

// Status is the status of one document: of its latest job.
type Status struct {
	ID       string
	State    State
	Chunks   int    // chunks written (Stored)
	Err      string // the error of the last failed attempt, if any
	Attempts int    // attempts made by the latest job
	JobID    int64  // the latest job
	Updated  time.Time
}

// Final reports whether the document's latest job has finished.
func (s Status) Final() bool {
	switch s.State {
	case Stored, Unchanged, Failed, Deleted:
		return true
	}
	return false
}

// Counts are the number of documents in each state, for a dashboard or a
// progress bar.
type Counts struct {
	Pending, Running, Stored, Unchanged, Failed, Deleted int
}

// Total is the number of documents counted.
func (c Counts) Total() int {
	return c.Pending + c.Running + c.Stored + c.Unchanged + c.Failed + c.Deleted
}

// sqlState is the state of a document from its row d and its latest job j.
const sqlState = `CASE WHEN d.state <> 'pending' THEN d.state
	WHEN j.state = 'running' THEN 'running'
	WHEN j.state IN ('cancelled', 'discarded') THEN 'failed'
	ELSE 'pending' END`

// Status returns the status of the named documents that the queue knows
// of (documents never enqueued are absent from the map). Any replica may
// call it: it reads Postgres.
func (q *Queue) Status(ctx context.Context, docIDs ...string) (map[string]Status, error) {
	rows, err := q.pool.Query(ctx, `SELECT d.doc_id, `+sqlState+`, d.chunks,
		CASE WHEN d.state IN ('stored', 'unchanged', 'deleted') THEN ''
			ELSE coalesce(d.error, j.errors[array_length(j.errors, 1)]->>'error', '') END,
		coalesce(j.attempt, d.attempts), d.job_id, d.updated_at
		FROM rag_queue_document d LEFT JOIN river_job j ON j.id = d.job_id
		WHERE d.doc_id = ANY($1)`, docIDs)
	if err != nil {
		return nil, fmt.Errorf("queue: status: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Status, len(docIDs))
	for rows.Next() {
		var s Status
		var state string
		if err := rows.Scan(&s.ID, &state, &s.Chunks, &s.Err, &s.Attempts, &s.JobID, &s.Updated); err != nil {
			return nil, fmt.Errorf("queue: status: %w", err)
		}
		s.State = State(state)
		out[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: status: %w", err)
	}
	return out, nil
}

// sqlCounts counts the documents by state as sqlState makes it, without
// reading River's table whole (its rows are wide: the content is in
// them): it counts the rows by their recorded state, and then, through
// River's index on the job state, the pending ones whose job is running
// (running) or was cancelled or discarded (failed), which the second
// column marks as taken from the pending.
// The jobs are found first (MATERIALIZED), whatever the statistics say
// of the pending documents (a new table has none).
const sqlCounts = `WITH j AS MATERIALIZED (
		SELECT id, state FROM river_job WHERE state IN ('running', 'cancelled', 'discarded')
	)
	SELECT d.state, false, count(*) FROM rag_queue_document d GROUP BY 1
	UNION ALL
	SELECT CASE WHEN j.state = 'running' THEN 'running' ELSE 'failed' END, true, count(*)
	FROM j JOIN rag_queue_document d ON d.job_id = j.id AND d.state = 'pending' GROUP BY 1`

// Counts returns the number of documents in each state, over every
// document the queue knows of.
func (q *Queue) Counts(ctx context.Context) (Counts, error) {
	rows, err := q.pool.Query(ctx, sqlCounts)
	if err != nil {
		return Counts{}, fmt.Errorf("queue: counts: %w", err)
	}
	defer rows.Close()
	var c Counts
	for rows.Next() {
		var (
			state   string
			fromJob bool
			n       int
		)
		if err := rows.Scan(&state, &fromJob, &n); err != nil {
			return Counts{}, fmt.Errorf("queue: counts: %w", err)
		}
		if fromJob {
			c.Pending -= n
		}
		switch State(state) {
		case Pending:
			c.Pending += n
		case Running:
			c.Running += n
		case Stored:
			c.Stored += n
		case Unchanged:
			c.Unchanged += n
		case Failed:
			c.Failed += n
		case Deleted:
			c.Deleted += n
		}
	}
	if err := rows.Err(); err != nil {
		return Counts{}, fmt.Errorf("queue: counts: %w", err)
	}
	return c, nil
}
