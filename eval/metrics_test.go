package eval

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// The running example: a ranking of five documents and graded judgements.
//
//	rank:   1    2    3    4    5
//	doc:    d1   d2   d3   d4   d5
//	grade:  0    2    -    1    0      (d3 unjudged; d6 grade 3 not retrieved; d7 grade 0)
var (
	exRanked = []string{"d1", "d2", "d3", "d4", "d5"}
	exRel    = Judgements{"d1": 0, "d2": 2, "d4": 1, "d5": 0, "d6": 3, "d7": 0}
)

func TestRecall(t *testing.T) {
	// Relevant documents (grade > 0): d2, d4, d6 -> 3.
	cases := []struct {
		k    int
		want float64
	}{
		{1, 0.0 / 3},  // d1 not relevant
		{2, 1.0 / 3},  // d2
		{4, 2.0 / 3},  // d2, d4
		{10, 2.0 / 3}, // ranking shorter than k
		{0, 2.0 / 3},  // whole ranking
	}
	for _, c := range cases {
		if got := RecallAt(exRanked, exRel, c.k); !near(got, c.want) {
			t.Errorf("RecallAt(k=%d) = %v, want %v", c.k, got, c.want)
		}
	}
	if got := RecallAt(exRanked, Judgements{"d1": 0}, 5); got != 0 {
		t.Errorf("RecallAt with no relevant document = %v, want 0", got)
	}
}

func TestPrecision(t *testing.T) {
	cases := []struct {
		k    int
		want float64
	}{
		{1, 0.0 / 1},
		{2, 1.0 / 2},
		{4, 2.0 / 4},
		{10, 2.0 / 10}, // divides by k, as trec_eval does
		{0, 2.0 / 5},   // k <= 0: the ranking's length
	}
	for _, c := range cases {
		if got := PrecisionAt(exRanked, exRel, c.k); !near(got, c.want) {
			t.Errorf("PrecisionAt(k=%d) = %v, want %v", c.k, got, c.want)
		}
	}
	if got := PrecisionAt(nil, exRel, 0); got != 0 {
		t.Errorf("PrecisionAt(empty, 0) = %v, want 0", got)
	}
}

func TestReciprocalRankAndHit(t *testing.T) {
	// First relevant document is d2 at rank 2.
	if got, want := ReciprocalRankAt(exRanked, exRel, 10), 1.0/2; !near(got, want) {
		t.Errorf("RR@10 = %v, want %v", got, want)
	}
	if got := ReciprocalRankAt(exRanked, exRel, 1); got != 0 {
		t.Errorf("RR@1 = %v, want 0 (d2 is beyond the cut-off)", got)
	}
	if got := HitAt(exRanked, exRel, 2); got != 1 {
		t.Errorf("Hit@2 = %v, want 1", got)
	}
	if got := HitAt(exRanked, exRel, 1); got != 0 {
		t.Errorf("Hit@1 = %v, want 0", got)
	}
}

func TestNDCG(t *testing.T) {
	// DCG@5 = sum grade_i / log2(i+1):
	//   d2 at rank 2: 2/log2(3); d4 at rank 4: 1/log2(5).
	dcg5 := 2/math.Log2(3) + 1/math.Log2(5)
	// Ideal ranking of the positive grades: 3, 2, 1 at ranks 1, 2, 3.
	idcg5 := 3/math.Log2(2) + 2/math.Log2(3) + 1/math.Log2(4)
	if got := DCGAt(exRanked, exRel, 5); !near(got, dcg5) {
		t.Errorf("DCG@5 = %v, want %v", got, dcg5)
	}
	if got := IdealDCGAt(exRel, 5); !near(got, idcg5) {
		t.Errorf("IDCG@5 = %v, want %v", got, idcg5)
	}
	if got := NDCGAt(exRanked, exRel, 5); !near(got, dcg5/idcg5) {
		t.Errorf("nDCG@5 = %v, want %v", got, dcg5/idcg5)
	}
	// At k=2 the ideal keeps only the two best grades (3, 2).
	dcg2 := 2 / math.Log2(3)
	idcg2 := 3/math.Log2(2) + 2/math.Log2(3)
	if got := NDCGAt(exRanked, exRel, 2); !near(got, dcg2/idcg2) {
		t.Errorf("nDCG@2 = %v, want %v", got, dcg2/idcg2)
	}
	// The ideal ranking itself scores 1, whatever follows it.
	if got := NDCGAt([]string{"d6", "d2", "d4", "d1"}, exRel, 10); !near(got, 1) {
		t.Errorf("nDCG of the ideal ranking = %v, want 1", got)
	}
	if got := NDCGAt(exRanked, Judgements{"x": 0}, 10); got != 0 {
		t.Errorf("nDCG with no relevant document = %v, want 0", got)
	}
}

