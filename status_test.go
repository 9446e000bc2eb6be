package rag_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed/embedtest"
)

func TestStatus(t *testing.T) {
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: &embedtest.Fake{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest(ctx, rag.Document{ID: "a", Content: "first"}, rag.Document{ID: "b", Content: "second"}); err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(ctx, "b", "missing", "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 4 || st[0].ID != "b" || st[1].ID != "missing" || st[2].ID != "a" || st[3] != st[0] {
		t.Fatalf("statuses %+v, want one per ID in order", st)
	}
	if !st[0].Stored || !st[2].Stored || st[1].Stored || st[1].Hash != "" || st[0].Hash == "" || st[0].Hash == st[2].Hash {
		t.Fatalf("statuses %+v", st)
	}

	// Unchanged content keeps its hash; changed content changes it.
	if _, err := p.Ingest(ctx, rag.Document{ID: "a", Content: "first"}, rag.Document{ID: "b", Content: "second, edited"}); err != nil {
		t.Fatal(err)
	}
	again, err := p.Status(ctx, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if again[0] != st[2] || again[1].Hash == st[0].Hash || !again[1].Stored {
		t.Fatalf("after re-ingesting: %+v, before %+v", again, st)
	}

	if err := p.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.Status(ctx, "a"); st[0].Stored {
		t.Fatal("a deleted document is reported stored")
	}
	if st, err := p.Status(ctx); err != nil || len(st) != 0 {
		t.Fatalf("no IDs: %v, %v", st, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Status(cctx, "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
