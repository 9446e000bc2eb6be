package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// A persistent store, closed and opened again, holds exactly what it held
// (deleted documents stay deleted, replaced ones hold only their last
// version, hashes and typed metadata survive), searches it exactly (and
// lists its documents exactly, if it is a store.Lister), and still knows
// its dimension.
func (s *suite) reopen(t *testing.T) {
	if s.opts.Reopen == nil {
		t.Skip("store is not persistent (Options.Reopen is nil)")
	}
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := g.filterData(20, 5)
	s.loadModel(t, st, m)
	// Replace, shrink, delete, empty-upsert, then reopen.
	a := g.doc("doc-01", 2)
	a.Records[0].Metadata = map[string]any{"when": time.Date(2023, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -3600)), "l": []string{"p", "q"}, "b": true, "f": 1.5}
	m.put(a)
	upsert(t, st, a)
	m.del("doc-02", "doc-03")
	if err := st.Delete(context.Background(), "doc-02"); err != nil {
		t.Fatal(err)
	}
	upsert(t, st, store.StoredDocument{ID: "doc-03"})
	checkContents(t, st, m, s.dim)

	st = s.opts.Reopen(t, st)
	checkContents(t, st, m, s.dim)
	if l, ok := st.(store.Lister); ok {
		for _, f := range []*store.Filter{nil, store.Exists("date"), store.Gte("year", 2022)} {
			checkList(t, l, m, f, "after reopening")
		}
	}
	ids := make([]string, 0, len(m)+1)
	for id := range m {
		ids = append(ids, id)
	}
	ids = append(ids, "doc-02")
	h, err := st.Hashes(context.Background(), ids...)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(m) {
		t.Errorf("after reopening, Hashes reports %d documents, want %d", len(h), len(m))
	}
	for id, d := range m {
		if h[id] != d.Hash {
			t.Errorf("after reopening, Hashes(%s) = %q, want %q", id, h[id], d.Hash)
		}
	}
	recs := m.records()
	for range 10 {
		q := g.query(t, recs)
		f := g.randomFilter(2)
		for _, k := range []int{1, 5, all} {
			checkResults(t, search(t, st, store.Query{Vector: q, TopK: k, Filter: f}),
				store.BruteForce(recs, store.Query{Vector: q, TopK: k, Filter: f}), fmt.Sprintf("after reopening: filter %s, TopK %d", f, k))
		}
	}

	// The reopened store keeps its dimension and accepts writes that
	// survive another reopen.
	wrong := newGen(t, s.dim+1)
	if err := st.Upsert(context.Background(), []store.StoredDocument{wrong.doc("new", 1)}); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("after reopening, Upsert of %d dimensions into a store of %d: %v, want ErrDimensionMismatch", s.dim+1, s.dim, err)
	}
	n := g.doc("new", 3)
	m.put(n)
	upsert(t, st, n)
	m.del("doc-04")
	if err := st.Delete(context.Background(), "doc-04"); err != nil {
		t.Fatal(err)
	}
	st = s.opts.Reopen(t, st)
	checkContents(t, st, m, s.dim)
}
