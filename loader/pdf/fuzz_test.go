package pdf_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/loader/pdf"
)

// FuzzLoad: whatever the bytes, Load does not panic, and either fails
// with one of the errors it documents or returns one valid document with
// no replacement character. The seeds are PDFs of each kind the tests
// write, whole and cut short; CI runs it for a few seconds beyond them.
func FuzzLoad(f *testing.F) {
	for _, p := range []testPDF{
		{pages: []string{textPage("Hello, \x01sh and \x02ies.", "exam-", "ple")}},
		{pages: []string{textPage("One."), imagePage, textPage("Three.")}, labels: "<< /Nums [0 << /S /R /St 4 >>] >>", lang: "de", info: map[string]string{"Title": "T", "CreationDate": "D:19991231235959Z"}},
		{pages: []string{textPage("Secret.")}, password: "pw"},
		{pages: []string{imagePage}},
	} {
		data := p.bytes()
		f.Add(data)
		f.Add(data[:len(data)/2])
		f.Add(data[:len(data)-20])
	}
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 1 0 R>>endobj\ntrailer<</Root 1 0 R>>"))
	f.Add([]byte("%PDF-"))
	// Start PDFium (compiling it takes seconds) before the first input:
	// the fuzzing engine takes an input that long to mean a hung worker.
	_, _ = pdf.Default.Load(context.Background(), &loader.File{Name: "warm.pdf", Data: testPDF{pages: []string{textPage("warm")}}.bytes()})
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := pdf.Default.Load(context.Background(), &loader.File{Name: "fuzz.pdf", Data: data})
		if err != nil {
			if !errors.Is(err, loader.ErrMalformed) && !errors.Is(err, loader.ErrEncrypted) && !errors.Is(err, loader.ErrNoText) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if len(docs) != 1 {
			t.Fatalf("%d documents", len(docs))
		}
		if err := document.Validate(&docs[0]); err != nil {
			t.Fatalf("invalid document: %v", err)
		}
		if strings.ContainsRune(docs[0].Content, '\uFFFD') {
			t.Fatalf("U+FFFD in %q", docs[0].Content)
		}
	})
}
