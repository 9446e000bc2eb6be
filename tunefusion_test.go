package rag_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/tune"
)

// labelledCorpus makes documents of random words and queries of a few
// words of one document (plus one random word), judged relevant to it.
func labelledCorpus(docs, queries int) ([]rag.Document, []eval.Query, eval.Qrels) {
	rng := rand.New(rand.NewPCG(5, 6))
	word := func() string { return fmt.Sprintf("w%03d", rng.IntN(300)) }
	var ds []rag.Document
	var texts [][]string
	for i := range docs {
		var ws []string
		for range 12 {
			ws = append(ws, word())
		}
		texts = append(texts, ws)
		ds = append(ds, rag.Document{ID: fmt.Sprintf("d%02d", i), Content: strings.Join(ws, " ")})
	}
	var qs []eval.Query
	qrels := eval.Qrels{}
	for i := range queries {
		d := rng.IntN(docs)
		ws := []string{word()}
		for range 3 {
			ws = append(ws, texts[d][rng.IntN(len(texts[d]))])
		}
		id := fmt.Sprintf("q%02d", i)
		qs = append(qs, eval.Query{ID: id, Text: strings.Join(ws, " ")})
		qrels[id] = eval.Judgements{ds[d].ID: 1}
	}
	return ds, qs, qrels
}

// TestTuneFusion: the options TuneFusion returns are its best setting,
// and searching with them scores on the held-out queries what the tuner
// reported: its offline replay is the pipeline's fusion.
func TestTuneFusion(t *testing.T) {
	ctx := context.Background()
	p := lexicalPipeline(t, "", nil)
	docs, queries, qrels := labelledCorpus(60, 40)
	if _, err := p.Ingest(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	opts := &tune.Options{Depths: []int{10, 30}}
	so, res, err := p.TuneFusion(ctx, queries, qrels, opts)
	if err != nil {
		t.Fatal(err)
	}
	best := res.Best.Setting
	if so.Mode != rag.HybridSearch || so.Depth != best.Depth || so.RRFK != best.RRFK || so.VectorWeight != best.VectorWeight {
		t.Fatalf("options %+v do not carry the setting %v", so, best)
	}
	if want := map[string]rag.Fusion{"agreement": rag.AgreementFusion, "rrf": rag.RRF, "weighted": rag.WeightedScores}[best.Method.String()]; so.Fusion != want {
		t.Fatalf("fusion %v for method %v", so.Fusion, best.Method)
	}
	if len(res.HeldOut) == 0 || len(res.Trials) == 0 {
		t.Fatalf("result %+v", res)
	}
	for _, tr := range []tune.Trial{res.Best, res.Baseline} {
		s := tr.Setting
		o := rag.SearchOptions{Mode: rag.HybridSearch, RRFK: s.RRFK, VectorWeight: s.VectorWeight, Depth: s.Depth, TopK: 10, Documents: rag.DocumentMax}
		o.Fusion = map[string]rag.Fusion{"agreement": rag.AgreementFusion, "rrf": rag.RRF, "weighted": rag.WeightedScores}[s.Method.String()]
		run := eval.Run{}
		held := eval.Qrels{}
		for _, q := range queries {
			if !slices.Contains(res.HeldOut, q.ID) {
				continue
			}
			hits, err := p.Search(ctx, q.Text, &o)
			if err != nil {
				t.Fatal(err)
			}
			run[q.ID], held[q.ID] = ids(hits), qrels[q.ID]
		}
		got := eval.Evaluate("", held, run, eval.NDCG(10)).Mean[0]
		if math.Abs(got-tr.HeldOut) > 1e-9 {
			t.Errorf("%v: Search scores %.6f on the held-out queries, the tuner %.6f", s, got, tr.HeldOut)
		}
	}
	// Without a lexical side there is nothing to fuse.
	if _, _, err := newPipeline(t, hashing()).TuneFusion(ctx, queries, qrels, nil); !errors.Is(err, rag.ErrNoLexical) {
		t.Errorf("no lexical side: %v", err)
	}
	if _, _, err := p.TuneFusion(ctx, queries[:1], qrels, nil); !errors.Is(err, tune.ErrTooFewQueries) {
		t.Errorf("one query: %v", err)
	}
}
