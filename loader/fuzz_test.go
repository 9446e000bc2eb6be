package loader

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ragkit-go/rag/document"
)

// fuzzLoader runs l on data directly (the Registry would recover a panic
// and hide it) and checks what every loader promises: no panic, documents
// or an error but not both, and documents whose text is valid UTF-8 with
// valid spans and metadata (empty content is the Registry's to reject).
// The seeds are in testdata/fuzz/<name>.
func fuzzLoader(f *testing.F, name string, l Loader) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		docs, err := l.Load(ctx, &File{Name: name, Data: data, Limits: Limits{}.WithDefaults()})
		if err != nil {
			if docs != nil {
				t.Fatalf("documents and an error: %v", err)
			}
			return
		}
		for i := range docs {
			if err := document.Validate(&docs[i]); err != nil && !errors.Is(err, document.ErrEmptyContent) {
				t.Fatalf("document %d: %v", i, err)
			}
		}
	})
}

func FuzzMarkdown(f *testing.F) { fuzzLoader(f, "a.md", Markdown) }
func FuzzText(f *testing.F)     { fuzzLoader(f, "a.txt", Text) }
func FuzzHTML(f *testing.F)     { fuzzLoader(f, "a.html", HTML) }
func FuzzEmail(f *testing.F)    { fuzzLoader(f, "a.eml", Email) }
func FuzzCSV(f *testing.F)      { fuzzLoader(f, "a.csv", NewCSV(RecordOptions{})) }
func FuzzJSONL(f *testing.F) {
	fuzzLoader(f, "a.jsonl", NewJSONL(RecordOptions{ID: "id", Title: "title", Content: []string{"text"}, Metadata: []string{"n", "tags"}}))
}
