package embed_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/embed"
)

// Hashing embeds without a network or a model: texts sharing words are
// close, which is enough for tests, demos and offline use.
func ExampleHashing() {
	h := embed.NewHashing(embed.HashingOptions{})
	docs := []string{
		"Go has goroutines and channels for concurrency.",
		"Rust guarantees memory safety through ownership.",
		"Python has a global interpreter lock.",
	}
	ctx := context.Background()
	vecs, err := h.Embed(ctx, docs)
	if err != nil {
		panic(err)
	}
	q, err := h.Embed(ctx, []string{"Which language has goroutines?"})
	if err != nil {
		panic(err)
	}
	// Vectors have norm 1, so the dot product is the cosine similarity.
	for i, v := range vecs {
		var cos float32
		for k := range v {
			cos += q[0][k] * v[k]
		}
		fmt.Printf("%.2f %s\n", cos, docs[i])
	}
	fmt.Println(h.Name(), h.Dimensions())
	// Output:
	// 0.34 Go has goroutines and channels for concurrency.
	// 0.00 Rust guarantees memory safety through ownership.
	// 0.00 Python has a global interpreter lock.
	// hashing:384 384
}
