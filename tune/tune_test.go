package tune_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/rank"
	"github.com/ragkit-go/rag/tune"
)

// A labelled query whose relevant document A comes first only when the
// vector weight w of weighted fusion is above (kind '>') or below ('<') a
// threshold t, with min-max normalised scores:
//
//	'>': vector [A 1, z 0], lexical [B 1, A b, y 0]: A first iff w > (1−b)/(2−b)
//	'<': vector [B 1, z 0], lexical [A 1, B c, y 0]: A first iff w < (1−c)/(2−c)
type labelled struct {
	kind byte
	t    float64
}

func (l labelled) lists(q string) (vector, lexical []tune.Hit) {
	h := func(id string, s float64) tune.Hit {
		return tune.Hit{ID: q + "/" + id + "#0", DocID: q + "/" + id, Score: s}
	}
	s := (1 - 2*l.t) / (1 - l.t) // the lexical score giving threshold t
	if l.kind == '>' {
		return []tune.Hit{h("A", 1), h("z", 0)}, []tune.Hit{h("B", 1), h("A", s), h("y", 0)}
	}
	return []tune.Hit{h("B", 1), h("z", 0)}, []tune.Hit{h("A", 1), h("B", s), h("y", 0)}
}

type fixture struct {
	queries []eval.Query
	qrels   eval.Qrels
	kinds   map[string]labelled
}

func newFixture(n int, kind func(i int, id string) labelled) *fixture {
	f := &fixture{qrels: eval.Qrels{}, kinds: map[string]labelled{}}
	for i := range n {
		id := fmt.Sprintf("q%03d", i)
		f.queries = append(f.queries, eval.Query{ID: id, Text: id})
		f.qrels[id] = eval.Judgements{id + "/A": 1}
		f.kinds[id] = kind(i, id)
	}
	return f
}

func (f *fixture) retrievers() (vector, lexical tune.Retriever) {
	side := func(vec bool) tune.Retriever {
		return func(ctx context.Context, q string, k int) ([]tune.Hit, error) {
			v, l := f.kinds[q].lists(q)
			if vec {
				return v, nil
			}
			return l, nil
		}
	}
	return side(true), side(false)
}

func TestTunePicksTheKnownBest(t *testing.T) {
	// Half the queries need w > 0.27, half w < 0.33: only w = 0.3 of the
	// weight grid puts A first everywhere.
	f := newFixture(60, func(i int, _ string) labelled {
		if i%2 == 0 {
			return labelled{'>', 0.27}
		}
		return labelled{'<', 0.33}
	})
	vec, lex := f.retrievers()
	res, err := tune.Tune(context.Background(), f.queries, f.qrels, vec, lex, &tune.Options{Methods: []rank.Method{rank.MethodRRF, rank.MethodWeighted}})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Best.Setting
	if got.Method != rank.MethodWeighted || math.Abs(got.VectorWeight-0.3) > 1e-9 || res.FellBack {
		t.Fatalf("chose %v (fell back: %v), want weighted w=0.30; trials %v", got, res.FellBack, res.Trials)
	}
	if res.Best.Train != 1 || res.Best.HeldOut != 1 {
		t.Errorf("best scores %v / %v, want 1 on both splits", res.Best.Train, res.Best.HeldOut)
	}
	// The baseline (agreement, w = 0.5 · ½ here) misses the '>' queries,
	// and every other weight misses one kind.
	if res.Baseline.HeldOut >= 1 || res.Baseline.Setting.Method != rank.MethodAgreement {
		t.Errorf("baseline %+v should fall short", res.Baseline)
	}
	for _, tr := range res.Trials {
		if tr.Setting.Method == rank.MethodWeighted && math.Abs(tr.Setting.VectorWeight-0.3) > 1e-9 && tr.Train >= 1 {
			t.Errorf("%v also scores 1: the fixture does not single out 0.3", tr.Setting)
		}
	}
	// A third held out by default, disjoint from the training queries.
	if len(res.HeldOut) != 20 || len(res.Train) != 40 {
		t.Errorf("split %d/%d, want 40/20", len(res.Train), len(res.HeldOut))
	}
	for _, id := range res.HeldOut {
		if slices.Contains(res.Train, id) {
			t.Errorf("%s is in both splits", id)
		}
	}
	if res.Metric != "nDCG@10" {
		t.Errorf("metric %q", res.Metric)
	}
}

