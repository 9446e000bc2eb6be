package rag_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed/embedtest"
)

// Documents submitted one at a time from many goroutines still share
// embedding requests, and each one's outcome comes back to its own done.
func TestStreamPacksDocumentsFromManySubmitters(t *testing.T) {
	fake := &embedtest.Fake{}
	p := newPipeline(t, fake)
	ctx := context.Background()
	s := p.Stream(ctx)
	const n = 40
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[string]rag.DocumentResult{}
	)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprint("doc-", i)
			err := s.Submit(ctx, rag.Document{ID: id, Content: fmt.Sprintf("text of document %d", i)}, func(r rag.DocumentResult) {
				mu.Lock()
				results[r.ID] = r
				mu.Unlock()
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(results) != n {
		t.Fatalf("%d results; want %d", len(results), n)
	}
	for id, r := range results {
		if r.Status != rag.Stored || r.Chunks != 1 || r.Err != nil {
			t.Errorf("%s: %+v; want stored, 1 chunk", id, r)
		}
		if len(chunksOf(t, p, id)) != 1 {
			t.Errorf("%s: not in the store", id)
		}
	}
	if fake.Calls() >= n {
		t.Errorf("%d embedding requests for %d one-chunk documents; want them packed", fake.Calls(), n)
	}
	// The same documents again: unchanged, nothing embedded.
	calls := fake.Calls()
	s = p.Stream(ctx)
	done := make(chan rag.DocumentResult, 1)
	if err := s.Submit(ctx, rag.Document{ID: "doc-3", Content: "text of document 3"}, func(r rag.DocumentResult) { done <- r }); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.Status != rag.Unchanged {
		t.Errorf("again: %+v; want unchanged", r)
	}
	// A bad document fails alone, with a *DocumentError.
	if err := s.Submit(ctx, rag.Document{ID: "bad", Content: "  "}, func(r rag.DocumentResult) { done <- r }); err != nil {
		t.Fatal(err)
	}
	r := <-done
	var de *rag.DocumentError
	if r.Status != rag.Failed || !errors.As(r.Err, &de) || de.DocID != "bad" || !errors.Is(r.Err, rag.ErrEmptyContent) {
		t.Errorf("empty document: %+v; want failed with a *DocumentError matching ErrEmptyContent", r)
	}
	if err := s.Delete(ctx, "doc-3"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(ctx, rag.Document{Content: "late"}, func(rag.DocumentResult) {}); err == nil {
		t.Error("Submit after Close succeeded")
	}
	if fake.Calls() != calls {
		t.Errorf("%d more requests for unchanged and invalid documents; want none", fake.Calls()-calls)
	}
	if len(chunksOf(t, p, "doc-3")) != 0 {
		t.Error("doc-3 still stored after Delete")
	}
}

// A shared budget is waited on before every embedding request.
func TestSharedBudgetIsWaitedOn(t *testing.T) {
	lim := &countingLimiter{}
	p := newPipeline(t, &embedtest.Fake{}, func(o *rag.Options) { o.Ingest.SharedBudget = lim })
	rep, err := p.Ingest(context.Background(), rag.Document{Content: "one"}, rag.Document{Content: "two"})
	if err != nil {
		t.Fatal(err)
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.calls != rep.Requests || lim.tokens != rep.Tokens || lim.calls == 0 {
		t.Errorf("limiter saw %d requests of %d tokens; the report says %d of %d", lim.calls, lim.tokens, rep.Requests, rep.Tokens)
	}
}

type countingLimiter struct {
	mu            sync.Mutex
	calls, tokens int
}

func (l *countingLimiter) Wait(ctx context.Context, tokens int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	l.tokens += tokens
	return nil
}

// TestTenantStream: a tenant's stream writes into the tenant's documents
// only, and its Delete deletes only the tenant's.
func TestTenantStream(t *testing.T) {
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: &embedtest.Fake{}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Ingest(ctx, rag.Document{ID: "d", Content: "the default tenant's text"}); err != nil {
		t.Fatal(err)
	}
	acme, err := p.Tenant("acme")
	if err != nil {
		t.Fatal(err)
	}
	s := acme.Stream(ctx)
	done := make(chan rag.DocumentResult, 1)
	if err := s.Submit(ctx, rag.Document{ID: "d", Content: "acme's own text"}, func(r rag.DocumentResult) { done <- r }); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.Status != rag.Stored {
		t.Fatalf("acme's document: %+v, want stored", r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	hits, err := acme.Search(ctx, "text", nil)
	if err != nil || len(hits) != 1 || hits[0].Text != "acme's own text" {
		t.Fatalf("acme's search: %v, %v; want acme's document alone", hits, err)
	}
	s = acme.Stream(ctx)
	if err := s.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, err := p.Status(ctx, "d")
	if err != nil || !st[0].Stored {
		t.Fatalf("default tenant's d after acme deleted its own: %+v, %v; want stored", st, err)
	}
	if st, _ := acme.Status(ctx, "d"); st[0].Stored {
		t.Errorf("acme's d is still stored after its stream deleted it")
	}
}
