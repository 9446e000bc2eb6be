package loader_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

func loadOne(t *testing.T, name string, data []byte) document.Document {
	t.Helper()
	docs, err := loader.Load(context.Background(), &loader.File{Name: name, Data: data})
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	if len(docs) != 1 {
		t.Fatalf("Load(%s): %d documents, want 1", name, len(docs))
	}
	return docs[0]
}

func wantMeta(t *testing.T, d document.Document, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got := d.Metadata[k]
		if wt, ok := v.(time.Time); ok {
			if gt, ok := got.(time.Time); !ok || !gt.Equal(wt) {
				t.Errorf("metadata %s = %v, want %v", k, got, v)
			}
			continue
		}
		if got != v {
			t.Errorf("metadata %s = %#v, want %#v", k, got, v)
		}
	}
}

func spanTexts(d document.Document) map[string]string {
	m := map[string]string{}
	for _, s := range d.Spans {
		m[s.Label] = d.Content[s.Start:s.End]
	}
	return m
}

func TestDOCX(t *testing.T) {
	d := loadOne(t, "report.docx", sampleDOCX(t))
	if d.Content != sampleDOCXMarkdown {
		t.Errorf("content:\n%s\n\nwant:\n%s", d.Content, sampleDOCXMarkdown)
	}
	if d.Title != "Quarterly Report" {
		t.Errorf("title %q", d.Title)
	}
	wantMeta(t, d, map[string]any{
		loader.MetaAuthor: "Ada Lovelace", loader.MetaLanguage: "en-GB",
		loader.MetaCreated:  time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC),
		loader.MetaModified: time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC),
		loader.MetaMIMEType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	})
}

