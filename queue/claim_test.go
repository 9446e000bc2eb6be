package queue_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/queue"
)

// lockRow holds document id's status row in a transaction until the
// returned function commits it.
func lockRow(t *testing.T, pool *pgxpool.Pool, id string) func() {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM rag_queue_document WHERE doc_id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// waitRowLockWaiter waits until a statement of the queue waits for a row
// lock on rag_queue_document. A batch never waits (it skips locked rows),
// so this is a job that makes its statement alone.
func waitRowLockWaiter(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	waitFor(t, "a statement waiting for the row lock", func() bool {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%rag_queue_document%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
}

// A job whose status row another transaction holds (the caller's own
// transaction enqueueing a new version, say) when the batch claims it is
// claimed alone, once the row is free, and applies.
func TestClaimWaitsForALockedRowAlone(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	var items []queue.Item
	for _, id := range []string{"locked", "free-1", "free-2"} {
		items = append(items, queue.Item{Document: document.Document{ID: id, Content: id + "\nline"}})
	}
	if _, err := q.Enqueue(ctx, items...); err != nil {
		t.Fatal(err)
	}
	unlock := lockRow(t, pool, "locked")
	start(t, q)
	waitRowLockWaiter(t, pool)
	if fake.calls("locked") != 0 {
		t.Fatal("the locked document was submitted before its claim")
	}
	unlock()
	waitCounts(t, q, 3)
	st, err := q.Status(ctx, "locked", "free-1", "free-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"locked", "free-1", "free-2"} {
		if s := st[id]; s.State != queue.Stored || s.Chunks != 2 || s.Attempts != 1 {
			t.Errorf("%s: %+v; want stored, 2 chunks, on attempt 1", id, s)
		}
	}
}

// A job whose status row another transaction holds when the batch records
// its outcome records it alone, once the row is free: the status is true
// and the claim released.
func TestOutcomeWaitsForALockedRowAlone(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	submitted, release := make(chan struct{}), make(chan struct{})
	fake.fail = func(d document.Document, call int) error {
		close(submitted) // one document, one call
		<-release
		return nil
	}
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	if _, err := q.Enqueue(ctx, queue.Item{Document: document.Document{ID: "d", Content: "a\nb\nc"}}); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	<-submitted // claimed
	unlock := lockRow(t, pool, "d")
	close(release)
	waitRowLockWaiter(t, pool)
	unlock()
	waitCounts(t, q, 1)
	st, err := q.Status(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if s := st["d"]; s.State != queue.Stored || s.Chunks != 3 {
		t.Errorf("status %+v; want stored with 3 chunks", s)
	}
	var claim *int64
	if err := pool.QueryRow(ctx, `SELECT claim_job FROM rag_queue_document WHERE doc_id = 'd'`).Scan(&claim); err != nil || claim != nil {
		t.Errorf("claim %v (%v); want released", claim, err)
	}
}

// Counts takes a pending document's state from its River job (running,
// or failed when River cancelled or discarded it) and a finished one's
// from what its worker recorded; a state found both ways adds up.
func TestCountsJoinPendingDocumentsToTheirJobs(t *testing.T) {
	pool := newPool(t)
	q := newQueue(t, pool, newFake(), queue.Options{})
	ctx := context.Background()
	var items []queue.Item
	ids := []string{"recorded-failed", "recorded-stored", "discarded", "running", "waiting"}
	for _, id := range ids {
		items = append(items, queue.Item{Document: document.Document{ID: id, Content: id}})
	}
	enq, err := q.Enqueue(ctx, items...)
	if err != nil {
		t.Fatal(err)
	}
	job := map[string]int64{}
	for _, e := range enq {
		job[e.ID] = e.JobID
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`UPDATE rag_queue_document SET state = 'failed' WHERE doc_id = 'recorded-failed'`)
		b.Queue(`UPDATE rag_queue_document SET state = 'stored' WHERE doc_id = 'recorded-stored'`)
		b.Queue(`UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE id = $1`, job["discarded"])
		b.Queue(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1`, job["running"])
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := q.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (queue.Counts{Pending: 1, Running: 1, Stored: 1, Failed: 2}); c != want {
		t.Errorf("counts %+v; want %+v", c, want)
	}
	st, err := q.Status(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]queue.State{
		"recorded-failed": queue.Failed, "recorded-stored": queue.Stored,
		"discarded": queue.Failed, "running": queue.Running, "waiting": queue.Pending,
	} {
		if st[id].State != want {
			t.Errorf("%s: %s; want %s, as Counts counts it", id, st[id].State, want)
		}
	}
}

// A job without a status row (inserted by River directly, not through
// Enqueue) is taken as its document's latest: its claim makes the row,
// and the status follows the job.
func TestClaimMakesAMissingStatusRow(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	enq, err := q.Enqueue(ctx, queue.Item{Document: document.Document{ID: "d", Content: "one\ntwo"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM rag_queue_document`); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	waitCounts(t, q, 1)
	st, err := q.Status(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if s := st["d"]; s.State != queue.Stored || s.Chunks != 2 || s.JobID != enq[0].JobID {
		t.Errorf("status %+v; want stored with 2 chunks, following job %d", s, enq[0].JobID)
	}
}