func TestTuneFallsBackWhenTheChoiceDoesNotHoldUp(t *testing.T) {
	// Training queries all need w > 0.6; the held-out ones need w < 0.3,
	// which the baseline (agreement at 0.5 · ½) meets and the choice does
	// not.
	opts := &tune.Options{Seed: 7}
	probe := newFixture(30, func(int, string) labelled { return labelled{} })
	_, held, err := tune.Split(probe.queries, probe.qrels, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(30, func(_ int, id string) labelled {
		if slices.Contains(held, id) {
			return labelled{'<', 0.3}
		}
		return labelled{'>', 0.6}
	})
	vec, lex := f.retrievers()
	res, err := tune.Tune(context.Background(), f.queries, f.qrels, vec, lex, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.HeldOut, held) {
		t.Fatalf("Split %v and Tune %v disagree", held, res.HeldOut)
	}
	if res.Chosen.Train != 1 || res.Chosen.HeldOut >= res.Baseline.HeldOut {
		t.Fatalf("chosen %+v, baseline %+v: the fixture did not overfit", res.Chosen, res.Baseline)
	}
	if !res.FellBack || res.Best != res.Baseline {
		t.Errorf("did not fall back: best %+v, baseline %+v", res.Best, res.Baseline)
	}
}

func TestTuneErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(5, func(int, string) labelled { return labelled{'>', 0.5} })
	vec, lex := f.retrievers()
	if _, err := tune.Tune(ctx, f.queries[:1], f.qrels, vec, lex, nil); !errors.Is(err, tune.ErrTooFewQueries) {
		t.Errorf("one query: %v", err)
	}
	for _, o := range []tune.Options{{HoldOut: 1}, {Weights: []float64{0}}, {RRFKs: []int{-1}}, {Depths: []int{0}}, {Methods: []rank.Method{9}}} {
		if _, err := tune.Tune(ctx, f.queries, f.qrels, vec, lex, &o); !errors.Is(err, tune.ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	boom := errors.New("boom")
	failing := func(ctx context.Context, q string, k int) ([]tune.Hit, error) {
		if q == "q003" {
			return nil, boom
		}
		return vec(ctx, q, k)
	}
	_, err := tune.Tune(ctx, f.queries, f.qrels, failing, lex, &tune.Options{Concurrency: 2})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `"q003"`) {
		t.Errorf("retriever error: %v", err)
	}
}

func TestTuneReportsEachSideAndCallsOnceAtTheDeepestDepth(t *testing.T) {
	f := newFixture(9, func(int, string) labelled { return labelled{'>', 0.5} })
	vec, lex := f.retrievers()
	var ks []int
	counting := func(ctx context.Context, q string, k int) ([]tune.Hit, error) {
		ks = append(ks, k) // Concurrency 1: no race
		return vec(ctx, q, k)
	}
	res, err := tune.Tune(context.Background(), f.queries, f.qrels, counting, lex, &tune.Options{Concurrency: 1, Depths: []int{20, 300, 40}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 9 || slices.Min(ks) != 300 || slices.Max(ks) != 300 {
		t.Errorf("vector retriever called with k = %v, want 300 once a query", ks)
	}
	// Vector alone puts A first; lexical alone puts it second.
	if res.Vector.HeldOut != 1 || math.Abs(res.Lexical.HeldOut-1/math.Log2(3)) > 1e-12 {
		t.Errorf("sides alone: vector %+v, lexical %+v", res.Vector, res.Lexical)
	}
}
