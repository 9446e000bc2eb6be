package queue_test

import (
	"context"
	"testing"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/queue"
)

// A worker that wrote its document and recorded it, then died before
// River marked the job complete, leaves the job running with its claim:
// the re-delivered job goes on (the claim is its own), finds the document
// Unchanged, and the status stays true: stored, with its chunks.
func TestRedeliveryAfterTheWriteKeepsStored(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	doc := document.Document{ID: "d", Content: "a\nb"}
	enq, err := q.Enqueue(ctx, queue.Item{Document: doc})
	if err != nil {
		t.Fatal(err)
	}
	fake.docs["d"] = doc // written by the worker that died
	if _, err := pool.Exec(ctx, `UPDATE rag_queue_document SET state = 'stored', chunks = 2,
		claim_job = $1, claim_until = now() + interval '1 hour' WHERE doc_id = 'd'`, enq[0].JobID); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	waitJobsFinal(t, pool)
	st, err := q.Status(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if s := st["d"]; s.State != queue.Stored || s.Chunks != 2 {
		t.Errorf("status %+v; want stored with 2 chunks", s)
	}
	if fake.calls("d") != 1 {
		t.Errorf("submitted %d times; want once (the re-delivery)", fake.calls("d"))
	}
	var claim *int64
	if err := pool.QueryRow(ctx, `SELECT claim_job FROM rag_queue_document WHERE doc_id = 'd'`).Scan(&claim); err != nil || claim != nil {
		t.Errorf("claim %v (%v); want released", claim, err)
	}
}

// While another job of the same document holds a live claim, a job waits
// (snoozed, not counted as an attempt), and applies once the claim ends.
func TestJobsOfOneDocumentDoNotOverlap(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	enq, err := q.Enqueue(ctx, queue.Item{Document: document.Document{ID: "d", Content: "text"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE rag_queue_document SET claim_job = $1, claim_until = now() + interval '1 second' WHERE doc_id = 'd'`, enq[0].JobID+1000); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	waitJobsFinal(t, pool)
	st, err := q.Status(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if s := st["d"]; s.State != queue.Stored || s.Attempts != 1 {
		t.Errorf("status %+v; want stored on attempt 1", s)
	}
	var snoozes int
	if err := pool.QueryRow(ctx, `SELECT coalesce((metadata->>'snoozes')::int, 0) FROM river_job WHERE id = $1`, enq[0].JobID).Scan(&snoozes); err != nil {
		t.Fatal(err)
	}
	if snoozes < 1 {
		t.Errorf("job snoozed %d times; want at least once, while the other claim lived", snoozes)
	}
}
