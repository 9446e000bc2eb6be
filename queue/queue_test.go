package queue_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/queue"
)

// textLoader loads any file as one document of its text.
var textLoader = loader.LoaderFunc(func(ctx context.Context, f *loader.File) ([]document.Document, error) {
	return []document.Document{{Content: string(f.Data)}}, nil
})

func newQueue(t *testing.T, pool *pgxpool.Pool, ing queue.Ingester, opts queue.Options) *queue.Queue {
	t.Helper()
	opts.Ingester = ing
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	if opts.Loader == nil {
		opts.Loader = textLoader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	q, err := queue.New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func start(t *testing.T, q *queue.Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
}

func waitCounts(t *testing.T, q *queue.Queue, final int) queue.Counts {
	t.Helper()
	var c queue.Counts
	waitFor(t, fmt.Sprintf("%d final documents", final), func() bool {
		var err error
		c, err = q.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return c.Stored+c.Unchanged+c.Failed+c.Deleted >= final
	})
	return c
}

func TestEnqueueWorkStatus(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{FS: fstest.MapFS{"a/ref.txt": {Data: []byte("line one\nline two")}}})
	ctx := context.Background()
	var items []queue.Item
	for i := range 40 {
		items = append(items, queue.Item{Document: document.Document{
			ID: fmt.Sprintf("doc-%d", i), Title: "T", Tags: []string{"x"},
			Content:  fmt.Sprintf("content of %d\nsecond line\nthird", i),
			Metadata: map[string]any{"n": i, "when": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "list": []string{"a"}},
		}})
	}
	items = append(items, queue.Item{Document: document.Document{ID: "ref", Title: "R"}, Path: "a/ref.txt", Version: "v1"})
	enq, err := q.Enqueue(ctx, items...)
	if err != nil {
		t.Fatal(err)
	}
	if len(enq) != len(items) || enq[0].ID != "doc-0" || enq[0].Duplicate || enq[0].JobID == 0 {
		t.Fatalf("Enqueue = %+v", enq[:1])
	}
	st, err := q.Status(ctx, "doc-0", "never")
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st["doc-0"].State != queue.Pending || st["doc-0"].Final() {
		t.Fatalf("before Start: %+v", st)
	}
	start(t, q)
	c := waitCounts(t, q, len(items))
	if c.Stored != len(items) || c.Total() != len(items) {
		t.Fatalf("counts %+v; want %d stored", c, len(items))
	}
	st, err = q.Status(ctx, "doc-7", "ref")
	if err != nil {
		t.Fatal(err)
	}
	if s := st["doc-7"]; s.State != queue.Stored || s.Chunks != 3 || s.Attempts != 1 || s.Err != "" {
		t.Errorf("doc-7 status %+v; want stored, 3 chunks, 1 attempt", s)
	}
	if s := st["ref"]; s.State != queue.Stored || s.Chunks != 2 {
		t.Errorf("ref status %+v; want stored, 2 chunks", s)
	}
	d, _ := fake.doc("doc-7")
	want := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if d.Title != "T" || d.Metadata["n"] != 7.0 || d.Metadata["when"] != want || fmt.Sprint(d.Metadata["list"]) != "[a]" {
		t.Errorf("doc-7 arrived as %+v; metadata lost its types", d)
	}
	if r, _ := fake.doc("ref"); r.Content != "line one\nline two" || r.Title != "R" || r.Source != "a/ref.txt" {
		t.Errorf("reference arrived as %+v", r)
	}
}

func TestSameContentIsANoOpAndTheLatestVersionWins(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	v := func(s string) queue.Item { return queue.Item{Document: document.Document{ID: "d", Content: s}} }
	a, err := q.Enqueue(ctx, v("one"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Enqueue(ctx, v("one"))
	if err != nil {
		t.Fatal(err)
	}
	if !b[0].Duplicate || b[0].JobID != a[0].JobID {
		t.Fatalf("same content again: %+v, first %+v; want a duplicate of the first job", b[0], a[0])
	}
	c, err := q.Enqueue(ctx, v("two"))
	if err != nil {
		t.Fatal(err)
	}
	if c[0].Duplicate || c[0].JobID == a[0].JobID {
		t.Fatalf("new content: %+v; want a new job", c[0])
	}
	// "one" again while its job still waits: a duplicate, and the latest
	// again, so "one" is what the document ends as.
	d, err := q.Enqueue(ctx, v("one"))
	if err != nil {
		t.Fatal(err)
	}
	if !d[0].Duplicate || d[0].JobID != a[0].JobID {
		t.Fatalf("first content again: %+v", d[0])
	}
	start(t, q)
	waitCounts(t, q, 1)
	st, err := q.Status(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if st["d"].State != queue.Stored || st["d"].JobID != a[0].JobID {
		t.Errorf("status %+v; want stored by job %d", st["d"], a[0].JobID)
	}
	got, _ := fake.doc("d")
	if got.Content != "one" || fake.calls("d") != 1 {
		t.Errorf("store holds %q after %d submissions; want \"one\" once (the superseded job applies nothing)", got.Content, fake.calls("d"))
	}
	// Once its job has completed, the same content again makes a job
	// that finds it unchanged.
	waitJobsFinal(t, pool)
	if _, err := q.Enqueue(ctx, v("one")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unchanged", func() bool {
		st, err := q.Status(ctx, "d")
		return err == nil && st["d"].State == queue.Unchanged
	})
}

func TestEnqueueTxCommitsWithTheCallersRows(t *testing.T) {
	pool := newPool(t)
	q := newQueue(t, pool, newFake(), queue.Options{})
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE upload (id text PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for _, commit := range []bool{false, true} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprint("doc-", commit)
		if _, err := tx.Exec(ctx, "INSERT INTO upload VALUES ($1)", id); err != nil {
			t.Fatal(err)
		}
		if _, err := q.EnqueueTx(ctx, tx, queue.Item{Document: document.Document{ID: id, Content: "text"}}); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		var jobs, uploads int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM river_job WHERE args->>'id' = $1), (SELECT count(*) FROM upload WHERE id = $1)`, id).Scan(&jobs, &uploads); err != nil {
			t.Fatal(err)
		}
		st, err := q.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if commit {
			want = 1
		}
		if jobs != want || uploads != want || len(st) != want {
			t.Errorf("commit=%v: %d jobs, %d rows, %d statuses; want %d of each", commit, jobs, uploads, len(st), want)
		}
	}
}

func TestInvalidItemsEnqueueNothing(t *testing.T) {
	pool := newPool(t)
	q := newQueue(t, pool, newFake(), queue.Options{MaxInlineBytes: 10})
	ctx := context.Background()
	good := queue.Item{Document: document.Document{ID: "ok", Content: "fine"}}
	for _, tc := range []struct {
		item queue.Item
		want error
	}{
		{queue.Item{}, queue.ErrInvalidItem},
		{queue.Item{Document: document.Document{ID: "x", Content: "c"}, Path: "p"}, queue.ErrInvalidItem},
		{queue.Item{Path: "p"}, queue.ErrInvalidItem},
		{queue.Item{Document: document.Document{Content: "far more than ten bytes"}}, queue.ErrTooLarge},
		{queue.Item{Document: document.Document{Content: "bad \xff"}}, document.ErrInvalidUTF8},
		{queue.Item{Document: document.Document{Content: "meta", Metadata: map[string]any{"_x": 1}}}, document.ErrInvalidDocument},
	} {
		_, err := q.Enqueue(ctx, good, tc.item)
		if !errors.Is(err, tc.want) {
			t.Errorf("Enqueue(%+v) = %v; want %v", tc.item, err, tc.want)
		}
	}
	if _, err := q.EnqueueDelete(ctx, ""); !errors.Is(err, queue.ErrInvalidItem) {
		t.Errorf("EnqueueDelete(\"\") = %v; want ErrInvalidItem", err)
	}
	c, err := q.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total() != 0 {
		t.Errorf("counts %+v after refused calls; want nothing enqueued", c)
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{FS: fstest.MapFS{"empty.txt": {Data: []byte("  ")}}})
	ctx := context.Background()
	if _, err := q.Enqueue(ctx,
		queue.Item{Document: document.Document{ID: "missing"}, Path: "missing.txt"},
		queue.Item{Document: document.Document{ID: "empty"}, Path: "empty.txt"},
	); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	c := waitCounts(t, q, 2)
	if c.Failed != 2 {
		t.Fatalf("counts %+v; want 2 failed", c)
	}
	st, err := q.Status(ctx, "missing", "empty")
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range st {
		if s.Attempts != 1 || s.Err == "" {
			t.Errorf("%s: %+v; want failed after 1 attempt, with the error", id, s)
		}
	}
	states := waitJobsFinal(t, pool)
	for _, s := range states {
		if s != "cancelled" {
			t.Errorf("River job states %v; want cancelled (never retried)", states)
			break
		}
	}
}

var errFlaky = errors.New("flaky provider")

func TestRetryableErrorIsRetriedThenFailsForGood(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	fake.fail = func(d document.Document, call int) error {
		if d.ID == "always" || call == 1 {
			return errFlaky
		}
		return nil
	}
	q := newQueue(t, pool, fake, queue.Options{MaxAttempts: 2})
	ctx := context.Background()
	if _, err := q.Enqueue(ctx,
		queue.Item{Document: document.Document{ID: "once", Content: "recovers on the second attempt"}},
		queue.Item{Document: document.Document{ID: "always", Content: "never recovers"}},
	); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	waitCounts(t, q, 2)
	st, err := q.Status(ctx, "once", "always")
	if err != nil {
		t.Fatal(err)
	}
	if s := st["once"]; s.State != queue.Stored || s.Attempts != 2 || s.Err != "" {
		t.Errorf("once: %+v; want stored on attempt 2, no error", s)
	}
	if s := st["always"]; s.State != queue.Failed || s.Attempts != 2 || s.Err == "" {
		t.Errorf("always: %+v; want failed after 2 attempts with its error", s)
	}
	if fake.calls("always") != 2 {
		t.Errorf("always submitted %d times; want 2", fake.calls("always"))
	}
}

func TestDeleteIsOrderedWithIngestion(t *testing.T) {
	pool := newPool(t)
	fake := newFake()
	q := newQueue(t, pool, fake, queue.Options{})
	ctx := context.Background()
	if _, err := q.Enqueue(ctx, queue.Item{Document: document.Document{ID: "gone", Content: "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.EnqueueDelete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(ctx, queue.Item{Document: document.Document{ID: "back", Content: "y"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.EnqueueDelete(ctx, "back"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(ctx, queue.Item{Document: document.Document{ID: "back", Content: "z"}}); err != nil {
		t.Fatal(err)
	}
	start(t, q)
	waitCounts(t, q, 2)
	st, err := q.Status(ctx, "gone", "back")
	if err != nil {
		t.Fatal(err)
	}
	if st["gone"].State != queue.Deleted || st["back"].State != queue.Stored {
		t.Errorf("statuses %+v; want gone deleted, back stored", st)
	}
	if _, ok := fake.doc("gone"); ok {
		t.Error("gone still stored")
	}
	if d, _ := fake.doc("back"); d.Content != "z" {
		t.Errorf("back holds %q; want the version enqueued last", d.Content)
	}
}

// waitJobsFinal waits until River has recorded every job's end (it does
// so in batches, after the worker returns) and returns their states.
func waitJobsFinal(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	var states []string
	waitFor(t, "River to finish its jobs", func() bool {
		var running int
		if err := pool.QueryRow(context.Background(), `SELECT array_agg(state::text), count(*) FILTER (WHERE state NOT IN ('completed', 'cancelled', 'discarded')) FROM river_job`).Scan(&states, &running); err != nil {
			t.Fatal(err)
		}
		return running == 0
	})
	return states
}
