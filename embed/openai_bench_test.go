package embed_test

import (
	"context"
	"testing"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

// BenchmarkOpenAI embeds batches of 100 texts at 1536 dimensions through
// openaitest, comparing the base64 and float encodings. Client and server
// run in this process, so the time includes the server encoding the
// answer as well as the client decoding it.
func BenchmarkOpenAI(b *testing.B) {
	for _, tt := range []struct {
		name  string
		float bool
	}{{"base64", false}, {"float", true}} {
		b.Run(tt.name, func(b *testing.B) {
			srv := openaitest.NewServer(openaitest.Options{CountTokens: func(s string) int { return len(s)/4 + 1 }})
			defer srv.Close()
			e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}, FloatEncoding: tt.float})
			in := texts(100)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Embed(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "texts/s")
		})
	}
}
