package loader_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// The fuzz targets feed each container loader arbitrary bytes, starting
// from the committed seeds in testdata/fuzz/Fuzz<FORMAT> (files built by
// the samples here and written by pandoc from a short text of our own).
// A loader must not panic, must fail only with this package's sentinels,
// and must return valid documents when it succeeds.

func fuzzLoader(f *testing.F, name string) {
	l, _, ok := loader.Default.Lookup(&loader.File{Name: name})
	if !ok {
		f.Fatalf("no loader for %s", name)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small limits keep each run quick and exercise the limit paths.
		file := &loader.File{Name: name, Data: data, Limits: loader.Limits{MaxUncompressed: 4 << 20, MaxEntries: 200}}
		docs, err := l.Load(context.Background(), file)
		if err != nil {
			for _, s := range []error{loader.ErrMalformed, loader.ErrTooLarge, loader.ErrEncrypted, loader.ErrNoText} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error outside the package's sentinels: %v", err)
		}
		if len(docs) == 0 {
			t.Fatal("no documents and no error")
		}
		for i := range docs {
			if !utf8.ValidString(docs[i].Content) {
				t.Fatal("content is not valid UTF-8")
			}
			if err := document.Validate(&docs[i]); err != nil {
				t.Fatalf("invalid document: %v", err)
			}
		}
	})
}

func FuzzDOCX(f *testing.F) { fuzzLoader(f, "fuzz.docx") }
func FuzzPPTX(f *testing.F) { fuzzLoader(f, "fuzz.pptx") }
func FuzzODT(f *testing.F)  { fuzzLoader(f, "fuzz.odt") }
func FuzzEPUB(f *testing.F) { fuzzLoader(f, "fuzz.epub") }
func FuzzXLSX(f *testing.F) { fuzzLoader(f, "fuzz.xlsx") }

// TestWriteOfficeFuzzSeeds writes the samples as seed corpus files when
// RAG_WRITE_FUZZ_SEEDS is set (how the committed seeds were made).
func TestWriteOfficeFuzzSeeds(t *testing.T) {
	if os.Getenv("RAG_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set RAG_WRITE_FUZZ_SEEDS=1 to rewrite the seeds")
	}
	for name, data := range samples(t) {
		target := map[string]string{"a.docx": "FuzzDOCX", "a.pptx": "FuzzPPTX", "a.odt": "FuzzODT", "a.epub": "FuzzEPUB", "a.xlsx": "FuzzXLSX"}[name]
		writeSeed(t, target, "sample", data)
	}
	// Files pandoc wrote, given in RAG_WRITE_FUZZ_SEEDS_DIR as seed.<ext>.
	if dir := os.Getenv("RAG_WRITE_FUZZ_SEEDS_DIR"); dir != "" {
		for ext, target := range map[string]string{"docx": "FuzzDOCX", "pptx": "FuzzPPTX", "odt": "FuzzODT", "epub": "FuzzEPUB"} {
			data, err := os.ReadFile(filepath.Join(dir, "seed."+ext))
			if err != nil {
				t.Fatal(err)
			}
			writeSeed(t, target, "pandoc", data)
		}
	}
}

func writeSeed(t *testing.T, target, name string, data []byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
