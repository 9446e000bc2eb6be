package rank_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/rank"
)

func TestAgreement(t *testing.T) {
	for _, c := range []struct {
		a, b []string
		k    int
		want float64
	}{
		{[]string{"a", "b", "c", "d"}, []string{"c", "x", "a", "y"}, 4, 0.5},
		{[]string{"a", "b", "c", "d"}, []string{"c", "x", "a", "y"}, 2, 0},
		{[]string{"a", "b"}, []string{"b", "a", "z"}, 10, 1}, // shorter than k: divide by 2
		{[]string{"a", "a", "b"}, []string{"a", "c", "d"}, 3, 1.0 / 3},
		{nil, []string{"a"}, 10, 0},
	} {
		if got := rank.Agreement(c.a, c.b, c.k); got != c.want {
			t.Errorf("Agreement(%v, %v, %d) = %v, want %v", c.a, c.b, c.k, got, c.want)
		}
		if got := rank.Agreement(c.b, c.a, c.k); got != c.want {
			t.Errorf("Agreement is not symmetric on %v, %v", c.a, c.b)
		}
	}
}

// synthetic builds n queries over a corpus of docs items, each with three
// relevant items, and for each query a ranked list of depth items made
// by ranker.
func synthetic(rng *rand.Rand, n, docs, depth int, rankers ...func(rel map[string]int) []rank.Scored) (eval.Qrels, [][][]rank.Scored) {
	qrels := eval.Qrels{}
	lists := make([][][]rank.Scored, len(rankers))
	for q := range n {
		rel := map[string]int{}
		for len(rel) < 3 {
			rel[fmt.Sprintf("d%04d", rng.IntN(docs))] = 1
		}
		qrels[fmt.Sprint(q)] = rel
		for i, r := range rankers {
			l := r(rel)
			lists[i] = append(lists[i], l[:min(depth, len(l))])
		}
	}
	return qrels, lists
}

// noisy ranks every item by relevance·signal plus Gaussian noise.
func noisy(rng *rand.Rand, docs int, signal float64) func(map[string]int) []rank.Scored {
	return func(rel map[string]int) []rank.Scored {
		out := make([]rank.Scored, docs)
		for d := range docs {
			id := fmt.Sprintf("d%04d", d)
			out[d] = rank.Scored{ID: id, Score: signal*float64(rel[id]) + rng.NormFloat64()}
		}
		slices.SortFunc(out, func(a, b rank.Scored) int {
			if a.Score != b.Score {
				if a.Score > b.Score {
					return -1
				}
				return 1
			}
			return 0
		})
		return out
	}
}

func meanNDCG(qrels eval.Qrels, fused func(q int) []rank.Scored) float64 {
	run := eval.Run{}
	for q := range len(qrels) {
		run[fmt.Sprint(q)] = rank.IDs(fused(q))
	}
	return eval.Evaluate("", qrels, run, eval.NDCG(10)).Mean[0]
}

// A random other list cannot drag AgreementFuse below its anchor, while
// it does drag an equal-weight fusion down; an informative other list
// does not lower it either. (Nor does AgreementFuse promise to reach an
// other list better than the anchor that disagrees with it: see its doc.)
func TestAgreementFuseNeverWorseThanBetterList(t *testing.T) {
	const queries, docs, depth = 300, 2000, 100
	rng := rand.New(rand.NewPCG(1, 2))
	qrels, lists := synthetic(rng, queries, docs, depth,
		noisy(rng, docs, 2.5), // a good anchor
		noisy(rng, docs, 0),   // random
		noisy(rng, docs, 2.5), // another good list, independent of the first
	)
	good, random, good2 := lists[0], lists[1], lists[2]
	anchor := meanNDCG(qrels, func(q int) []rank.Scored { return good[q] })
	other := meanNDCG(qrels, func(q int) []rank.Scored { return good2[q] })

	withRandom := meanNDCG(qrels, func(q int) []rank.Scored { return rank.AgreementFuse(good[q], random[q], 0, 0) })
	equal := meanNDCG(qrels, func(q int) []rank.Scored {
		return rank.Fuse(rank.ScoredList{Items: good[q], Weight: 0.5}, rank.ScoredList{Items: random[q], Weight: 0.5})
	})
	t.Logf("anchor %.4f, other good %.4f; with a random list: agreement %.4f, equal weights %.4f", anchor, other, withRandom, equal)
	if withRandom < anchor-0.005 {
		t.Errorf("a random list pulled AgreementFuse to %.4f, below its anchor's %.4f", withRandom, anchor)
	}
	if equal > anchor-0.02 {
		t.Fatalf("the random list does not hurt equal-weight fusion (%.4f vs %.4f): the test proves nothing", equal, anchor)
	}
	withGood := meanNDCG(qrels, func(q int) []rank.Scored { return rank.AgreementFuse(good[q], good2[q], 0, 0) })
	t.Logf("two good lists: agreement %.4f", withGood)
	if withGood < anchor-0.005 {
		t.Errorf("AgreementFuse of two good lists %.4f, below its anchor's %.4f", withGood, anchor)
	}
}

