package rag_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
)

func Example() {
	ctx := context.Background()
	// Hashing is a local, deterministic embedder: no network needed.
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	if err != nil {
		panic(err)
	}
	report, err := p.Ingest(ctx,
		rag.Document{ID: "go", Title: "Go", Content: "Goroutines communicate over channels."},
		rag.Document{ID: "tides", Title: "Tides", Content: "The Moon's gravity raises the tides of the oceans."},
	)
	if err != nil {
		panic(err)
	}
	fmt.Println("stored:", report.Stored)

	hits, err := p.Search(ctx, "what causes ocean tides?", &rag.SearchOptions{TopK: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("best:", hits[0].Title)
	// Output:
	// stored: 2
	// best: Tides
}

func ExamplePipeline_Search_filter() {
	ctx := context.Background()
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	p.Ingest(ctx,
		rag.Document{ID: "a", Content: "Release notes for version one.", Metadata: map[string]any{"version": 1, "team": "core"}},
		rag.Document{ID: "b", Content: "Release notes for version two.", Metadata: map[string]any{"version": 2, "team": "core"}},
		rag.Document{ID: "c", Content: "Release notes for the docs site.", Metadata: map[string]any{"team": "docs"}},
	)
	hits, _ := p.Search(ctx, "release notes", &rag.SearchOptions{
		TopK:   10,
		Filter: store.And(store.Eq("team", "core"), store.Gte("version", 2)),
	})
	for _, h := range hits {
		fmt.Println(h.DocID)
	}
	// Output:
	// b
}

func ExamplePipeline_Ingest_errors() {
	ctx := context.Background()
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	report, err := p.Ingest(ctx,
		rag.Document{ID: "ok", Content: "A fine document."},
		rag.Document{ID: "empty", Content: "   "},
	)
	fmt.Println("stored:", report.Stored, "failed:", report.Failed)
	fmt.Println("empty content:", errors.Is(err, rag.ErrEmptyContent))
	// Output:
	// stored: 1 failed: 1
	// empty content: true
}
