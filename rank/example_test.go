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

func ExampleAgreementFuse() {
	bm25 := []rank.Scored{{ID: "a", Score: 12}, {ID: "b", Score: 9}, {ID: "c", Score: 4}, {ID: "d", Score: 1}}
	// A vector side that agrees on two of the first four: weight 0.5 · 2/4.
	agreeing := []rank.Scored{{ID: "b", Score: 0.9}, {ID: "x", Score: 0.8}, {ID: "a", Score: 0.7}, {ID: "y", Score: 0.6}}
	// One that shares nothing: it cannot reorder BM25's hits.
	noise := []rank.Scored{{ID: "p", Score: 0.9}, {ID: "q", Score: 0.85}, {ID: "r", Score: 0.8}, {ID: "s", Score: 0.75}}
	fmt.Println(rank.Agreement(rank.IDs(bm25), rank.IDs(agreeing), 4), rank.IDs(rank.AgreementFuse(bm25, agreeing, 0.5, 4)))
	fmt.Println(rank.Agreement(rank.IDs(bm25), rank.IDs(noise), 4), rank.IDs(rank.AgreementFuse(bm25, noise, 0.5, 4))[:4])
	// Output:
	// 0.5 [a b c x d y]
	// 0 [a b c p]
}

func ExampleCollapse() {
	// Chunk hits, best first, and the document of each.
	hits := []rank.Scored{{ID: "doc1#3", Score: 0.9}, {ID: "doc2#0", Score: 0.8}, {ID: "doc1#4", Score: 0.7}, {ID: "doc3#1", Score: 0.6}}
	docs := []string{"doc1", "doc2", "doc1", "doc3"}
	for _, g := range rank.Collapse(hits, docs, rank.Sum) {
		fmt.Printf("%s %.1f best chunk %s\n", g.Key, g.Score, hits[g.Best].ID)
	}
	// Output:
	// doc1 1.6 best chunk doc1#3
	// doc2 0.8 best chunk doc2#0
	// doc3 0.6 best chunk doc3#1
}
