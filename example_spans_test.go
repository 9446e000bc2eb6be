package rag_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
)

// A document whose loader marked its pages (a PDF loader does): each hit
// says the page its chunk starts on, and a passage's citation names it.
func ExampleHit_Location() {
	ctx := context.Background()
	p, err := rag.New(rag.Options{
		Embedder: embed.NewHashing(embed.HashingOptions{}),
		Chunker:  chunk.NewRecursive(chunk.RecursiveOptions{Size: 10, Overlap: -1}),
	})
	if err != nil {
		panic(err)
	}
	page1 := "Revenue grew in every region this year."
	page2 := "Carbon emissions fell by a fifth."
	content := page1 + "\n\n" + page2
	_, err = p.Ingest(ctx, rag.Document{
		ID: "report", Title: "Annual report", Source: "report.pdf", Content: content,
		Spans: []document.Span{
			{Kind: document.SpanPage, Label: "1", Start: 0, End: len(page1)},
			{Kind: document.SpanPage, Label: "2", Start: len(page1) + 2, End: len(content)},
		},
	})
	if err != nil {
		panic(err)
	}
	hits, err := p.Search(ctx, "carbon emissions", &rag.SearchOptions{TopK: 1})
	if err != nil {
		panic(err)
	}
	h := hits[0]
	fmt.Println(h.Text, "—", h.Location())
	fmt.Println(rag.Passage{N: 3, Hit: h}.Citation())
	// Output:
	// Carbon emissions fell by a fifth. — p. 2
	// [3] Annual report, p. 2
}
