package store

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
)

// Cosine returns the cosine similarity of a and b, computed in float64. It
// is 0 when either vector has no length (a zero vector has no direction) and
// when the lengths of a and b differ.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	c := dot / (math.Sqrt(na) * math.Sqrt(nb))
	// Rounding can push the ratio a hair outside [-1, 1].
	return max(-1, min(1, c))
}

// CompareResults orders results best first: higher Score first, and on
// equal scores the smaller record ID first. It returns a negative number
// when a ranks before b. Every Store returns results in this order.
func CompareResults(a, b Result) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// SortResults sorts rs best first (see CompareResults).
func SortResults(rs []Result) {
	slices.SortFunc(rs, CompareResults)
}

// TopK keeps the best k results pushed into it (see CompareResults), in
// O(log k) a push. The zero value is not usable; call NewTopK. A TopK is not
// safe for concurrent use.
type TopK struct {
	k int
	h resultHeap
}

// NewTopK returns a TopK that keeps k results; k <= 0 means DefaultTopK.
func NewTopK(k int) *TopK {
	if k <= 0 {
		k = DefaultTopK
	}
	return &TopK{k: k, h: make(resultHeap, 0, min(k, 1024))}
}

// Push offers r. It reports whether r was kept (it may be dropped later by
// a better result).
func (t *TopK) Push(r Result) bool {
	if len(t.h) < t.k {
		heap.Push(&t.h, r)
		return true
	}
	if CompareResults(r, t.h[0]) >= 0 {
		return false
	}
	t.h[0] = r
	heap.Fix(&t.h, 0)
	return true
}

// Full reports whether the TopK holds k results.
func (t *TopK) Full() bool { return len(t.h) >= t.k }

// Worst returns the worst result kept and whether there is one.
func (t *TopK) Worst() (Result, bool) {
	if len(t.h) == 0 {
		return Result{}, false
	}
	return t.h[0], true
}

// Results returns the kept results, best first, and empties the TopK.
func (t *TopK) Results() []Result {
	out := []Result(t.h)
	t.h = nil
	SortResults(out)
	return out
}

// resultHeap is a heap whose root is the worst result.
type resultHeap []Result

func (h resultHeap) Len() int           { return len(h) }
func (h resultHeap) Less(i, j int) bool { return CompareResults(h[i], h[j]) > 0 }
func (h resultHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *resultHeap) Push(x any)        { *h = append(*h, x.(Result)) }
func (h *resultHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// BruteForce is the reference search: it scores every record that
// q.Filter matches by exact cosine similarity to q.Vector (see Cosine; the
// score is the float64 similarity rounded to float32) and returns the best
// q.TopK (DefaultTopK when q.TopK <= 0), ordered by CompareResults. Every
// Store must return what BruteForce returns on the records it holds. The
// returned results are deep copies; records is not modified. BruteForce
// does not validate q: an invalid filter matches nothing.
func BruteForce(records []Record, q Query) []Result {
	t := NewTopK(q.TopK)
	for i := range records {
		r := &records[i]
		if !q.Filter.Match(r) {
			continue
		}
		t.Push(Result{Record: *r, Score: float32(Cosine(q.Vector, r.Vector))})
	}
	out := t.Results()
	for i := range out {
		out[i].Record = CloneRecord(out[i].Record)
	}
	return out
}
