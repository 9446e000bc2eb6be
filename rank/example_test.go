package rank_test

import (
	"fmt"

	"github.com/ragkit-go/rag/rank"
)

func ExampleRRF() {
	dense := []string{"doc-a", "doc-b", "doc-c"}
	keyword := []string{"doc-c", "doc-a", "doc-d"}
	for _, s := range rank.RRF(60, dense, keyword) {
		fmt.Printf("%s %.4f\n", s.ID, s.Score)
	}
	// Output:
	// doc-a 0.0325
	// doc-c 0.0323
	// doc-b 0.0161
	// doc-d 0.0159
}

func ExampleFuse() {
	dense := []rank.Scored{{ID: "a", Score: 0.82}, {ID: "b", Score: 0.80}, {ID: "c", Score: 0.60}}
	bm25 := []rank.Scored{{ID: "c", Score: 14.2}, {ID: "a", Score: 3.1}}
	fused := rank.Fuse(
		rank.ScoredList{Items: dense, Weight: 0.6},
		rank.ScoredList{Items: bm25, Weight: 0.4},
	)
	fmt.Println(rank.IDs(fused))
	// Output:
	// [a b c]
}

func ExampleMMR() {
	query := []float32{1, 0}
	candidates := [][]float32{
		{0.99, 0.1},  // relevant
		{0.98, 0.12}, // relevant, but a near-copy of the first
		{0.7, -0.7},  // less relevant, different
	}
	picked, _ := rank.MMR(query, candidates, rank.DefaultLambda, 2)
	fmt.Println(picked)
	// Output:
	// [0 2]
}
