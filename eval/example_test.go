package eval_test

import (
	"fmt"

	"github.com/ragkit-go/rag/eval"
)

func Example() {
	qrels := eval.Qrels{
		"q1": {"doc-a": 1},
		"q2": {"doc-b": 2, "doc-c": 1},
	}
	run := eval.Run{
		"q1": {"doc-a", "doc-x"},
		"q2": {"doc-x", "doc-c", "doc-b"},
	}
	rep := eval.Evaluate("bm25", qrels, run, eval.NDCG(10), eval.Recall(2), eval.MRR(10))
	fmt.Print(eval.Table(rep))
	// Output:
	// | System | Queries | nDCG@10 | Recall@2 | MRR@10 |
	// | --- | ---: | ---: | ---: | ---: |
	// | bm25 | 2 | 0.8100 | 0.7500 | 0.7500 |
}
