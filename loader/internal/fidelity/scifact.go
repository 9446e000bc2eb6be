package fidelity

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Abstract is one SciFact corpus entry: real prose for fidelity tests.
type Abstract struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// SciFact returns the SciFact abstracts that keep says to keep, in corpus
// order, from $RAG_SCIFACT_DIR or shared/data/scifact beside the
// repository. The test skips when the corpus is absent: it is read, never
// copied into the repository.
func SciFact(t testing.TB, keep func(Abstract) bool) []Abstract {
	t.Helper()
	dir := os.Getenv("RAG_SCIFACT_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for dir = wd; ; {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				t.Skip("repository root not found, and RAG_SCIFACT_DIR is not set")
			}
			dir = parent
		}
		dir = filepath.Join(dir, "..", "shared", "data", "scifact")
	}
	path := filepath.Join(dir, "corpus.jsonl.gz")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("SciFact corpus not found at %s (set RAG_SCIFACT_DIR)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []Abstract
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var a Abstract
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		if keep == nil || keep(a) {
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