func TestDuplicatesCountOnce(t *testing.T) {
	// A system repeating a relevant document must not gain from it:
	// ranking d2, d2, d4 is scored as d2, d4.
	rel := Judgements{"d2": 1, "d4": 1, "d9": 1}
	dup := []string{"d2", "d2", "d4"}
	if got, want := RecallAt(dup, rel, 3), 2.0/3; !near(got, want) {
		t.Errorf("recall with duplicate = %v, want %v", got, want)
	}
	if got, want := DCGAt(dup, rel, 3), 1/math.Log2(2)+1/math.Log2(3); !near(got, want) {
		t.Errorf("DCG with duplicate = %v, want %v", got, want)
	}
	if got, want := PrecisionAt([]string{"d2", "d2"}, rel, 2), 1.0/2; !near(got, want) {
		t.Errorf("precision with duplicate = %v, want %v", got, want)
	}
}

// TestRepeatsDroppedBeforeCut checks that every metric drops repeated IDs
// before it cuts the ranking at k: [a a b] at k = 2 is scored as [a b],
// so b, the second distinct document, is within the cut.
func TestRepeatsDroppedBeforeCut(t *testing.T) {
	dup := []string{"a", "a", "b"}
	rel := Judgements{"b": 1}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"RR@2", ReciprocalRankAt(dup, rel, 2), 1.0 / 2},
		{"Hit@2", HitAt(dup, rel, 2), 1},
		{"Recall@2", RecallAt(dup, rel, 2), 1},
		{"P@2", PrecisionAt(dup, rel, 2), 1.0 / 2},
		{"P (whole ranking)", PrecisionAt(dup, rel, 0), 1.0 / 2},
		{"DCG@2", DCGAt(dup, rel, 2), 1 / math.Log2(3)},
		{"nDCG@2", NDCGAt(dup, rel, 2), 1 / math.Log2(3)},
	} {
		if !near(c.got, c.want) {
			t.Errorf("%s of %v = %v, want %v", c.name, dup, c.got, c.want)
		}
	}
	// The same ranking without the repeat scores the same at every k.
	clean := []string{"a", "b"}
	rel = Judgements{"a": 2, "b": 1}
	for k := 0; k <= 4; k++ {
		for _, m := range []Metric{NDCG(k), Recall(k), Precision(k), MRR(k), HitRate(k)} {
			if got, want := m.Score(dup, rel), m.Score(clean, rel); !near(got, want) {
				t.Errorf("%s: %v scores %v, %v scores %v", m, dup, got, clean, want)
			}
		}
	}
}

func TestMetricsBounded(t *testing.T) {
	// Property: every metric lies in [0, 1] and is monotone where it
	// should be (recall and hit never decrease as k grows).
	rankings := [][]string{nil, exRanked, {"d6", "d6", "d1"}, {"x", "y", "d4", "d2", "d6"}}
	for _, r := range rankings {
		prevRecall, prevHit := 0.0, 0.0
		for k := 1; k <= 6; k++ {
			for _, m := range []Metric{NDCG(k), Recall(k), Precision(k), MRR(k), HitRate(k)} {
				v := m.Score(r, exRel)
				if v < 0 || v > 1 || math.IsNaN(v) {
					t.Errorf("%s(%v) = %v, outside [0,1]", m, r, v)
				}
			}
			rc, h := RecallAt(r, exRel, k), HitAt(r, exRel, k)
			if rc < prevRecall || h < prevHit {
				t.Errorf("recall or hit decreased at k=%d for %v", k, r)
			}
			prevRecall, prevHit = rc, h
		}
	}
}

func TestMetricLabels(t *testing.T) {
	for m, want := range map[string]string{
		NDCG(10).String(): "nDCG@10", Recall(100).String(): "Recall@100",
		Precision(5).String(): "P@5", MRR(10).String(): "MRR@10", HitRate(3).String(): "Hit@3",
		NDCG(0).String(): "nDCG",
	} {
		if m != want {
			t.Errorf("label %q, want %q", m, want)
		}
	}
}