func TestAgreementFuseNoOverlapKeepsAnchorOrder(t *testing.T) {
	anchor := []rank.Scored{{ID: "a", Score: 9}, {ID: "b", Score: 7}, {ID: "c", Score: 1}}
	other := []rank.Scored{{ID: "z", Score: 0.9}, {ID: "x", Score: 0.8}, {ID: "y", Score: 0.1}}
	got := rank.IDs(rank.AgreementFuse(anchor, other, 1, 3))
	// c normalises to 0, as does y; z and x get a vanishing weight, so
	// they follow b, in the other list's order; c and y tie at 0 (by ID).
	want := []string{"a", "b", "z", "x", "c", "y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// One empty side: the other alone, in its order.
	if got := rank.IDs(rank.AgreementFuse(nil, other, 0, 0)); !reflect.DeepEqual(got, []string{"z", "x", "y"}) {
		t.Errorf("empty anchor: %v", got)
	}
	if got := rank.IDs(rank.AgreementFuse(anchor, nil, 0, 0)); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("empty other: %v", got)
	}
}

func TestAgreementFuseWeights(t *testing.T) {
	// Half of the first two agree: w = 0.8 · 0.5 = 0.4.
	anchor := []rank.Scored{{ID: "a", Score: 3}, {ID: "b", Score: 2}, {ID: "c", Score: 1}}
	other := []rank.Scored{{ID: "c", Score: 0.5}, {ID: "a", Score: 0.4}, {ID: "d", Score: 0.3}}
	got := rank.AgreementFuse(anchor, other, 0.8, 2)
	want := rank.Fuse(rank.ScoredList{Items: anchor, Weight: 0.6}, rank.ScoredList{Items: other, Weight: 0.4})
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Score-want[i].Score > 1e-12 || want[i].Score-got[i].Score > 1e-12 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestAgreementFuseDeterministicTies(t *testing.T) {
	// Every item ties; the result is ordered by ID whatever the input
	// order, and the inputs are left alone.
	anchor := []rank.Scored{{ID: "c", Score: 1}, {ID: "a", Score: 1}, {ID: "b", Score: 1}}
	other := []rank.Scored{{ID: "b", Score: 2}, {ID: "c", Score: 2}, {ID: "a", Score: 2}}
	keep := slices.Clone(anchor)
	first := rank.AgreementFuse(anchor, other, 0, 0)
	if !reflect.DeepEqual(rank.IDs(first), []string{"a", "b", "c"}) {
		t.Errorf("ties not by ID: %v", first)
	}
	slices.Reverse(anchor)
	if again := rank.AgreementFuse(anchor, other, 0, 0); !reflect.DeepEqual(again, first) {
		t.Errorf("input order changed the result: %v vs %v", again, first)
	}
	slices.Reverse(anchor)
	if !reflect.DeepEqual(anchor, keep) {
		t.Error("input modified")
	}
}

func TestHybridIsTheNamedFusion(t *testing.T) {
	vec := []rank.Scored{{ID: "a", Score: 0.9}, {ID: "b", Score: 0.5}, {ID: "c", Score: 0.1}}
	lex := []rank.Scored{{ID: "c", Score: 12}, {ID: "a", Score: 3}, {ID: "d", Score: 1}}
	for _, c := range []struct {
		p    rank.HybridParams
		want []rank.Scored
	}{
		{rank.HybridParams{Method: rank.MethodRRF, RRFK: 7}, rank.RRF(7, rank.IDs(vec), rank.IDs(lex))},
		{rank.HybridParams{Method: rank.MethodWeighted, VectorWeight: 0.3}, rank.Fuse(rank.ScoredList{Items: vec, Weight: 0.3}, rank.ScoredList{Items: lex, Weight: 0.7})},
		{rank.HybridParams{Method: rank.MethodWeighted}, rank.Fuse(rank.ScoredList{Items: vec, Weight: 0.5}, rank.ScoredList{Items: lex, Weight: 0.5})},
		{rank.HybridParams{Method: rank.MethodAgreement, VectorWeight: 0.8}, rank.AgreementFuse(lex, vec, 0.8, rank.DefaultAgreementDepth)},
		{rank.HybridParams{}, rank.AgreementFuse(lex, vec, rank.DefaultAgreementWeight, rank.DefaultAgreementDepth)},
	} {
		if got := rank.Hybrid(vec, lex, c.p); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.p, got, c.want)
		}
	}
	if rank.MethodAgreement.String() != "agreement" || rank.MethodRRF.String() != "rrf" || rank.MethodWeighted.String() != "weighted" || rank.Method(9).String() != "Method(9)" {
		t.Error("method names")
	}
}
