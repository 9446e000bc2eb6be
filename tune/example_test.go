package tune_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/tune"
)

func ExampleTune() {
	// Labelled queries: each has one relevant document, which the vector
	// side ranks first and the lexical side second, well behind a decoy:
	// the default gives the vector side too little weight here.
	var queries []eval.Query
	qrels := eval.Qrels{}
	for i := range 12 {
		id := fmt.Sprint("q", i)
		queries = append(queries, eval.Query{ID: id, Text: id})
		qrels[id] = eval.Judgements{id + "-right": 1}
	}
	hit := func(q, doc string, s float64) tune.Hit {
		return tune.Hit{ID: q + "-" + doc, DocID: q + "-" + doc, Score: s}
	}
	vector := func(_ context.Context, q string, k int) ([]tune.Hit, error) {
		return []tune.Hit{hit(q, "right", 0.9), hit(q, "other", 0.2)}, nil
	}
	lexical := func(_ context.Context, q string, k int) ([]tune.Hit, error) {
		return []tune.Hit{hit(q, "decoy", 11), hit(q, "right", 5), hit(q, "else", 1)}, nil
	}
	res, err := tune.Tune(context.Background(), queries, qrels, vector, lexical, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d queries to train, %d held out\n", len(res.Train), len(res.HeldOut))
	fmt.Printf("lexical alone %.2f, vector alone %.2f, default %.2f\n", res.Lexical.HeldOut, res.Vector.HeldOut, res.Baseline.HeldOut)
	fmt.Printf("chosen: %v, %s %.2f on held-out queries\n", res.Best.Setting, res.Metric, res.Best.HeldOut)
	// Output:
	// 8 queries to train, 4 held out
	// lexical alone 0.63, vector alone 1.00, default 0.63
	// chosen: agreement w=0.80 depth=50, nDCG@10 1.00 on held-out queries
}
