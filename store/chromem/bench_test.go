package chromem_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
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

// BenchmarkUpsert: an in-memory store replacing 64 documents of 4 records
// of 1,536 dimensions a call, as the pipeline writes them, with Upsert
// (which copies each vector into its unit vector) and with
// UpsertTakingVectors (which scales the caller's in place). Each call
// writes fresh vectors, as the pipeline's are freshly decoded: their
// making is in both figures.
//
//	go test ./store/chromem -run '^$' -bench BenchmarkUpsert -count 8
func BenchmarkUpsert(b *testing.B) {
	const docs, perDoc, dim = 64, 4, 1536
	rng := rand.New(rand.NewPCG(1, 2))
	template := make([]store.StoredDocument, docs)
	for i := range template {
		d := store.StoredDocument{ID: fmt.Sprintf("doc-%03d", i), Hash: "h"}
		for c := range perDoc {
			v := make([]float32, dim)
			for j := range v {
				v[j] = rng.Float32()*2 - 1
			}
			d.Records = append(d.Records, store.Record{
				ID: fmt.Sprintf("doc-%03d#%d", i, c), DocID: d.ID, Chunk: c, Vector: v,
				Text: "some chunk text", Source: "file://" + d.ID, Title: "Title",
			})
		}
		template[i] = d
	}
	fresh := func() []store.StoredDocument {
		out := make([]store.StoredDocument, len(template))
		for i, d := range template {
			out[i] = store.StoredDocument{ID: d.ID, Hash: d.Hash, Records: make([]store.Record, len(d.Records))}
			for j, r := range d.Records {
				r.Vector = append([]float32(nil), r.Vector...)
				out[i].Records[j] = r
			}
		}
		return out
	}
	for _, m := range []struct {
		name   string
		upsert func(*chromem.Store, context.Context, []store.StoredDocument) error
	}{
		{"Upsert", (*chromem.Store).Upsert},
		{"UpsertTakingVectors", (*chromem.Store).UpsertTakingVectors},
	} {
		b.Run(m.name, func(b *testing.B) {
			s := open(b, chromem.Options{})
			b.ReportAllocs()
			for b.Loop() {
				if err := m.upsert(s, context.Background(), fresh()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*docs*perDoc), "ns/record")
		})
	}
}
