package rag_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
)

// BenchmarkHandlerSearch compares a search through the handler, over a
// loopback connection, with the same search called directly: the
// difference is the handler's cost (decoding, encoding, HTTP).
func BenchmarkHandlerSearch(b *testing.B) {
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]rag.Document, 200)
	for i := range docs {
		docs[i] = rag.Document{Content: strings.Repeat("goroutines channels tides moon ", 1+i%7) + string(rune('a'+i%26))}
	}
	if _, err := p.Ingest(ctx, docs...); err != nil {
		b.Fatal(err)
	}
	const query = "how do goroutines use channels"
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.Search(ctx, query, &rag.SearchOptions{TopK: 5}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		srv := httptest.NewServer(rag.NewHandler(p, nil))
		defer srv.Close()
		body := `{"query": "` + query + `", "top_k": 5}`
		for b.Loop() {
			resp, err := http.Post(srv.URL+"/search", "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}
