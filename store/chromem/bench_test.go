package chromem_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/storetest"
)

// fill writes n records of dim dimensions, 10 to a document, with a "pct"
// metadata field in [0, 100) for filters.
func fill(b *testing.B, s *chromem.Store, n, dim int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var batch []store.StoredDocument
	for i := 0; i < n/10; i++ {
		d := store.StoredDocument{ID: fmt.Sprintf("doc-%06d", i), Hash: "h"}
		for c := range 10 {
			v := make([]float32, dim)
			for j := range v {
				v[j] = rng.Float32()*2 - 1
			}
			d.Records = append(d.Records, store.Record{
				ID: fmt.Sprintf("doc-%06d#%d", i, c), DocID: d.ID, Chunk: c, Vector: v,
				Text:     "some chunk text of a typical length, a few hundred bytes in real use",
				Metadata: map[string]any{"pct": float64(rng.IntN(100))},
			})
		}
		batch = append(batch, d)
		if len(batch) == 500 {
			if err := s.Upsert(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Upsert(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReopen measures New on a directory holding 100,000 records of
// 1,536 dimensions (10 a document: 10,000 files, 615 MB of vectors).
func BenchmarkReopen(b *testing.B) {
	dir := b.TempDir()
	s := open(b, chromem.Options{Path: dir, NoSync: true})
	fill(b, s, 100_000, 1536)
	s.Close()
	for b.Loop() {
		s := open(b, chromem.Options{Path: dir})
		if s.Len() != 100_000 {
			b.Fatalf("reopened %d records", s.Len())
		}
		s.Close()
	}
	b.ReportMetric(100_000, "records")
}

// BenchmarkSearch measures exact search among 100,000 records of 1,536
// dimensions: unfiltered, and with filters matching 50% and 1% of them.
func BenchmarkSearch(b *testing.B) {
	s := open(b, chromem.Options{})
	defer s.Close()
	fill(b, s, 100_000, 1536)
	q := make([]float32, 1536)
	for i := range q {
		q[i] = float32(i%7) - 3
	}
	for _, tc := range []struct {
		name string
		f    *store.Filter
	}{
		{"all", nil},
		{"filter50pct", store.Lt("pct", 50)},
		{"filter1pct", store.Eq("pct", 7)},
		{"doc", store.Eq(store.FieldDocID, "doc-004242")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				rs, err := s.Search(context.Background(), store.Query{Vector: q, TopK: 10, Filter: tc.f})
				if err != nil || len(rs) != 10 {
					b.Fatalf("%d results, %v", len(rs), err)
				}
			}
		})
	}
}

// BenchmarkUpsert: see storetest.BenchUpsert.
//
//	go test ./store/chromem -run '^$' -bench BenchmarkUpsert -count 8
func BenchmarkUpsert(b *testing.B) {
	storetest.BenchUpsert(b, func(b *testing.B) store.Store { return open(b, chromem.Options{}) })
}
