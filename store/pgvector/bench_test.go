package pgvector_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
)

// BenchmarkSearch compares exact search with approximate (HNSW) search on
// 10,000 random vectors of 128 dimensions, unfiltered and with a filter
// that admits about 10% of the rows.
//
//	RAG_PG_DSN=... go test -run '^$' -bench Search ./store/pgvector/
func BenchmarkSearch(b *testing.B) {
	const n, dim = 10000, 128
	name := newTable(b)
	s := newStore(b, pgvector.Options{Table: name, Dimensions: dim, DeferIndex: true})
	rng := rand.New(rand.NewPCG(42, 42))
	for start := 0; start < n; start += 1000 {
		var docs []store.StoredDocument
		for i := start; i < start+1000; i++ {
			id := fmt.Sprintf("v%05d", i)
			docs = append(docs, store.StoredDocument{ID: id, Records: []store.Record{{
				ID: id, DocID: id, Text: id, Vector: randVec(rng, dim),
				Metadata: map[string]any{"bucket": float64(i % 10)},
			}}})
		}
		if err := s.Upsert(ctx, docs); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.CreateIndex(ctx); err != nil {
		b.Fatal(err)
	}
	approx := newStore(b, pgvector.Options{Table: name, Approximate: true})
	for _, bc := range []struct {
		name   string
		s      *pgvector.Store
		filter *store.Filter
	}{
		{"exact", s, nil},
		{"exact/filter10%", s, store.Eq("bucket", 3)},
		{"hnsw-ef40", approx, nil},
		{"hnsw-ef40/filter10%", approx, store.Eq("bucket", 3)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := store.Query{Vector: randVec(rng, dim), TopK: 10, Filter: bc.filter}
			for b.Loop() {
				if _, err := bc.s.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
