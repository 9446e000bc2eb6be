package chunk

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSearchGallops checks search, which starts from where it found last,
// against a plain binary search, for offsets in order, in reverse and at
// random.
func TestSearchGallops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := rng.IntN(300)
		var ends []int32
		off := int32(0)
		for range n {
			off += 1 + rng.Int32N(5)
			ends = append(ends, off)
		}
		m := &measure{ends: ends, hint: rng.IntN(n + 2)}
		offs := make([]int, 50)
		for i := range offs {
			offs[i] = rng.IntN(int(off) + 3)
		}
		switch rng.IntN(3) {
		case 0:
			slices.Sort(offs)
		case 1:
			slices.Sort(offs)
			slices.Reverse(offs)
		}
		for _, o := range offs {
			want, _ := slices.BinarySearch(ends, int32(o))
			if got := m.search(o); got != want {
				t.Fatalf("search(%d) = %d, want %d (ends %v)", o, got, want, ends)
			}
		}
	}
}

// TestReach checks reach against its definition: for every end e > s,
// approx(s, e) <= n exactly when e <= reach(s, n).
func TestReach(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		var ends []int32
		off := int32(0)
		for range 1 + rng.IntN(60) {
			off += 1 + rng.Int32N(4)
			ends = append(ends, off)
		}
		m := &measure{ends: ends, hint: rng.IntN(len(ends) + 1)}
		for range 20 {
			s, n := rng.IntN(int(off)), rng.IntN(12)
			r := m.reach(s, n)
			for e := s + 1; e <= int(off); e++ {
				if fits := m.approx(s, e) <= n; fits != (e <= r) {
					t.Fatalf("reach(%d, %d) = %d, but approx(%d, %d) = %d (ends %v)", s, n, r, s, e, m.approx(s, e), ends)
				}
			}
		}
	}
}
