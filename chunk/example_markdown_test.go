package chunk_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/chunk"
)

func ExampleMarkdown() {
	doc := "# Install\n\n## Linux\n\nRun `apt install tool`.\n\n## macOS\n\n```sh\nbrew install tool\n```\n"
	md := chunk.NewMarkdown(chunk.MarkdownOptions{HeadingPrefix: true})
	chunks, err := md.Chunk(context.Background(), doc)
	if err != nil {
		panic(err)
	}
	for _, c := range chunks {
		fmt.Printf("%q [%d:%d] %d tokens\n%s\n---\n", c.Headings, c.Start, c.End, c.Tokens, c.Text)
	}
	// Output:
	// ["Install" "Linux"] [0:44] 16 tokens
	// Install > Linux
	//
	// # Install
	//
	// ## Linux
	//
	// Run `apt install tool`.
	// ---
	// ["Install" "macOS"] [46:83] 15 tokens
	// Install > macOS
	//
	// ## macOS
	//
	// ```sh
	// brew install tool
	// ```
	// ---
}
