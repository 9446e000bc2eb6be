package chromem_test

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// With NoSync, an UpsertTakingVectors that fails after writing some
// documents keeps copies of their vectors, not the vectors it was handed:
// the caller still owns them after an error, and changing them changes
// nothing stored.
func TestTakeVectorsPartialWrite(t *testing.T) {
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir, NoSync: true})
	vec := func(x float32) []float32 { return []float32{x, 2, 3, 4} }
	rec := func(doc string, v []float32) store.Record {
		return store.Record{ID: doc + "#0", DocID: doc, Text: "text of " + doc, Vector: v}
	}
	// The file of document b cannot be written: a directory holds its name.
	if err := os.MkdirAll(chromem.DocFile(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := vec(1), vec(5)
	err := s.UpsertTakingVectors(context.Background(), []store.StoredDocument{
		{ID: "a", Hash: "ha", Records: []store.Record{rec("a", a)}},
		{ID: "b", Hash: "hb", Records: []store.Record{rec("b", b)}},
	})
	if err == nil {
		t.Fatal("UpsertTakingVectors wrote document b over a directory: want an error")
	}
	if !slices.Equal(a, vec(1)) || !slices.Equal(b, vec(5)) {
		t.Fatalf("after a failed call the vectors are %v and %v, want them as they were: %v and %v", a, b, vec(1), vec(5))
	}
	h, err := s.Hashes(context.Background(), "a", "b")
	if err != nil || len(h) != 1 || h["a"] != "ha" {
		t.Fatalf("Hashes = %v, %v; want document a alone, written before b failed", h, err)
	}
	// The caller's vector is still the caller's.
	a[0], a[1] = -100, 100
	rs, err := s.Search(context.Background(), store.Query{Vector: vec(1), TopK: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].ID != "a#0" {
		t.Fatalf("Search = %v, want a#0 alone", rs)
	}
	for i, x := range vec(1) {
		if math.Abs(float64(rs[0].Vector[i]-x)) > 1e-6 {
			t.Fatalf("stored vector of a = %v after the caller changed its own, want %v", rs[0].Vector, vec(1))
		}
	}
	if math.Abs(float64(rs[0].Score)-1) > 1e-6 {
		t.Errorf("score of a against its own vector = %v, want 1", rs[0].Score)
	}
}
