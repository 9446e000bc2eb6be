package rerank

import (
	"cmp"
	"math"
	"slices"
)

// Order returns the indices of scores from the highest score to the
// lowest, ties in index order, NaN scores last: the order in which to
// present reranked passages.
func Order(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		sa, sb := scores[a], scores[b]
		switch na, nb := math.IsNaN(sa), math.IsNaN(sb); {
		case na && nb:
			return 0
		case na:
			return 1
		case nb:
			return -1
		}
		return cmp.Compare(sb, sa)
	})
	return idx
}
