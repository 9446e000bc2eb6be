package chunk_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
)

func ExampleSemantic() {
	text := "Cats purr. Cats nap on mats. Cats chase mice. Banks lend money. Banks set rates. Banks hold money."
	// A toy embedder: one dimension per topic word.
	emb := embed.Func(func(_ context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i, t := range texts {
			out[i] = []float32{float32(strings.Count(t, "Cats")), float32(strings.Count(t, "Banks"))}
		}
		return out, nil
	})
	c := chunk.NewSemantic(emb, chunk.SemanticOptions{MinSize: -1, Window: -1})
	chunks, err := c.Chunk(context.Background(), text)
	if err != nil {
		panic(err)
	}
	for _, ch := range chunks {
		fmt.Printf("%q\n", ch.Text)
	}
	// Output:
	// "Cats purr. Cats nap on mats. Cats chase mice."
	// "Banks lend money. Banks set rates. Banks hold money."
}
