package chunk_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/chunk"
)

func ExampleRecursive() {
	text := "Go is a programming language. It is fast and simple.\n\n" +
		"Chunkers split documents. Each chunk keeps its byte offsets, so the source text is text[Start:End]."
	r := chunk.NewRecursive(chunk.RecursiveOptions{Size: 16, Overlap: 6})
	chunks, err := r.Chunk(context.Background(), text)
	if err != nil {
		panic(err)
	}
	for _, c := range chunks {
		fmt.Printf("%d [%d:%d] %d tokens: %q\n", c.Index, c.Start, c.End, c.Tokens, c.Text)
	}
	// Output:
	// 0 [0:52] 12 tokens: "Go is a programming language. It is fast and simple."
	// 1 [30:105] 16 tokens: "It is fast and simple.\n\nChunkers split documents. Each chunk keeps its byte"
	// 2 [80:136] 12 tokens: "Each chunk keeps its byte offsets, so the source text is"
	// 3 [115:153] 11 tokens: "so the source text is text[Start:End]."
}
