package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// A job's two statements on its document's row of rag_queue_document,
// its claim before it applies and its outcome after, are made in batches:
// the jobs a process works at once claim their documents in one
// statement and record their outcomes in another (see batcher), instead
// of two round trips a job. A batch never waits for a row lock (SKIP
// LOCKED), so batches of several processes and the caller's enqueueing
// transactions cannot deadlock; a job whose row was locked, or that shares
// its document with another job of the batch, makes its statement alone,
// waiting for the lock as a single-row statement may.

// Batching: requests in one statement, and statements of each kind in
// flight at once.
const (
	batchMax   = 1000
	batchLanes = 2
	// batchTimeout bounds one batch's statement, whatever the contexts of
	// the jobs in it.
	batchTimeout = 30 * time.Second
)

func (q *Queue) newBatchers() {
	q.claims = &batcher[claimReq, claimRes]{exec: q.claimBatch, max: batchMax, lanes: batchLanes}
	q.outcomes = &batcher[outcomeReq, outcomeRes]{exec: q.outcomeBatch, max: batchMax, lanes: batchLanes}
}

// The claim and outcome statements of a batch, and of a job alone.
var (
	sqlClaimBatch   = withLock(sqlClaim, true)
	sqlClaimAlone   = withLock(sqlClaim, false)
	sqlOutcomeBatch = withLock(sqlOutcome, true)
	sqlOutcomeAlone = withLock(sqlOutcome, false)
)

// withLock makes a statement of the template sql whose row locks skip
// rows that others hold (a batch) or wait for them (a job alone).
func withLock(sql string, skip bool) string {
	mode := ""
	if skip {
		mode = "SKIP LOCKED"
	}
	return strings.Replace(sql, "LOCKMODE", mode, 1)
}

type claimReq struct {
	id      string
	job     int64
	attempt int
}

type claimRes struct {
	ok    bool
	err   error
	alone bool // not decided by the batch: claim alone
}

// claim makes job the one applying document id, and reports whether it
// may go on. It may not when a later job of the document was enqueued
// (this one is superseded: it completes with no effect) or while another
// job of the document holds a live claim (this one is snoozed: the error
// is River's JobSnooze).
func (q *Queue) claim(ctx context.Context, id string, job int64, kind string, attempt int) (bool, error) {
	req := claimReq{id: id, job: job, attempt: attempt}
	r, err := q.claims.do(ctx, req)
	if err != nil {
		return false, fmt.Errorf("queue: claim %q: %w", id, err)
	}
	if !r.alone {
		return r.ok, r.err
	}
	for range 2 {
		rows, err := q.claimRows(ctx, sqlClaimAlone, []claimReq{req})
		if err != nil {
			return false, fmt.Errorf("queue: claim %q: %w", id, err)
		}
		row, ok := rows[id]
		if ok {
			r := row.decide(job)
			return r.ok, r.err
		}
		// Enqueued without a status row (by River directly): it is the
		// latest.
		if _, err := q.pool.Exec(ctx, `INSERT INTO rag_queue_document (doc_id, job_id, kind, state, updated_at)
			VALUES ($1, $2, $3, 'pending', clock_timestamp()) ON CONFLICT DO NOTHING`, id, job, kind); err != nil {
			return false, fmt.Errorf("queue: claim %q: %w", id, err)
		}
	}
	return false, fmt.Errorf("queue: claim %q: no status row", id)
}

// byDocument splits a batch by document: the statement takes the first
// request of each (mine: its index by document; in: those requests), and
// the others (dups: their indexes) make their statements alone, since one
// statement may not update a row twice.
func byDocument[Q any](reqs []Q, doc func(Q) string) (mine map[string]int, in []Q, dups []int) {
	mine = make(map[string]int, len(reqs))
	in = make([]Q, 0, len(reqs))
	for i, r := range reqs {
		if _, dup := mine[doc(r)]; dup {
			dups = append(dups, i)
			continue
		}
		mine[doc(r)] = i
		in = append(in, r)
	}
	return mine, in, dups
}

// claimBatch claims the documents of many jobs in one statement.
func (q *Queue) claimBatch(ctx context.Context, reqs []claimReq) []claimRes {
	res := make([]claimRes, len(reqs))
	mine, in, dups := byDocument(reqs, func(r claimReq) string { return r.id })
	for _, i := range dups {
		res[i].alone = true
	}
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	rows, err := q.claimRows(ctx, sqlClaimBatch, in)
	for id, i := range mine {
		row, ok := rows[id]
		switch {
		case err != nil:
			res[i].err = fmt.Errorf("queue: claim %q: %w", id, err)
		case !ok: // locked by another transaction, or no status row
			res[i].alone = true
		default:
			res[i] = row.decide(reqs[i].job)
		}
	}
	return res
}

// claimRow is a document's row as a claim statement found it.
type claimRow struct {
	id            string
	latest        int64 // the document's latest job
	live, claimed bool  // another job held a live claim; the claim was made
}

func (row claimRow) decide(job int64) claimRes {
	switch {
	case row.claimed:
		return claimRes{ok: true}
	case row.latest != job:
		return claimRes{} // superseded
	default:
		// Another job of this ID is applying: wait for it, with jitter so
		// that waiting jobs do not wake together.
		return claimRes{err: river.JobSnooze(time.Second + rand.N(time.Second))}
	}
}

