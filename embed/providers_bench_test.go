package embed_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

// BenchmarkProviderEmbed measures one Embed call of 128 texts answered
// with 1024-dimensional float vectors by a server that replays a recorded
// answer, so that the time is mostly the client's: encoding the request,
// HTTP over loopback and decoding the JSON answer.
func BenchmarkProviderEmbed(b *testing.B) {
	const n, dims = 128, 1024
	in := numbered(n)
	vecs := fakeVectors(dims, "document", in)
	type item struct {
		Object    string    `json:"object"`
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	}
	voyage := struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
	}{Object: "list"}
	for i, v := range vecs {
		voyage.Data = append(voyage.Data, item{"embedding", v, i})
	}
	cohere := map[string]any{"id": "x", "embeddings": map[string]any{"float": vecs}, "texts": in, "response_type": "embeddings_by_type"}

	for _, bc := range []struct {
		name   string
		answer any
		new    func(url string) embed.Embedder
	}{
		{"voyage", voyage, func(url string) embed.Embedder {
			return embed.NewVoyage(embed.VoyageOptions{APIKey: "k", BaseURL: url, Dimensions: dims})
		}},
		{"cohere", cohere, func(url string) embed.Embedder {
			return embed.NewCohere(embed.CohereOptions{APIKey: "k", BaseURL: url, Dimensions: dims, MaxInputs: n})
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body, err := json.Marshal(bc.answer)
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			e := bc.new(srv.URL)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := e.Embed(context.Background(), in)
				if err != nil || len(got) != n {
					b.Fatalf("%d vectors, %v", len(got), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/text")
		})
	}
}
