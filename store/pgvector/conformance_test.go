package pgvector_test

import (
	"context"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
	"github.com/ragkit-go/rag/store/storetest"
)

// reopen closes s and opens the same table again on the same pool.
func reopen(opts pgvector.Options) func(t *testing.T, s store.Store) store.Store {
	return func(t *testing.T, s store.Store) store.Store {
		ps := s.(*pgvector.Store)
		o := opts
		o.Table = ps.Table()[1 : len(ps.Table())-1] // unquote the unqualified name
		if err := ps.Close(); err != nil {
			t.Fatal(err)
		}
		s2, err := pgvector.New(context.Background(), testPool(t), o)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	}
}

// TestConformance runs the store.Store conformance suite, each subtest on
// a fresh table whose dimension the first Upsert sets.
func TestConformance(t *testing.T) {
	testPool(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, pgvector.Options{})
	}, storetest.Options{Reopen: reopen(pgvector.Options{})})
}

// TestConformanceFixedDimensions runs the suite on tables created by New
// with a fixed dimension, and without the HNSW index, to show that exact
// search does not depend on it.
func TestConformanceFixedDimensions(t *testing.T) {
	testPool(t)
	opts := pgvector.Options{Dimensions: 24, DeferIndex: true}
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, opts)
	}, storetest.Options{Dimensions: 24, Reopen: reopen(opts)})
}
