package flat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
	"github.com/ragkit-go/rag/store/storetest"
)

// BenchmarkSearch measures top-10 search over 50,000 random vectors of 384
// dimensions: exact, quantized, and with filters that match 10% of the
// records (Eq on metadata, In on the document ID).
func BenchmarkSearch(b *testing.B) {
	const n, dim = 50_000, 384
	rng := rand.New(rand.NewPCG(1, 1))
	docs := make([]store.StoredDocument, n)
	for i := range docs {
		id := fmt.Sprint(i)
		docs[i] = store.StoredDocument{ID: id, Records: []store.Record{{
			ID: id, DocID: id, Vector: randVec(rng, dim),
			Metadata: map[string]any{"bucket": float64(i % 10)},
		}}}
	}
	ids := make([]string, 0, n/10)
	for i := 0; i < n; i += 10 {
		ids = append(ids, fmt.Sprint(i))
	}
	ctx := context.Background()
	for _, quantize := range []bool{false, true} {
		s, err := flat.New(flat.Options{Quantize: quantize})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Upsert(ctx, docs); err != nil {
			b.Fatal(err)
		}
		q := randVec(rng, dim)
		for _, f := range []struct {
			name   string
			filter *store.Filter
		}{
			{"all", nil},
			{"eq10%", store.Eq("bucket", 3)},
			{"in10%", store.In(store.FieldDocID, ids...)},
		} {
			b.Run(fmt.Sprintf("quantize=%v/filter=%s", quantize, f.name), func(b *testing.B) {
				b.SetBytes(int64(n * dim * 4))
				for b.Loop() {
					if _, err := s.Search(ctx, store.Query{Vector: q, TopK: 10, Filter: f.filter}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		s.Close()
	}
}

// BenchmarkUpsert: see storetest.BenchUpsert.
//
//	go test ./store/flat -run '^$' -bench BenchmarkUpsert -count 8
func BenchmarkUpsert(b *testing.B) {
	storetest.BenchUpsert(b, func(b *testing.B) store.Store {
		s, err := flat.New(flat.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
