package loader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// The formats of this package are registered in loader.Default: a file's
// name picks its loader, and its front matter becomes metadata.
func ExampleLoad() {
	md := "---\ntitle: Tides\ntags: [sea, moon]\nauthor: Mary Sea\n---\n# How tides work\n\nThe Moon pulls the sea.\n"
	docs, err := loader.Load(context.Background(), &loader.File{Name: "notes/tides.md", Data: []byte(md)})
	if err != nil {
		panic(err)
	}
	d := docs[0]
	fmt.Println(d.Title, d.Tags, d.Source, d.Metadata[loader.MetaAuthor])
	fmt.Printf("%q\n", d.Content)

	_, err = loader.Load(context.Background(), &loader.File{Name: "photo.raw", Data: []byte{0, 1, 2}})
	fmt.Println(errors.Is(err, loader.ErrUnsupported), err)
	// Output:
	// Tides [sea moon] notes/tides.md Mary Sea
	// "# How tides work\n\nThe Moon pulls the sea.\n"
	// true loader: "photo.raw": loader: unsupported file type
}

// A format of your own is a function registered for its extensions and
// media types. This one reads a file of slides separated by "---" lines,
// and marks where each slide lies with a Span, so hits and citations can
// say "slide 2".
func ExampleLoaderFunc() {
	slides := loader.LoaderFunc(func(ctx context.Context, f *loader.File) ([]document.Document, error) {
		var d document.Document
		var b strings.Builder
		for i, s := range bytes.Split(f.Data, []byte("\n---\n")) {
			if i > 0 {
				b.WriteString("\n\n")
			}
			start := b.Len()
			b.Write(bytes.TrimSpace(s))
			d.Spans = append(d.Spans, document.Span{Kind: document.SpanSlide, Label: fmt.Sprint(i + 1), Start: start, End: b.Len()})
		}
		d.Content = b.String()
		return []document.Document{d}, nil
	})
	var r loader.Registry // or loader.Register, to add it to loader.Default
	r.Register("slides", slides, []string{".slides"}, []string{"application/x-slides"})

	docs, err := r.Load(context.Background(), &loader.File{Name: "talk.slides", Data: []byte("Hello\n---\nTides\n---\nQuestions?")})
	if err != nil {
		panic(err)
	}
	d := docs[0]
	sp, _ := document.SpanAt(d.Spans, strings.Index(d.Content, "Tides"))
	fmt.Println(len(d.Spans), "slides; \"Tides\" is on", sp.Kind, sp.Label)
	// Output:
	// 3 slides; "Tides" is on slide 2
}
