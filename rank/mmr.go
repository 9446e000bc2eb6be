package rank

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors, wrapped with %w; test them with errors.Is.
var (
	// ErrDimensionMismatch: vectors of different lengths.
	ErrDimensionMismatch = errors.New("rank: vector dimension mismatch")
	// ErrInvalidLambda: an MMR lambda outside [0, 1] or NaN.
	ErrInvalidLambda = errors.New("rank: lambda must be in [0, 1]")
)

// DefaultLambda is a balanced MMR trade-off between relevance and
// diversity.
const DefaultLambda = 0.5

// MMR selects candidates by maximal marginal relevance (Carbonell and
// Goldstein, 1998): each step picks the candidate c not yet selected that
// maximises
//
//	lambda · cos(query, c) − (1 − lambda) · max over selected s of cos(c, s)
//
// (the second term is 0 while nothing is selected). lambda = 1 ranks by
// relevance alone; lambda = 0 by novelty alone; DefaultLambda balances
// them. It returns the indices of the chosen candidates in the order they
// were chosen, at most k of them (all when k <= 0 or k > len(candidates)).
// Ties go to the lower index. A zero vector has cosine 0 with everything.
//
// It fails with ErrInvalidLambda, or ErrDimensionMismatch when the
// vectors' lengths differ. Cost: O(k · n · d) for n candidates of d
// dimensions.
func MMR(query []float32, candidates [][]float32, lambda float64, k int) ([]int, error) {
	if math.IsNaN(lambda) || lambda < 0 || lambda > 1 {
		return nil, fmt.Errorf("%w: got %v", ErrInvalidLambda, lambda)
	}
	for i, c := range candidates {
		if len(c) != len(query) {
			return nil, fmt.Errorf("%w: candidate %d has %d dimensions, query %d", ErrDimensionMismatch, i, len(c), len(query))
		}
	}
	n := len(candidates)
	if k <= 0 || k > n {
		k = n
	}
	if k == 0 {
		return nil, nil
	}
	// Normalise once so that cosines are dot products.
	q := unit(query)
	units := make([][]float64, n)
	relevance := make([]float64, n)
	for i, c := range candidates {
		units[i] = unit(c)
		relevance[i] = dot(q, units[i])
	}
	return mmr(relevance, units, lambda, k), nil
}

// MMRWithRelevance is MMR with each candidate's relevance given, such as a
// BM25 or fused score, instead of its cosine with a query vector: Carbonell
// and Goldstein's Sim1 may be any relevance measure. The scores are min-max
// normalised to [0, 1] (all equal: all 1), so lambda weighs them against
// cosine redundancy on a comparable scale. Vectors are used only to measure
// redundancy between candidates. Errors and tie-breaking are MMR's; the
// relevance slice must be as long as candidates.
func MMRWithRelevance(relevance []float64, candidates [][]float32, lambda float64, k int) ([]int, error) {
	if math.IsNaN(lambda) || lambda < 0 || lambda > 1 {
		return nil, fmt.Errorf("%w: got %v", ErrInvalidLambda, lambda)
	}
	if len(relevance) != len(candidates) {
		return nil, fmt.Errorf("rank: %d relevance scores for %d candidates", len(relevance), len(candidates))
	}
	n := len(candidates)
	for i, c := range candidates {
		if len(c) != len(candidates[0]) {
			return nil, fmt.Errorf("%w: candidate %d has %d dimensions, candidate 0 %d", ErrDimensionMismatch, i, len(c), len(candidates[0]))
		}
	}
	if k <= 0 || k > n {
		k = n
	}
	if k == 0 {
		return nil, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range relevance {
		lo, hi = min(lo, r), max(hi, r)
	}
	rel := make([]float64, n)
	units := make([][]float64, n)
	for i, c := range candidates {
		units[i] = unit(c)
		rel[i] = 1
		if hi > lo {
			rel[i] = (relevance[i] - lo) / (hi - lo)
		}
	}
	return mmr(rel, units, lambda, k), nil
}

// mmr selects k of the unit vectors by maximal marginal relevance.
func mmr(relevance []float64, units [][]float64, lambda float64, k int) []int {
	n := len(units)
	// redundancy[i] is the highest cosine of candidate i with a selected
	// one, updated after each pick.
	redundancy := make([]float64, n)
	for i := range redundancy {
		redundancy[i] = math.Inf(-1)
	}
	chosen := make([]bool, n)
	out := make([]int, 0, k)
	for len(out) < k {
		best, bestScore := -1, math.Inf(-1)
		for i := range n {
			if chosen[i] {
				continue
			}
			score := lambda * relevance[i]
			if len(out) > 0 {
				score -= (1 - lambda) * redundancy[i]
			}
			if best < 0 || score > bestScore {
				best, bestScore = i, score
			}
		}
		chosen[best] = true
		out = append(out, best)
		for i := range n {
			if !chosen[i] {
				redundancy[i] = max(redundancy[i], dot(units[i], units[best]))
			}
		}
	}
	return out
}

// unit returns v scaled to length 1 in float64, or zeros when v is zero.
func unit(v []float32) []float64 {
	out := make([]float64, len(v))
	norm := 0.0
	for i, x := range v {
		out[i] = float64(x)
		norm += out[i] * out[i]
	}
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i := range out {
		out[i] /= norm
	}
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
