// Package eval measures retrieval quality: the standard ranking metrics
// (recall, precision, MRR, nDCG and hit rate at a cut-off k), their
// averages over a query set, a loader for datasets in the BEIR format, and
// a report that prints as a Markdown table.
//
// A typical evaluation:
//
//	ds, err := eval.LoadBEIR("scifact", "test")
//	...
//	run := eval.Run{}
//	for _, q := range ds.Queries {
//		run[q.ID] = search(q.Text) // ranked document IDs, best first
//	}
//	rep := eval.Evaluate("bm25", ds.Qrels, run, eval.NDCG(10), eval.Recall(100))
//	fmt.Print(eval.Table(rep))
//
// Conventions, the same as trec_eval and BEIR's pytrec_eval: a document is
// relevant when its grade in the qrels is greater than zero; nDCG uses the
// grade itself as the gain (not 2^grade-1) and a log2(rank+1) discount;
// precision@k divides by k even when fewer than k documents were
// retrieved. A document ID repeated in a ranking counts at its first
// position only: repeats are dropped before the cut-off is applied, so
// ranks and k count distinct documents.
package eval

import (
	"math"
	"sort"
	"strconv"
)

// Judgements maps a document ID to its relevance grade for one query.
// Grades greater than zero mean relevant; zero or negative grades mean
// judged not relevant.
type Judgements = map[string]int

// Qrels holds the relevance judgements of a query set: query ID to
// document ID to grade.
type Qrels map[string]Judgements

// Run holds the rankings a system produced: query ID to document IDs,
// best first.
type Run map[string][]string

// A MetricFunc scores one ranking against the judgements of its query,
// looking at the first k documents.
type MetricFunc func(ranked []string, rel Judgements, k int) float64

// Metric is a named metric at a cut-off, such as nDCG@10.
type Metric struct {
	Name string // e.g. "nDCG"
	K    int    // cut-off; k <= 0 means the whole ranking
	Func MetricFunc
}

// String returns the metric's label, such as "nDCG@10".
func (m Metric) String() string {
	if m.K <= 0 {
		return m.Name
	}
	return m.Name + "@" + strconv.Itoa(m.K)
}

// Score computes the metric for one ranking.
func (m Metric) Score(ranked []string, rel Judgements) float64 { return m.Func(ranked, rel, m.K) }

// NDCG is nDCG at cut-off k.
func NDCG(k int) Metric { return Metric{Name: "nDCG", K: k, Func: NDCGAt} }

// Recall is recall at cut-off k.
func Recall(k int) Metric { return Metric{Name: "Recall", K: k, Func: RecallAt} }

// Precision is precision at cut-off k.
func Precision(k int) Metric { return Metric{Name: "P", K: k, Func: PrecisionAt} }

// MRR is the reciprocal rank of the first relevant document at cut-off k,
// whose mean over queries is the mean reciprocal rank.
func MRR(k int) Metric { return Metric{Name: "MRR", K: k, Func: ReciprocalRankAt} }

// HitRate is 1 when a relevant document is among the first k, else 0; its
// mean over queries is the hit rate (also called success@k).
func HitRate(k int) Metric { return Metric{Name: "Hit", K: k, Func: HitAt} }

// cut returns the first k distinct IDs of ranked (all of them when
// k <= 0): repeats are dropped first, then the ranking is cut, so a
// repeated ID neither counts twice nor pushes a later document past k.
func cut(ranked []string, k int) []string {
	if k <= 0 || k > len(ranked) {
		k = len(ranked)
	}
	seen := make(map[string]struct{}, k)
	out := make([]string, 0, k)
	for _, id := range ranked {
		if len(out) == k {
			break
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		out = append(out, id)
	}
	return out
}

func numRelevant(rel Judgements) int {
	n := 0
	for _, g := range rel {
		if g > 0 {
			n++
		}
	}
	return n
}

func relevantRetrieved(ranked []string, rel Judgements, k int) int {
	n := 0
	for _, id := range cut(ranked, k) {
		if rel[id] > 0 {
			n++
		}
	}
	return n
}

// RecallAt is the fraction of the query's relevant documents found in the
// first k. It is 0 when the query has no relevant document.
func RecallAt(ranked []string, rel Judgements, k int) float64 {
	total := numRelevant(rel)
	if total == 0 {
		return 0
	}
	return float64(relevantRetrieved(ranked, rel, k)) / float64(total)
}

// PrecisionAt is the number of relevant documents in the first k divided
// by k (by the number of distinct IDs in the ranking when k <= 0).
func PrecisionAt(ranked []string, rel Judgements, k int) float64 {
	top := cut(ranked, k)
	if k <= 0 {
		k = len(top)
	}
	if k == 0 {
		return 0
	}
	n := 0
	for _, id := range top {
		if rel[id] > 0 {
			n++
		}
	}
	return float64(n) / float64(k)
}

// ReciprocalRankAt is 1/r for the rank r (from 1) of the first relevant
// document among the first k, or 0 when there is none.
func ReciprocalRankAt(ranked []string, rel Judgements, k int) float64 {
	for i, id := range cut(ranked, k) {
		if rel[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// HitAt is 1 when a relevant document is among the first k, else 0.
func HitAt(ranked []string, rel Judgements, k int) float64 {
	if ReciprocalRankAt(ranked, rel, k) > 0 {
		return 1
	}
	return 0
}

// DCGAt is the discounted cumulative gain of the first k documents:
// the sum over ranks i (from 1) of grade_i / log2(i+1), where grades of
// zero or less count as 0.
func DCGAt(ranked []string, rel Judgements, k int) float64 {
	dcg := 0.0
	for i, id := range cut(ranked, k) {
		if g := rel[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	return dcg
}

// IdealDCGAt is the DCG at k of the best possible ranking: the query's
// positive grades sorted in decreasing order.
func IdealDCGAt(rel Judgements, k int) float64 {
	grades := make([]int, 0, len(rel))
	for _, g := range rel {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(grades)))
	if k > 0 && k < len(grades) {
		grades = grades[:k]
	}
	idcg := 0.0
	for i, g := range grades {
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	return idcg
}

// NDCGAt is DCG@k divided by the ideal DCG@k, in [0, 1]. It is 0 when the
// query has no relevant document.
func NDCGAt(ranked []string, rel Judgements, k int) float64 {
	idcg := IdealDCGAt(rel, k)
	if idcg == 0 {
		return 0
	}
	return DCGAt(ranked, rel, k) / idcg
}
