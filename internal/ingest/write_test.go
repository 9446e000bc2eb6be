package ingest_test

import (
	"context"
	"math"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// ingestAll runs documents through a stream on cfg and fails unless each
// is stored.
func ingestAll(t *testing.T, cfg *ingest.Config, docs ...document.Document) {
	t.Helper()
	ctx := context.Background()
	st := ingest.Start(ctx, cfg)
	for _, d := range docs {
		if err := st.Submit(ctx, d, func(r ingest.Result) {
			if r.Status != ingest.Stored {
				t.Errorf("%s: %+v, want stored", r.ID, r)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// chromemConfig returns an in-memory chromem store, closed when t ends,
// and config on it, with its request counter.
func chromemConfig(t *testing.T) (*chromem.Store, *ingest.Config, *atomic.Int64) {
	t.Helper()
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	requests := new(atomic.Int64)
	return s, config(s, requests), requests
}

// storedVectors returns the vector of every record of s by record ID.
func storedVectors(t *testing.T, s store.Store, dim int) map[string][]float32 {
	t.Helper()
	q := make([]float32, dim)
	q[0] = 1
	rs, err := s.Search(context.Background(), store.Query{Vector: q, TopK: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for _, r := range rs {
		out[r.ID] = r.Vector
	}
	return out
}

func near(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5*math.Max(1, math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

// An embedder that answers several texts of one request with one slice
// (the caller owns it, as the Embedder contract says) still gets each
// record its own vector, although the store scales the vectors it takes
// in place: a vector scaled twice would no longer be the embedder's. The
// two documents' records may be in one request and in two writes.
func TestWriteAliasedVectors(t *testing.T) {
	s, cfg, _ := chromemConfig(t)
	cfg.Dimension = &ingest.Dimension{}
	cfg.Embed = func(_ context.Context, texts []string, _ int) ([][]float32, int, error) {
		one := []float32{3, 4, 0, 0}
		vecs := make([][]float32, len(texts))
		for i := range vecs {
			vecs[i] = one
		}
		return vecs, 1, cfg.Dimension.Check(vecs, len(texts))
	}
	ingestAll(t, cfg,
		document.Document{ID: "a", Content: "one\n\ntwo\n\nthree"},
		document.Document{ID: "b", Content: "four\n\nfive"})
	got := storedVectors(t, s, 4)
	if len(got) != 5 {
		t.Fatalf("store holds %d records, want 5", len(got))
	}
	for id, v := range got {
		if !near(v, []float32{3, 4, 0, 0}) {
			t.Errorf("record %s: vector %v, want the embedder's [3 4 0 0]", id, v)
		}
	}
}

// The cache and the store never share a vector: after a store took the
// vectors of one ingestion (scaling them to unit length in place), the
// cache still returns the embedder's vectors, and a second document made
// of cached texts is stored with them too.
func TestWriteCacheNotAliased(t *testing.T) {
	s, cfg, requests := chromemConfig(t)
	const dim = 8
	// Not unit vectors, so that a vector scaled by the store shows.
	raw := func(text string) []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(len(text)+i) * 1.5
		}
		return v
	}
	cfg.Dimension = &ingest.Dimension{}
	cfg.Embed = func(_ context.Context, texts []string, _ int) ([][]float32, int, error) {
		requests.Add(1)
		vecs := make([][]float32, len(texts))
		for i, text := range texts {
			vecs[i] = raw(text)
		}
		return vecs, 1, cfg.Dimension.Check(vecs, len(texts))
	}
	cache := embed.NewMemoryCache(0)
	cfg.Cache = cache
	texts := []string{"alpha", "beta gamma", "delta epsilon zeta"}
	content := texts[0] + "\n\n" + texts[1] + "\n\n" + texts[2]
	ingestAll(t, cfg, document.Document{ID: "a", Content: content})
	before := requests.Load()
	ingestAll(t, cfg, document.Document{ID: "b", Content: content})
	if n := requests.Load() - before; n != 0 {
		t.Fatalf("document b made %d embedding requests, want 0 (all its texts cached)", n)
	}
	for _, text := range texts {
		v, ok := cache.Get(context.Background(), embed.CacheKey(cfg.Model, text))
		if !ok || !slices.Equal(v, raw(text)) {
			t.Errorf("cache holds %v for %q (found %v), want the embedder's %v", v, text, ok, raw(text))
		}
	}
	got := storedVectors(t, s, dim)
	for _, doc := range []string{"a", "b"} {
		for i, text := range texts {
			id := document.RecordID(doc, i)
			if !near(got[id], raw(text)) {
				t.Errorf("record %s: vector %v, want the embedder's %v", id, got[id], raw(text))
			}
		}
	}
	if len(got) != 2*len(texts) {
		t.Errorf("store holds %d records, want %d", len(got), 2*len(texts))
	}
}
