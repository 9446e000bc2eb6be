package chromem_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/storetest"
)

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := chromem.New(chromem.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Options{})
}

func testPersistent(t *testing.T, opts chromem.Options) {
	newStore := func(t *testing.T) store.Store {
		o := opts
		o.Path = t.TempDir()
		s, err := chromem.New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	reopen := func(t *testing.T, st store.Store) store.Store {
		s := st.(*chromem.Store)
		path := s.Path()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Path = path
		s2, err := chromem.New(o)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	}
	storetest.Run(t, newStore, storetest.Options{Reopen: reopen})
}

func TestConformancePersistent(t *testing.T) { testPersistent(t, chromem.Options{}) }

func TestConformancePersistentCompressed(t *testing.T) {
	testPersistent(t, chromem.Options{Compress: true, Collection: "other"})
}

// Filters of every selectivity on a larger store: the over-fetch must grow
// until the filtered top k is exact, including when the few matching
// records score lowest.
func TestSelectiveFilters(t *testing.T) {
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n, dim = 5000, 8
	q := vec(dim, 99)
	var recs []store.Record
	var docs []store.StoredDocument
	for i := range n / 10 {
		d := store.StoredDocument{ID: fmt.Sprintf("d%04d", i)}
		for c := range 10 {
			j := i*10 + c
			v := vec(dim, uint64(j))
			if j%997 == 0 {
				for x := range v {
					v[x] = -q[x] // the rare records are the worst matches
				}
			}
			if j%50 == 7 {
				v = vec(dim, 1234) // ties
			}
			r := store.Record{ID: fmt.Sprintf("r%05d", (j*7919)%n), DocID: d.ID, Chunk: c, Vector: v,
				Metadata: map[string]any{"rare": j%997 == 0, "mod": float64(j % 100), "tie": j%50 == 7}}
			d.Records = append(d.Records, r)
			recs = append(recs, r)
		}
		docs = append(docs, d)
	}
	if err := s.Upsert(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	for _, overFetch := range []bool{false, true} {
		if overFetch {
			defer chromem.ForceOverFetch()()
		}
		searchAll(t, s, recs, q, dim)
	}
}

func searchAll(t *testing.T, s *chromem.Store, recs []store.Record, q []float32, dim int) {
	for _, f := range []*store.Filter{
		nil, store.Eq("rare", true), store.Lt("mod", 1), store.Lt("mod", 50), store.Eq("tie", true),
		store.Or(store.Eq("rare", true), store.Eq("tie", true)), store.Eq(store.FieldDocID, "d0123"),
		store.And(store.Eq(store.FieldDocID, "d0000"), store.Eq("rare", true)), store.Eq("mod", 1000),
	} {
		for _, qv := range [][]float32{q, vec(dim, 1234), make([]float32, dim)} {
			for _, k := range []int{1, 3, 10, 100} {
				query := store.Query{Vector: qv, TopK: k, Filter: f}
				got, err := s.Search(context.Background(), query)
				if err != nil {
					t.Fatal(err)
				}
				want := store.BruteForce(recs, query)
				if !slices.Equal(ids2(got), ids2(want)) {
					t.Errorf("filter %s, k %d: got %v, want %v", f, k, ids2(got), ids2(want))
				}
			}
		}
	}
}

// Vectors far from unit length (components of 1e-30 or 1e30) are scored
// by angle; chromem-go's float32 normalisation alone would underflow or
// overflow to NaN.
func TestExtremeMagnitudes(t *testing.T) {
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := store.StoredDocument{ID: "d"}
	for i, scale := range []float32{1e-30, 1, 1e30} {
		v := []float32{scale, scale * float32(i), 0}
		d.Records = append(d.Records, store.Record{ID: fmt.Sprint(i), DocID: "d", Vector: v})
	}
	if err := s.Upsert(context.Background(), []store.StoredDocument{d}); err != nil {
		t.Fatal(err)
	}
	for _, q := range [][]float32{{1e-30, 0, 0}, {1, 1, 0}, {1e30, 3e30, 1e30}} {
		got, err := s.Search(context.Background(), store.Query{Vector: q, TopK: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := store.BruteForce(d.Records, store.Query{Vector: q, TopK: 3})
		for i := range want {
			if got[i].ID != want[i].ID || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5 {
				t.Errorf("query %v: got %v, want %v", q, got, want)
				break
			}
			if store.Cosine(got[i].Vector, want[i].Vector) < 0.99999 {
				t.Errorf("query %v: record %s came back as %v, written as %v", q, got[i].ID, got[i].Vector, want[i].Vector)
			}
		}
	}
}

// Two documents may use the same record IDs: the store keeps both.
func TestRecordIDsPerDocument(t *testing.T) {
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a := store.StoredDocument{ID: "a", Records: []store.Record{{ID: "0", DocID: "a", Vector: []float32{1, 0}}}}
	b := store.StoredDocument{ID: "b", Records: []store.Record{{ID: "0", DocID: "b", Vector: []float32{0, 1}}}}
	if err := s.Upsert(ctx, []store.StoredDocument{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Search(ctx, store.Query{Vector: []float32{1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].DocID != "b" {
		t.Errorf("after deleting a, search = %+v, want b's record", got)
	}
}

// The conformance suite again with every filtered search going through
// chromem-go's over-fetch (the suite's stores are small enough that the
// store would otherwise score filtered candidates directly).
func TestConformanceOverFetch(t *testing.T) {
	defer chromem.ForceOverFetch()()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := chromem.New(chromem.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Options{Dimensions: 5})
}
