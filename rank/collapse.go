package rank

import (
	"cmp"
	"slices"
)

// Aggregate selects how Collapse scores a group from its items' scores.
type Aggregate int

const (
	// Max scores a group by its best item: a document is as relevant as
	// its most relevant chunk.
	Max Aggregate = iota
	// Sum adds the scores of a group's items: a document many of whose
	// chunks match ranks above one with a single match of the same score.
	// It suits non-negative scores (BM25, fused scores); with negative
	// scores (some rerankers' logits) more items can lower a group.
	Sum
)

// Group is one group of items found by Collapse.
type Group struct {
	Key   string  // the key the group's items share
	Best  int     // index in the input of the group's best item
	Size  int     // number of the input's items in the group
	Score float64 // the group's score: Max or Sum of its items' scores
}

// Collapse groups items by key (keys[i] is the key of items[i], such as
// the document a chunk belongs to) and returns the groups best first by
// score. A group's best item is its highest-scoring one, the first in the
// input among equals. Groups of equal score keep the order of their best
// items in the input, so a collapsed ranking of a ranked list is
// deterministic. Items with a NaN score are skipped. It panics if keys
// and items differ in length.
func Collapse(items []Scored, keys []string, agg Aggregate) []Group {
	if len(keys) != len(items) {
		panic("rank: Collapse: keys and items differ in length")
	}
	pos := make(map[string]int, len(items))
	var out []Group
	for i, it := range items {
		if it.Score != it.Score { // NaN
			continue
		}
		g, ok := pos[keys[i]]
		if !ok {
			pos[keys[i]] = len(out)
			out = append(out, Group{Key: keys[i], Best: i, Size: 1, Score: it.Score})
			continue
		}
		grp := &out[g]
		grp.Size++
		if it.Score > items[grp.Best].Score {
			grp.Best = i
		}
		if agg == Sum {
			grp.Score += it.Score
		} else {
			grp.Score = max(grp.Score, it.Score)
		}
	}
	slices.SortFunc(out, func(a, b Group) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Best, b.Best)
	})
	return out
}
