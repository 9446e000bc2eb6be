package rag_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
)

// BenchmarkSearchExpiry measures what the expiry filter Search adds by
// default, against IncludeExpired, on 20,000 one-chunk documents (a tenth
// of them expiring tomorrow) of 256 dimensions.
func BenchmarkSearchExpiry(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"chromem", "flat"} {
		var s store.Store
		var err error
		if name == "chromem" {
			s, err = chromem.New(chromem.Options{})
		} else {
			s, err = flat.New(flat.Options{})
		}
		if err != nil {
			b.Fatal(err)
		}
		p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 256}), Store: s})
		if err != nil {
			b.Fatal(err)
		}
		docs := make([]rag.Document, 20000)
		for i := range docs {
			docs[i] = rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprintf("document %d about topic %d and theme %d", i, i%97, i%13)}
			if i%10 == 0 {
				docs[i].ExpiresAt = time.Now().Add(24 * time.Hour)
			}
		}
		if _, err := p.Ingest(ctx, docs...); err != nil {
			b.Fatal(err)
		}
		for _, include := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/expiry-filter=%v", name, !include), func(b *testing.B) {
				o := &rag.SearchOptions{TopK: 10, IncludeExpired: include}
				for b.Loop() {
					if _, err := p.Search(ctx, "topic 42 and theme 7", o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
