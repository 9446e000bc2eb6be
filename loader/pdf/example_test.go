package pdf_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
	_ "github.com/ragkit-go/rag/loader/pdf"
)

// Loading a PDF through the registry: the text, and the page each part
// of it is on.
func Example() {
	data, err := os.ReadFile("testdata/example.pdf")
	if err != nil {
		fmt.Println(err)
		return
	}
	docs, err := loader.Load(context.Background(), &loader.File{Name: "example.pdf", Data: data})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := docs[0]
	fmt.Println(d.Title, "-", d.Metadata[loader.MetaPageCount], "pages")
	for _, s := range d.Spans {
		fmt.Printf("p. %s: %q\n", s.Label, d.Content[s.Start:s.End])
	}
	if s, ok := document.SpanAt(d.Spans, len(d.Content)-1); ok {
		fmt.Println("the last word is on p.", s.Label)
	}
	// Output:
	// A short example - 3 pages
	// p. i: "Contents: the first and the second chapter."
	// p. 1: "The first chapter finds an example."
	// p. 2: "The second chapter."
	// the last word is on p. 2
}