func TestPPTXSlidesInPresentationOrder(t *testing.T) {
	d := loadOne(t, "deck.pptx", samplePPTX(t))
	slide1 := "# Roadmap\n\n- ship it\n    - soon\n\nno bullet\n\n1. step\n\n| Q1 | Q2 |\n| --- | --- |\n| 10 | 20 |"
	slide2 := "# Thanks\n\na free text box\n\nNotes:\n\nSay goodbye."
	if want := slide1 + "\n\n" + slide2; d.Content != want {
		t.Errorf("content:\n%s\n\nwant:\n%s", d.Content, want)
	}
	want := []document.Span{{Kind: document.SpanSlide, Label: "1", Start: 0, End: len(slide1)}, {Kind: document.SpanSlide, Label: "2", Start: len(slide1) + 2, End: len(slide1) + 2 + len(slide2)}}
	if len(d.Spans) != 2 || d.Spans[0] != want[0] || d.Spans[1] != want[1] {
		t.Errorf("spans %v, want %v", d.Spans, want)
	}
	wantMeta(t, d, map[string]any{loader.MetaPageCount: float64(2), loader.MetaAuthor: "Ada Lovelace"})
	if d.Title != "Quarterly Report" {
		t.Errorf("title %q", d.Title)
	}

	docs, err := loader.NewPPTX(loader.PPTXOptions{SkipNotes: true}).Load(context.Background(), &loader.File{Name: "deck.pptx", Data: samplePPTX(t)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(docs[0].Content, "goodbye") {
		t.Errorf("SkipNotes kept the notes: %q", docs[0].Content)
	}
}

func TestODT(t *testing.T) {
	d := loadOne(t, "notes.odt", sampleODT(t))
	if d.Content != sampleODTMarkdown {
		t.Errorf("content:\n%s\n\nwant:\n%s", d.Content, sampleODTMarkdown)
	}
	wantMeta(t, d, map[string]any{
		loader.MetaAuthor: "Gilbert White", loader.MetaLanguage: "en",
		loader.MetaCreated:  time.Date(1789, 5, 1, 8, 0, 0, 0, time.UTC),
		loader.MetaModified: time.Date(1789, 6, 1, 8, 0, 0, 0, time.UTC),
	})
	if d.Title != "Field Notes" {
		t.Errorf("title %q", d.Title)
	}
}

func TestEPUBChaptersInSpineOrder(t *testing.T) {
	d := loadOne(t, "book.epub", sampleEPUB(t))
	chapters := []struct{ label, text string }{
		{"Beginnings", "# Chapter One\n\nIt was cold.\n\n- snow\n    - deep\n- ice"},
		{"Middle & more", "# Two\n\n| Name | Age |\n| --- | --- |\n| Meg | 16 |\n\n1. first\n2. second"},
		{"The End", "## The End\n\nThey lived on. Happily.\n\n```\nline 1\nline 2\n```"},
	}
	var want []string
	for _, c := range chapters {
		want = append(want, c.text)
	}
	if w := strings.Join(want, "\n\n"); d.Content != w {
		t.Errorf("content:\n%s\n\nwant:\n%s", d.Content, w)
	}
	if len(d.Spans) != len(chapters) {
		t.Fatalf("spans %v, want %d", d.Spans, len(chapters))
	}
	for i, c := range chapters {
		s := d.Spans[i]
		if s.Kind != document.SpanChapter || s.Label != c.label || d.Content[s.Start:s.End] != c.text {
			t.Errorf("span %d = %+v (%q), want label %q over %q", i, s, d.Content[s.Start:s.End], c.label, c.text)
		}
	}
	wantMeta(t, d, map[string]any{
		loader.MetaAuthor: "Jo March", loader.MetaLanguage: "fr", loader.MetaPageCount: float64(3),
		loader.MetaCreated:  time.Date(1868, 9, 30, 0, 0, 0, 0, time.UTC),
		loader.MetaModified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if d.Title != "A Small Book" {
		t.Errorf("title %q", d.Title)
	}
}

// sampleXLSX is a workbook written by excelize: a sheet whose cells
// start at C3 with an empty column inside, a formula whose cached value
// (99) differs from what it would compute (5), an empty sheet, and a cell
// holding a pipe.
func sampleXLSX(t testing.TB) []byte {
	f := excelize.NewFile()
	defer f.Close()
	set := func(sheet, cell string, v any) {
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	set("Sheet1", "C3", "Item")
	set("Sheet1", "E3", "Price")
	set("Sheet1", "C4", "tea | coffee")
	set("Sheet1", "E4", 2)
	set("Sheet1", "C6", "total")
	set("Sheet1", "E6", 99)
	if err := f.SetCellFormula("Sheet1", "E6", "E4+3"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetName("Sheet1", "Prices"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Empty", "Notes"} {
		if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
	}
	set("Notes", "A1", "checked")
	f.SetDocProps(&excelize.DocProperties{Title: "Price list", Creator: "Grace Hopper", Language: "en-US"})
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXSheetsAsTables(t *testing.T) {
	d := loadOne(t, "prices.xlsx", sampleXLSX(t))
	prices := "## Prices\n\n| Item | Price |\n| --- | --- |\n| tea \\| coffee | 2 |\n| total | 99 |"
	notes := "## Notes\n\n| checked |\n| --- |"
	if want := prices + "\n\n" + notes; d.Content != want {
		t.Errorf("content:\n%s\n\nwant:\n%s", d.Content, want)
	}
	labels := []string{"Prices", "Empty", "Notes"}
	if len(d.Spans) != 3 {
		t.Fatalf("spans %v, want one per sheet", d.Spans)
	}
	for i, s := range d.Spans {
		if s.Kind != document.SpanSheet || s.Label != labels[i] {
			t.Errorf("span %d = %+v, want sheet %q", i, s, labels[i])
		}
	}
	if got := spanTexts(d); got["Prices"] != prices || got["Empty"] != "" || got["Notes"] != notes {
		t.Errorf("span texts %q", got)
	}
	wantMeta(t, d, map[string]any{loader.MetaAuthor: "Grace Hopper", loader.MetaLanguage: "en-US", loader.MetaPageCount: float64(3)})
	if d.Title != "Price list" {
		t.Errorf("title %q", d.Title)
	}
}

// samples are one valid file of each format, by file name.
func samples(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"a.docx": sampleDOCX(t), "a.pptx": samplePPTX(t), "a.odt": sampleODT(t),
		"a.epub": sampleEPUB(t), "a.xlsx": sampleXLSX(t),
	}
}

func TestZipSniffedWithoutExtension(t *testing.T) {
	for name, data := range samples(t) {
		byExt := loadOne(t, name, data)
		sniffed := loadOne(t, "upload", data)
		if sniffed.Content != byExt.Content || sniffed.Metadata[loader.MetaMIMEType] != byExt.Metadata[loader.MetaMIMEType] {
			t.Errorf("%s sniffed as zip loads differently: %q", name, sniffed.Metadata[loader.MetaMIMEType])
		}
	}
	_, err := loader.Load(context.Background(), &loader.File{Name: "upload", Data: container(t, part{"readme.txt", "hello"})})
	if !errors.Is(err, loader.ErrUnsupported) {
		t.Errorf("a plain zip: %v, want ErrUnsupported", err)
	}
}

func TestEncryptedOfficeFiles(t *testing.T) {
	// A Compound File holding an EncryptionInfo stream, as Office writes
	// a password-protected package (real ones are tested in
	// TestXLSXFidelity with excelize's encrypted workbooks).
	cfb := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 1024)...)
	enc := append(append([]byte{}, cfb...), []byte("E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o\x00")...)
	for _, name := range []string{"a.docx", "a.pptx", "a.xlsx"} {
		if _, err := loader.Load(context.Background(), &loader.File{Name: name, Data: enc}); !errors.Is(err, loader.ErrEncrypted) {
			t.Errorf("%s encrypted: %v, want ErrEncrypted", name, err)
		}
		if _, err := loader.Load(context.Background(), &loader.File{Name: name, Data: cfb}); !errors.Is(err, loader.ErrMalformed) {
			t.Errorf("%s legacy binary: %v, want ErrMalformed", name, err)
		}
	}
}

func TestMalformedOfficeFiles(t *testing.T) {
	broken := func(name, body string) []byte {
		return container(t, part{"_rels/.rels", relsHead + rel("rId1", "officeDocument", name) + `</Relationships>`}, part{name, body})
	}
	cases := map[string][]byte{
		"not-zip.docx":    []byte("this is not a zip archive"),
		"truncated.pptx":  samplePPTX(t)[:300],
		"bad-xml.docx":    broken("word/document.xml", `<w:document><w:body><w:p>`),
		"bad-xml.pptx":    broken("ppt/presentation.xml", `<p:presentation><p:sldIdLst>`),
		"no-content.odt":  container(t, part{"mimetype", "application/vnd.oasis.opendocument.text"}),
		"bad-xml.odt":     container(t, part{"content.xml", `<office:document-content><office:body><text:p>unclosed`}),
		"no-opf.epub":     container(t, part{"mimetype", "application/epub+zip"}),
		"bad-xml.epub":    container(t, part{"META-INF/container.xml", `<container><rootfiles>`}),
		"not-zip.xlsx":    []byte("PK\x03\x04 but not really"),
		"no-sheets.xlsx":  container(t, part{"readme.txt", "x"}),
		"bad-sheet.xlsx":  brokenSheet(t),
		"missing-ch.epub": epubWithoutChapter(t),
	}
	for name, data := range cases {
		_, err := loader.Load(context.Background(), &loader.File{Name: name, Data: data})
		if !errors.Is(err, loader.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
		var le *loader.Error
		if !errors.As(err, &le) || le.Name != name {
			t.Errorf("%s: %v is not a *loader.Error naming the file", name, err)
		}
	}
}

// brokenSheet is a workbook whose first sheet's XML is cut short.
func brokenSheet(t testing.TB) []byte {
	return rewrite(t, sampleXLSX(t), "xl/worksheets/sheet1.xml", `<worksheet><sheetData><row r="1"><c r="A1"`)
}

// epubWithoutChapter is a book whose spine names a chapter the archive
// does not hold.
func epubWithoutChapter(t testing.TB) []byte {
	var kept []part
	zr, _ := zip.NewReader(bytes.NewReader(sampleEPUB(t)), int64(len(sampleEPUB(t))))
	for _, f := range zr.File {
		if f.Name == "OPS/text/two.xhtml" {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		kept = append(kept, part{f.Name, string(b)})
	}
	return container(t, kept...)
}

// rewrite returns data, a zip, with the entry name's content replaced.
func rewrite(t testing.TB, data []byte, name, body string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var parts []part
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b = []byte(body)
		}
		parts = append(parts, part{f.Name, string(b)})
	}
	return container(t, parts...)
}

func TestEmptyOfficeFileHasNoText(t *testing.T) {
	data := rewrite(t, sampleDOCX(t), "word/document.xml", `<w:document `+wNS+`><w:body><w:p/></w:body></w:document>`)
	data = rewrite(t, data, "word/footnotes.xml", `<w:footnotes `+wNS+`/>`)
	if _, err := loader.Load(context.Background(), &loader.File{Name: "empty.docx", Data: data}); !errors.Is(err, loader.ErrNoText) {
		t.Errorf("empty document: %v, want ErrNoText", err)
	}
}

func TestZipBombsStopAtTheLimits(t *testing.T) {
	// 8 MiB of text inflated from a few kilobytes, against a 1 MiB limit.
	huge := `<w:document ` + wNS + `><w:body><w:p><w:r><w:t>` + strings.Repeat("bomb ", 8<<20/5) + `</w:t></w:r></w:p></w:body></w:document>`
	bomb := rewrite(t, sampleDOCX(t), "word/document.xml", huge)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed; it should be small", len(bomb))
	}
	lim := loader.Limits{MaxUncompressed: 1 << 20}
	if _, err := loader.Load(context.Background(), &loader.File{Name: "bomb.docx", Data: bomb, Limits: lim}); !errors.Is(err, loader.ErrTooLarge) {
		t.Errorf("DOCX bomb: %v, want ErrTooLarge", err)
	}
	if _, err := loader.Load(context.Background(), &loader.File{Name: "bomb.docx", Data: bomb}); err != nil {
		t.Errorf("the same file within the default limits: %v", err)
	}

	sheet := `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>` + strings.Repeat("bomb ", 8<<20/5) + `</t></is></c></row></sheetData></worksheet>`
	xbomb := rewrite(t, sampleXLSX(t), "xl/worksheets/sheet1.xml", sheet)
	if _, err := loader.Load(context.Background(), &loader.File{Name: "bomb.xlsx", Data: xbomb, Limits: lim}); !errors.Is(err, loader.ErrTooLarge) {
		t.Errorf("XLSX bomb: %v, want ErrTooLarge", err)
	}

	many := make([]part, 50)
	for i := range many {
		many[i] = part{"OPS/x" + strings.Repeat("i", i) + ".css", ""}
	}
	book := append([]part{{"mimetype", "application/epub+zip"}}, many...)
	for name, data := range map[string][]byte{"many.epub": container(t, book...), "many.xlsx": container(t, many...)} {
		_, err := loader.Load(context.Background(), &loader.File{Name: name, Data: data, Limits: loader.Limits{MaxEntries: 20}})
		if !errors.Is(err, loader.ErrTooLarge) {
			t.Errorf("%s with 51 entries, limit 20: %v, want ErrTooLarge", name, err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, data := range samples(t) {
		for _, l := range []loader.Loader{loaderFor(t, name)} {
			_, err := l.Load(ctx, &loader.File{Name: name, Data: data})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
			}
		}
	}
}

func loaderFor(t *testing.T, name string) loader.Loader {
	l, _, ok := loader.Default.Lookup(&loader.File{Name: name})
	if !ok {
		t.Fatalf("no loader for %s", name)
	}
	return l
}

func TestLoadersDoNotModifyTheirInput(t *testing.T) {
	for name, data := range samples(t) {
		keep := bytes.Clone(data)
		loadOne(t, name, data)
		if !bytes.Equal(keep, data) {
			t.Errorf("loading %s modified File.Data", name)
		}
	}
}

func TestConcurrentLoadsAgree(t *testing.T) {
	files := samples(t)
	want := map[string]string{}
	for name, data := range files {
		want[name] = loadOne(t, name, data).Content
	}
	errs := make(chan error, 4*len(files))
	for range 4 {
		for name, data := range files {
			go func() {
				docs, err := loader.Load(context.Background(), &loader.File{Name: name, Data: data})
				if err == nil && docs[0].Content != want[name] {
					err = errors.New(name + ": a concurrent load read different content")
				}
				errs <- err
			}()
		}
	}
	for range 4 * len(files) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
