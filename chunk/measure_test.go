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
