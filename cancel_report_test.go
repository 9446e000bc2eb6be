package rag_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
)

// TestCancelReportMatchesStore: an Ingest cancelled at a random moment
// reports a document Stored if and only if the store holds it, for every
// store of the module, 20 rounds each (issue: a persistent chromem store
// held documents the report called Failed). The moment is an embedding
// call chosen at random, or a write in progress (the cancel comes from
// inside the store's Upsert).
func TestCancelReportMatchesStore(t *testing.T) {
	stores := map[string]func(t *testing.T, round int) store.Store{
		"chromem": func(t *testing.T, _ int) store.Store {
			s, err := chromem.New(chromem.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"chromem-persistent": func(t *testing.T, _ int) store.Store {
			s, err := chromem.New(chromem.Options{Path: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"flat": func(t *testing.T, _ int) store.Store {
			s, err := flat.New(flat.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"pgvector": func(t *testing.T, round int) store.Store {
			return pgvectorStore(t, fmt.Sprintf("rag_cancel_test_%d_%d", os.Getpid(), round))
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			n := 120
			if name == "pgvector" {
				n = 40 // PGlite serves one connection: keep the rounds short
			}
			for round := range 20 {
				t.Run(fmt.Sprint(round), func(t *testing.T) {
					cancelReportRound(t, open(t, round), uint64(round), n)
				})
			}
		})
	}
}

// cancellingStore cancels the ingestion from inside its cut-th Upsert,
// after the write began.
type cancellingStore struct {
	store.Store
	cut    int64
	calls  atomic.Int64
	cancel context.CancelFunc
}

func (s *cancellingStore) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	if s.calls.Add(1) == s.cut {
		go s.cancel() // while the write runs
	}
	return s.Store.Upsert(ctx, docs)
}

func cancelReportRound(t *testing.T, s store.Store, seed uint64, n int) {
	rng := rand.New(rand.NewPCG(seed, 11))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := int64(1 + rng.IntN(3*n/4)) // of the 3n/4 requests (3 chunks a document, 4 a request)
	var calls atomic.Int64
	h := hashing()
	e := embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		if calls.Add(1) == at {
			cancel()
		}
		return h.Embed(ctx, texts)
	})
	cs := &cancellingStore{Store: s, cut: int64(1 + rng.IntN(6)), cancel: cancel}
	if rng.IntN(2) == 0 {
		cs.cut = -1 // cancel at an embedding call only
	} else {
		at = -1 // cancel during a write only
	}
	p := newPipeline(t, e, func(o *rag.Options) {
		o.Store = cs
		o.Ingest.BatchSize = 4
	})
	docs := threeParagraphs(n, "v1")
	rep, _ := p.Ingest(ctx, docs...)
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	have, err := s.Hashes(context.Background(), ids...)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]rag.Status{}
	for _, d := range rep.Documents {
		if _, dup := reported[d.ID]; dup {
			t.Errorf("%s reported twice", d.ID)
		}
		reported[d.ID] = d.Status
	}
	if len(reported) != len(docs) {
		t.Errorf("%d documents reported, want %d", len(reported), len(docs))
	}
	for _, id := range ids {
		_, in := have[id]
		if in != (reported[id] == rag.Stored) {
			t.Errorf("%s: in the store %v, reported %v", id, in, reported[id])
		}
	}
}
