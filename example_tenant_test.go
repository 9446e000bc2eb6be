package rag_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
)

// Two customers of one service write a document of the same ID: each
// reads its own, and deleting one leaves the other.
func ExamplePipeline_Tenant() {
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	if err != nil {
		panic(err)
	}
	acme, _ := p.Tenant("acme")
	globex, _ := p.Tenant("globex")
	acme.Ingest(ctx, rag.Document{ID: "handbook", Content: "Acme staff take Fridays off."})
	globex.Ingest(ctx, rag.Document{ID: "handbook", Content: "Globex staff work on Fridays."})

	for _, t := range []*rag.Tenant{acme, globex} {
		hits, _ := t.Search(ctx, "what about Fridays?", &rag.SearchOptions{TopK: 10})
		fmt.Printf("%s: %d hit: %s\n", t.ID(), len(hits), hits[0].Text)
	}
	acme.Delete(ctx, "handbook")
	hits, _ := globex.Search(ctx, "Fridays", nil)
	fmt.Println("globex after acme's delete:", len(hits))
	hits, _ = p.Search(ctx, "Fridays", nil) // the pipeline is the default tenant
	fmt.Println("default tenant:", len(hits))
	// Output:
	// acme: 1 hit: Acme staff take Fridays off.
	// globex: 1 hit: Globex staff work on Fridays.
	// globex after acme's delete: 1
	// default tenant: 0
}
