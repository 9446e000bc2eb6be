// Package rank combines and reorders ranked lists: reciprocal rank fusion,
// weighted score fusion and agreement-weighted fusion for hybrid (vector +
// keyword) retrieval, collapsing of chunk hits into documents, and maximal
// marginal relevance for diverse results.
//
// Everything here is a pure function: inputs are not modified, outputs are
// new slices, and ties are broken deterministically (by ID, or by index).
package rank

import (
	"cmp"
	"math"
	"slices"
)

// DefaultRRFK is the k of reciprocal rank fusion used when none is given:
// 60, the value of Cormack, Clarke and Büttcher (2009), which most systems
// keep.
const DefaultRRFK = 60

// Scored is an ID with a score; higher is better.
type Scored struct {
	ID    string
	Score float64
}

// sortScored orders by score, descending, then ID, ascending.
func sortScored(s []Scored) {
	slices.SortFunc(s, func(a, b Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// RRF fuses ranked lists of IDs (best first) by reciprocal rank fusion:
//
//	score(id) = Σ over the lists holding id of 1 / (k + rank)
//
// with ranks counted from 1. k <= 0 means DefaultRRFK. An ID repeated in
// one list counts at its first (best) rank only. The result holds every
// ID of every list, best first, ties broken by ID.
func RRF(k int, lists ...[]string) []Scored {
	if k <= 0 {
		k = DefaultRRFK
	}
	w := make([]float64, len(lists))
	for i := range w {
		w[i] = 1
	}
	return weightedRRF(k, lists, w)
}

func weightedRRF(k int, lists [][]string, weights []float64) []Scored {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	pos := make(map[string]int, n) // ID -> index in out
	out := make([]Scored, 0, n)
	for li, l := range lists {
		seen := make(map[string]struct{}, len(l))
		for r, id := range l {
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			i, ok := pos[id]
			if !ok {
				i = len(out)
				pos[id] = i
				out = append(out, Scored{ID: id})
			}
			out[i].Score += weights[li] / float64(k+r+1)
		}
	}
	sortScored(out)
	return out
}

// ScoredList is a list of scored IDs with the weight of its vote in
// Fuse.
type ScoredList struct {
	Items  []Scored
	Weight float64
}

// minMax rescales scores linearly to [0, 1]: the best becomes 1 and the
// worst 0. When all scores are equal they all become 1. Items with a NaN
// score are dropped. The order of items is kept.
func minMax(items []Scored) []Scored {
	out := make([]Scored, 0, len(items))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, it := range items {
		if math.IsNaN(it.Score) {
			continue
		}
		lo, hi = min(lo, it.Score), max(hi, it.Score)
		out = append(out, it)
	}
	for i := range out {
		switch {
		case hi == lo:
			out[i].Score = 1
		case math.IsInf(hi-lo, 0): // infinite scores: keep only the order of extremes
			out[i].Score = boolTo01(out[i].Score == hi)
		default:
			out[i].Score = (out[i].Score - lo) / (hi - lo)
		}
	}
	return out
}

func boolTo01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Fuse combines scored lists by a weighted sum of min-max normalised
// scores (convex combination when the weights sum to 1):
//
//	score(id) = Σ over the lists holding id of weight · minMax(list)[id]
//
// so scores on different scales (cosine similarity, BM25) can be mixed. An
// ID absent from a list gets nothing from it. An ID repeated in one list
// counts with its first occurrence only. The result holds every ID, best
// first, ties broken by ID.
func Fuse(lists ...ScoredList) []Scored {
	n := 0
	for _, l := range lists {
		n += len(l.Items)
	}
	pos := make(map[string]int, n)
	out := make([]Scored, 0, n)
	for _, l := range lists {
		seen := make(map[string]struct{}, len(l.Items))
		for _, it := range minMax(l.Items) {
			if _, dup := seen[it.ID]; dup {
				continue
			}
			seen[it.ID] = struct{}{}
			i, ok := pos[it.ID]
			if !ok {
				i = len(out)
				pos[it.ID] = i
				out = append(out, Scored{ID: it.ID})
			}
			out[i].Score += l.Weight * it.Score
		}
	}
	sortScored(out)
	return out
}

// IDs returns the IDs of items, in order.
func IDs(items []Scored) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}