// claimRows runs a claim statement and returns the rows it found, by
// document. It reads every row before deciding anything: a statement
// that fails part way has claimed nothing.
func (q *Queue) claimRows(ctx context.Context, sql string, reqs []claimReq) (map[string]claimRow, error) {
	ids := make([]string, len(reqs))
	jobs := make([]int64, len(reqs))
	attempts := make([]int32, len(reqs))
	for i, r := range reqs {
		ids[i], jobs[i], attempts[i] = r.id, r.job, int32(r.attempt)
	}
	rows, err := q.pool.Query(ctx, sql, ids, jobs, attempts, q.opts.RescueAfter.Milliseconds())
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimRow, error) {
		var row claimRow
		err := r.Scan(&row.id, &row.latest, &row.live, &row.claimed)
		return row, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]claimRow, len(found))
	for _, row := range found {
		out[row.id] = row
	}
	return out, nil
}

// sqlClaim claims document $1[i] for job $2[i] (attempt $3[i]), for $4
// milliseconds, if that job is its latest and no other job holds a live
// claim on it, in one statement; it returns each row as it was and
// whether the claim was made. A document without a row, or whose row
// another transaction holds when LOCKMODE is SKIP LOCKED, is not
// returned. The documents are distinct.
const sqlClaim = `
WITH u AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[]) AS u(id, job, attempt)
), cur AS (
	SELECT doc_id, job_id, claim_job, coalesce(claim_until > clock_timestamp(), false) AS live
	FROM rag_queue_document WHERE doc_id = ANY($1) FOR UPDATE LOCKMODE
), upd AS (
	UPDATE rag_queue_document d SET claim_job = u.job,
		claim_until = clock_timestamp() + $4 * interval '1 millisecond', attempts = u.attempt, updated_at = clock_timestamp()
	FROM cur JOIN u ON u.id = cur.doc_id
	WHERE d.doc_id = cur.doc_id AND cur.job_id = u.job AND (cur.claim_job IS NULL OR cur.claim_job = u.job OR NOT cur.live)
	RETURNING d.doc_id
)
SELECT cur.doc_id, cur.job_id, cur.live, upd.doc_id IS NOT NULL FROM cur LEFT JOIN upd ON upd.doc_id = cur.doc_id`

type outcomeReq struct {
	id     string
	job    int64
	state  string
	chunks int
	msg    *string
}

type outcomeRes struct {
	err   error
	alone bool // not recorded by the batch: record it alone
}

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
	ctx = context.WithoutCancel(ctx)
	req := outcomeReq{id: id, job: job.ID, state: state, chunks: chunks, msg: msg}
	r, err := q.outcomes.do(ctx, req) // never withdrawn: ctx is not cancelled
	if err == nil {
		err = r.err
	}
	if r.alone {
		wctx, cancel := context.WithTimeout(ctx, batchTimeout)
		defer cancel()
		_, err = q.outcomeRows(wctx, sqlOutcomeAlone, []outcomeReq{req})
	}
	if err != nil {
		// The status row is behind; River retries the job, which will find
		// the document Unchanged and record it.
		return errors.Join(ret, fmt.Errorf("queue: record outcome of %q: %w", id, err))
	}
	return ret
}

// outcomeBatch records the outcomes of many jobs in one statement.
func (q *Queue) outcomeBatch(ctx context.Context, reqs []outcomeReq) []outcomeRes {
	res := make([]outcomeRes, len(reqs))
	mine, in, dups := byDocument(reqs, func(r outcomeReq) string { return r.id })
	for _, i := range dups {
		res[i].alone = true
	}
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	locked, err := q.outcomeRows(ctx, sqlOutcomeBatch, in)
	for id, i := range mine {
		switch {
		case err != nil:
			res[i].err = err
		case !locked[id]: // locked by another transaction, or no status row
			res[i].alone = true
		}
	}
	return res
}

// outcomeRows runs an outcome statement and returns the documents whose
// rows it held.
func (q *Queue) outcomeRows(ctx context.Context, sql string, reqs []outcomeReq) (map[string]bool, error) {
	ids := make([]string, len(reqs))
	jobs := make([]int64, len(reqs))
	states := make([]string, len(reqs))
	chunks := make([]int32, len(reqs))
	msgs := make([]*string, len(reqs))
	for i, r := range reqs {
		ids[i], jobs[i], states[i], chunks[i], msgs[i] = r.id, r.job, r.state, int32(r.chunks), r.msg
	}
	rows, err := q.pool.Query(ctx, sql, ids, jobs, states, chunks, msgs)
	if err != nil {
		return nil, err
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(held))
	for _, id := range held {
		out[id] = true
	}
	return out, nil
}

// sqlOutcome records, for each document $1[i] that job $2[i] holds the
// claim of, the job's outcome (state $3[i], $4[i] chunks, error $5[i]) if
// the job is still the document's latest, and releases the claim; it
// returns the documents whose rows it held (with LOCKMODE SKIP LOCKED,
// not those another transaction held). The documents are distinct.
const sqlOutcome = `
WITH u AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::integer[], $5::text[]) AS u(id, job, state, chunks, msg)
), locked AS (
	SELECT doc_id FROM rag_queue_document WHERE doc_id = ANY($1) FOR UPDATE LOCKMODE
), upd AS (
	UPDATE rag_queue_document d SET claim_job = NULL, claim_until = NULL,
		state = CASE WHEN d.job_id <> u.job THEN d.state
			WHEN u.state = 'unchanged' AND d.state = 'stored' THEN d.state -- a re-delivery of a job that stored it
			ELSE u.state END,
		chunks = CASE WHEN d.job_id <> u.job THEN d.chunks WHEN u.state = 'unchanged' AND d.state = 'stored' THEN d.chunks ELSE u.chunks END,
		error = CASE WHEN d.job_id <> u.job THEN d.error ELSE u.msg END,
		updated_at = clock_timestamp()
	FROM u JOIN locked ON locked.doc_id = u.id
	WHERE d.doc_id = u.id AND d.claim_job = u.job
	RETURNING 1
)
SELECT doc_id FROM locked`
