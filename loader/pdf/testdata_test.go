package pdf_test

import (
	"bytes"
	"os"
	"testing"
)

// TestExampleFile: testdata/example.pdf, which Example reads, is the
// file testPDF writes (regenerate it with RAG_PDF_WRITE_TESTDATA=1).
func TestExampleFile(t *testing.T) {
	want := testPDF{
		pages: []string{
			textPage("Contents: the first and the second chapter."),
			textPage("The first chapter \x01nds an exam-", "ple."),
			textPage("The second chapter."),
		},
		info:   map[string]string{"Title": "A short example"},
		labels: "<< /Nums [0 << /S /r >> 1 << /S /D >>] >>",
	}.bytes()
	if os.Getenv("RAG_PDF_WRITE_TESTDATA") != "" {
		if err := os.WriteFile("testdata/example.pdf", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("testdata/example.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("testdata/example.pdf is not what testPDF writes; regenerate it with RAG_PDF_WRITE_TESTDATA=1")
	}
}
