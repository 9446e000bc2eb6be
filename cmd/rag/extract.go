package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// extracted is one document in rag extract --json's output.
type extracted struct {
	File     string          `json:"file"`
	Title    string          `json:"title,omitempty"`
	Source   string          `json:"source,omitempty"`
	Metadata map[string]any  `json:"metadata,omitempty"`
	Spans    []document.Span `json:"spans,omitempty"`
	Content  string          `json:"content"`
}

// extract prints what the loaders extract from each file.
func extract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("extract", "[--json] FILE...", stderr)
	asJSON := fs.Bool("json", false, "print a JSON object per document, one a line")
	maxSize := fs.Int64("max-size", 0, "largest file read, in bytes (0: the loader default, 64 MiB)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return errUsage
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	failed := 0
	for _, name := range files {
		docs, err := loadFile(ctx, name, *maxSize)
		if err != nil {
			fmt.Fprintln(stderr, "rag: extract:", err)
			failed++
			continue
		}
		for i, d := range docs {
			if *asJSON {
				if err := enc.Encode(extracted{File: name, Title: d.Title, Source: d.Source, Metadata: d.Metadata, Spans: d.Spans, Content: d.Content}); err != nil {
					return err
				}
				continue
			}
			printDocument(stdout, name, i, len(docs), &d)
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d files could not be extracted", failed, len(files))}
	}
	return nil
}

func loadFile(ctx context.Context, name string, maxSize int64) ([]document.Document, error) {
	lim := loader.Limits{MaxFileSize: maxSize}.WithDefaults()
	info, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if lim.MaxFileSize > 0 && info.Size() > lim.MaxFileSize {
		return nil, &loader.Error{Name: name, Err: fmt.Errorf("%w: %d bytes, limit %d", loader.ErrTooLarge, info.Size(), lim.MaxFileSize)}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return loader.Load(ctx, &loader.File{Name: name, Data: data, ModTime: info.ModTime(), Limits: lim})
}

// printDocument prints a document as a header of its fields, then its
// content.
func printDocument(w io.Writer, name string, i, n int, d *document.Document) {
	head := "== " + name
	if n > 1 {
		head += fmt.Sprintf(" (document %d of %d)", i+1, n)
	}
	fmt.Fprintln(w, head)
	if d.Title != "" {
		fmt.Fprintf(w, "title: %s\n", d.Title)
	}
	if d.Source != "" && d.Source != name {
		fmt.Fprintf(w, "source: %s\n", d.Source)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Metadata)) {
		fmt.Fprintf(w, "%s: %v\n", k, d.Metadata[k])
	}
	if len(d.Spans) > 0 {
		parts := make([]string, len(d.Spans))
		for j, s := range d.Spans {
			parts[j] = fmt.Sprintf("%s %s [%d,%d)", s.Kind, s.Label, s.Start, s.End)
		}
		fmt.Fprintf(w, "spans: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.TrimRight(d.Content, "\n"))
	fmt.Fprintln(w)
}
