package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/loader/internal/fidelity"
	"github.com/ragkit-go/rag/loader/pdf"
)

// corpusVersion is the pdfcpu module whose test PDFs the fidelity test
// reads (.ci/pdf-corpus.sh downloads the same one).
const corpusVersion = "v0.15.0"

// corpus returns the real PDFs the fidelity test reads: those in
// $RAG_PDF_CORPUS, or else in pdfcpu's module in the module cache. Without
// them it skips, or fails in CI, where .ci/run downloads them.
func corpus(t *testing.T) []string {
	t.Helper()
	dir := os.Getenv("RAG_PDF_CORPUS")
	if dir == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err == nil {
			dir = filepath.Join(strings.TrimSpace(string(out)), "github.com/pdfcpu/pdfcpu@"+corpusVersion, "pkg/testdata")
		}
	}
	var files []string
	for _, pat := range []string{"*.pdf", "*/*.pdf"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		msg := fmt.Sprintf("no PDFs in %q: set RAG_PDF_CORPUS, or run: bash .ci/pdf-corpus.sh", dir)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	slices.Sort(files)
	return files
}

// TestFidelity compares the loader's text with poppler's pdftotext on
// real PDFs, word by word (fidelity.F1): the median file must score at
// least 0.97 and none below 0.8, except scans, which have no text for
// either to find. It also checks what pdftotext is not the judge of: no
// replacement characters and no ligatures in the output.
func TestFidelity(t *testing.T) {
	tool := fidelity.Tool(t, "pdftotext")
	files := corpus(t)
	ctx := context.Background()
	var (
		scores []float64
		table  strings.Builder
	)
	fmt.Fprintf(&table, "%-48s %6s %8s %8s %s\n", "file", "pages", "words", "F1", "note")
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(tool, "-enc", "UTF-8", path, "-")
		cmd.Stderr = &stderr
		want, perr := cmd.Output()
		docs, err := pdf.Default.Load(ctx, &loader.File{Name: path, Data: data})
		switch {
		case perr != nil:
			// Poppler cannot read it: there is nothing to compare with.
			fmt.Fprintf(&table, "%-48s %6s %8s %8s pdftotext failed (%v); ours: %v\n", name, "", "", "", perr, errText(err))
			continue
		case errors.Is(err, loader.ErrNoText) && len(fidelity.Words(string(want))) == 0:
			fmt.Fprintf(&table, "%-48s %6s %8s %8s scanned: no text for either\n", name, "", "", "")
			continue
		case errors.Is(err, loader.ErrEncrypted) && bytes.Contains(stderr.Bytes(), []byte("ncrypt")):
			fmt.Fprintf(&table, "%-48s %6s %8s %8s encrypted for both\n", name, "", "", "")
			continue
		case err != nil:
			t.Errorf("%s: %v (pdftotext read %d words)", name, err, len(fidelity.Words(string(want))))
			scores = append(scores, 0)
			continue
		}
		got := docs[0].Content
		if strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("%s: the text holds U+FFFD", name)
		}
		if strings.ContainsAny(got, "\uFB00\uFB01\uFB02\uFB03\uFB04\uFB05\uFB06") {
			t.Errorf("%s: the text holds a ligature", name)
		}
		if dir := os.Getenv("RAG_PDF_DUMP"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(path)+".ours.txt"), []byte(got), 0o644)
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(path)+".poppler.txt"), want, 0o644)
		}
		f1 := fidelity.F1(got, string(want))
		scores = append(scores, f1)
		note := ""
		if f1 < 0.8 {
			note = "BELOW 0.8"
			t.Errorf("%s: F1 %.3f < 0.8", name, f1)
		}
		fmt.Fprintf(&table, "%-48s %6d %8d %8.3f %s\n", name, len(docs[0].Spans), len(fidelity.Words(got)), f1, note)
	}
	t.Logf("word-level F1 against pdftotext:\n%s", table.String())
	if len(scores) == 0 {
		t.Fatal("no file was compared")
	}
	slices.Sort(scores)
	median := scores[len(scores)/2]
	if len(scores)%2 == 0 {
		median = (scores[len(scores)/2-1] + scores[len(scores)/2]) / 2
	}
	t.Logf("%d files compared: median F1 %.4f, lowest %.4f", len(scores), median, scores[0])
	if median < 0.97 {
		t.Errorf("median F1 %.4f < 0.97", median)
	}
}

func errText(err error) string {
	if err == nil {
		return "read"
	}
	return err.Error()
}
