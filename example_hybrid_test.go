package rag_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/tune"
)

func ExampleDocumentScore() {
	ctx := context.Background()
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Lexical: &rag.LexicalOptions{}, Chunker: paragraphs})
	p.Ingest(ctx,
		rag.Document{ID: "care", Content: "Water the fern weekly.\n\nA fern likes shade.\n\nRepot the fern in spring."},
		rag.Document{ID: "ferns", Content: "The fern: a fern of ferns, the fern of the forest."},
	)
	// Chunk hits: three of "care" and one of "ferns".
	hits, _ := p.Search(ctx, "fern", &rag.SearchOptions{Mode: rag.LexicalSearch})
	fmt.Println(len(hits), "chunks")
	// One hit a document, its best chunk as the snippet.
	for _, how := range []rag.DocumentScore{rag.DocumentMax, rag.DocumentSum} {
		hits, _ := p.Search(ctx, "fern", &rag.SearchOptions{Mode: rag.LexicalSearch, Documents: how})
		fmt.Printf("%v:\n", how)
		for _, h := range hits {
			fmt.Printf("  %s %.2f %q\n", h.DocID, h.Score, h.Text)
		}
	}
	// Output:
	// 4 chunks
	// max:
	//   ferns 0.16 "The fern: a fern of ferns, the fern of the forest."
	//   care 0.11 "Water the fern weekly."
	// sum:
	//   care 0.32 "Water the fern weekly."
	//   ferns 0.16 "The fern: a fern of ferns, the fern of the forest."
}

func ExampleAnswerOptions_neighbors() {
	ctx := context.Background()
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Chunker: paragraphs,
		Model: llmtest.New("Press the green button [1].")})
	p.Ingest(ctx, manual)

	// Retrieve one small chunk, give the model its neighbours too.
	a, _ := p.Answer(ctx, "how to start the pump green button", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 1}, Neighbors: 1})
	c := a.Citations[0]
	fmt.Println("cited:", c.ID, c.Text)
	fmt.Println("the model saw:")
	fmt.Println(c.Context)
	// Output:
	// cited: manual#2 To start the pump, press the green button for three seconds.
	// the model saw:
	// Before starting it, open the intake valve fully.
	// To start the pump, press the green button for three seconds.
	// If the pump hums but does not turn, close it down and call service.
}

func ExamplePipeline_TuneFusion() {
	ctx := context.Background()
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Lexical: &rag.LexicalOptions{}})
	docs, queries, qrels := labelledCorpus(60, 40) // or eval.LoadBEIR(dir, "test")
	p.Ingest(ctx, docs...)

	opts, res, err := p.TuneFusion(ctx, queries, qrels, &tune.Options{Depths: []int{20, 50}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("use %v: fusion %v, vector weight %.1f, RRF k %d, depth %d\n", res.Best.Setting, opts.Fusion, opts.VectorWeight, opts.RRFK, opts.Depth)
	fmt.Printf("%s on %d held-out queries: %.3f (baseline %.3f)\n", res.Metric, len(res.HeldOut), res.Best.HeldOut, res.Baseline.HeldOut)
	// Keep opts and search with them.
	hits, _ := p.Search(ctx, queries[0].Text, opts)
	fmt.Println(len(hits), "hits")
	// Output:
	// use agreement w=0.10 depth=20: fusion agreement, vector weight 0.1, RRF k 60, depth 20
	// nDCG@10 on 13 held-out queries: 0.972 (baseline 0.972)
	// 5 hits
}
