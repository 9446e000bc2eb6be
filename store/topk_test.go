package store_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
)

func TestCosine(t *testing.T) {
	for _, tc := range []struct {
		a, b []float32
		want float64
	}{
		{[]float32{1, 0}, []float32{5, 0}, 1},
		{[]float32{1, 0}, []float32{0, 2}, 0},
		{[]float32{1, 1}, []float32{-3, -3}, -1},
		{[]float32{1, 2, 3}, []float32{4, 5, 6}, 32 / (math.Sqrt(14) * math.Sqrt(77))},
		{[]float32{0, 0}, []float32{1, 1}, 0},
		{[]float32{1e-30, 0}, []float32{1e30, 1e30}, 1 / math.Sqrt2},
		{[]float32{1}, []float32{1, 2}, 0},
	} {
		if got := store.Cosine(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Cosine(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TopK keeps exactly the first k of a full sort by CompareResults.
func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := rng.IntN(60)
		var all []store.Result
		for i := range n {
			// Few distinct scores, so ties are common.
			all = append(all, store.Result{Record: store.Record{ID: fmt.Sprintf("r%03d", rng.IntN(1000)*1000+i)}, Score: float32(rng.IntN(5)) / 4})
		}
		for _, k := range []int{1, 3, 10, 100} {
			top := store.NewTopK(k)
			for _, r := range all {
				top.Push(r)
			}
			if top.Full() != (n >= k) {
				t.Errorf("Full() = %v with %d of %d", top.Full(), n, k)
			}
			got := top.Results()
			want := slices.Clone(all)
			store.SortResults(want)
			want = want[:min(k, n)]
			if !slices.EqualFunc(got, want, func(a, b store.Result) bool { return a.ID == b.ID && a.Score == b.Score }) {
				t.Fatalf("k=%d: TopK kept %v, want %v", k, got, want)
			}
		}
	}
	if top := store.NewTopK(0); func() int {
		for i := range 20 {
			top.Push(store.Result{Record: store.Record{ID: fmt.Sprint(i)}})
		}
		return len(top.Results())
	}() != store.DefaultTopK {
		t.Errorf("NewTopK(0) does not keep DefaultTopK results")
	}
}

// BruteForce filters, scores by cosine, orders by score then ID, and
// returns copies.
func TestBruteForce(t *testing.T) {
	recs := []store.Record{
		{ID: "b", Vector: []float32{1, 0}, Tags: []string{"x"}},
		{ID: "a", Vector: []float32{2, 0}, Tags: []string{"x"}},
		{ID: "c", Vector: []float32{0, 1}},
		{ID: "d", Vector: []float32{-1, 0}, Tags: []string{"x"}},
	}
	got := store.BruteForce(recs, store.Query{Vector: []float32{1, 0}, TopK: 3, Filter: store.Eq(store.FieldTags, "x")})
	var ids []string
	for _, r := range got {
		ids = append(ids, fmt.Sprintf("%s:%v", r.ID, r.Score))
	}
	if want := []string{"a:1", "b:1", "d:-1"}; !slices.Equal(ids, want) {
		t.Errorf("BruteForce = %v, want %v", ids, want)
	}
	got[0].Tags[0] = "mutated"
	got[0].Vector[0] = 42
	if recs[1].Tags[0] != "x" || recs[1].Vector[0] != 2 {
		t.Errorf("BruteForce results alias the input records")
	}
	if n := len(store.BruteForce(recs, store.Query{Vector: []float32{1, 0}})); n != 4 {
		t.Errorf("TopK 0 returned %d of 4 records", n)
	}
}
