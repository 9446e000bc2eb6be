package pdf_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/loader/pdf"
)

func load(t *testing.T, data []byte) (document.Document, error) {
	t.Helper()
	docs, err := loader.Load(context.Background(), &loader.File{Name: "test.pdf", Data: data})
	if err != nil {
		return document.Document{}, err
	}
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	return docs[0], nil
}

func pageTexts(d document.Document) (labels, texts []string) {
	for _, s := range d.Spans {
		labels = append(labels, s.Label)
		texts = append(texts, d.Content[s.Start:s.End])
	}
	return labels, texts
}

func TestPagesLigaturesAndHyphens(t *testing.T) {
	data := testPDF{pages: []string{
		textPage("We \x01nd the \x02ow of e\x03ort, an e\x04cient", "ba\x05e. A long exam-", "ple of a non-", "Euclidean space, 1990-", "1995."),
		textPage("Second page."),
		imagePage,
		textPage("Fourth page."),
	}}.bytes()
	d, err := load(t, data)
	if err != nil {
		t.Fatal(err)
	}
	labels, texts := pageTexts(d)
	if got, want := strings.Join(labels, ","), "1,2,3,4"; got != want {
		t.Errorf("labels %s, want %s", got, want)
	}
	for _, s := range d.Spans {
		if s.Kind != document.SpanPage {
			t.Errorf("span kind %q, want %q", s.Kind, document.SpanPage)
		}
	}
	first := texts[0]
	for _, want := range []string{"find", "flow", "effort", "efficient", "baffle", "example", "non-\nEuclidean", "1990-\n1995"} {
		if !strings.Contains(first, want) {
			t.Errorf("page 1 %q lacks %q", first, want)
		}
	}
	if strings.ContainsAny(d.Content, "\uFB00\uFB01\uFB02\uFB03\uFB04\uFFFD\uFFFE\x02") {
		t.Errorf("content %q holds a ligature, a replacement character or a hyphen mark", d.Content)
	}
	if texts[1] != "Second page." || texts[2] != "" || texts[3] != "Fourth page." {
		t.Errorf("pages 2 to 4 = %q", texts[1:])
	}
	if got := d.Metadata[loader.MetaPageCount]; got != float64(4) && got != 4 {
		t.Errorf("page_count %v (%T), want 4", got, got)
	}
	if got := d.Metadata[loader.MetaMIMEType]; got != "application/pdf" {
		t.Errorf("mime_type %v", got)
	}
	if sp, ok := document.SpanAt(d.Spans, strings.Index(d.Content, "Fourth")); !ok || sp.Label != "4" {
		t.Errorf("SpanAt(Fourth) = %v, %v; want page 4", sp, ok)
	}
}

func TestMetadataAndPageLabels(t *testing.T) {
	data := testPDF{
		pages:  []string{textPage("Preface."), textPage("Contents."), textPage("Chapter one.")},
		info:   map[string]string{"Title": "Annual report", "Author": "Ada Lovelace", "CreationDate": "D:20240131120000+01'00'", "ModDate": "D:20250601"},
		lang:   "en-GB",
		labels: "<< /Nums [0 << /S /r >> 2 << /S /D /P (p. ) >>] >>",
	}.bytes()
	d, err := load(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "Annual report" {
		t.Errorf("Title %q", d.Title)
	}
	want := map[string]any{
		loader.MetaAuthor:   "Ada Lovelace",
		loader.MetaCreated:  time.Date(2024, 1, 31, 11, 0, 0, 0, time.UTC),
		loader.MetaModified: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		loader.MetaLanguage: "en-GB",
	}
	for k, v := range want {
		got := d.Metadata[k]
		if tv, ok := v.(time.Time); ok {
			if gt, ok := got.(time.Time); !ok || !gt.Equal(tv) {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
			continue
		}
		if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	labels, _ := pageTexts(d)
	if got, want := strings.Join(labels, ","), "i,ii,p. 1"; got != want {
		t.Errorf("labels %s, want %s", got, want)
	}
}

func TestEncrypted(t *testing.T) {
	data := testPDF{pages: []string{textPage("Top secret.")}, info: map[string]string{"Title": "Hidden"}, password: "swordfish"}.bytes()
	_, err := load(t, data)
	if !errors.Is(err, loader.ErrEncrypted) {
		t.Fatalf("err = %v, want loader.ErrEncrypted", err)
	}
	l := pdf.New(pdf.Options{Password: "swordfish"})
	defer l.Close()
	docs, err := l.Load(context.Background(), &loader.File{Name: "secret.pdf", Data: data})
	if err != nil {
		t.Fatalf("with the password: %v", err)
	}
	if docs[0].Content != "Top secret." || docs[0].Title != "Hidden" {
		t.Errorf("with the password: content %q, title %q", docs[0].Content, docs[0].Title)
	}
	wrong := pdf.New(pdf.Options{Password: "guess", Instances: 1})
	defer wrong.Close()
	if _, err := wrong.Load(context.Background(), &loader.File{Name: "secret.pdf", Data: data}); !errors.Is(err, loader.ErrEncrypted) {
		t.Errorf("wrong password: err = %v, want loader.ErrEncrypted", err)
	}
}

func TestNoText(t *testing.T) {
	_, err := load(t, testPDF{pages: []string{imagePage, imagePage}}.bytes())
	if !errors.Is(err, loader.ErrNoText) {
		t.Fatalf("err = %v, want loader.ErrNoText", err)
	}
}

func TestMalformed(t *testing.T) {
	good := testPDF{pages: []string{textPage("Hello.")}}.bytes()
	for name, data := range map[string][]byte{
		"empty":     {},
		"garbage":   []byte("this is not a PDF at all, only some words"),
		"header":    []byte("%PDF-1.7\n"),
		"truncated": good[:len(good)/3],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pdf.Default.Load(context.Background(), &loader.File{Name: name + ".pdf", Data: data})
			if !errors.Is(err, loader.ErrMalformed) {
				t.Errorf("err = %v, want loader.ErrMalformed", err)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	data := testPDF{pages: []string{textPage("Hello.")}}.bytes()
	for _, f := range []*loader.File{
		{Name: "REPORT.PDF"},
		{Name: "upload", MIME: "application/pdf; charset=binary"},
		{Name: "upload.bin", Data: data}, // sniffed
	} {
		l, format, ok := loader.Default.Lookup(f)
		if !ok || format != pdf.Format || l != pdf.Default {
			t.Errorf("Lookup(%q, %q) = %v, %q, %v; want pdf.Default", f.Name, f.MIME, l, format, ok)
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := testPDF{pages: []string{textPage("Hello.")}}.bytes()
	if _, err := pdf.Default.Load(ctx, &loader.File{Name: "a.pdf", Data: data}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestConcurrentLoads(t *testing.T) {
	l := pdf.New(pdf.Options{Instances: 2})
	defer l.Close()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			want := strings.Repeat("x", i+1)
			docs, err := l.Load(context.Background(), &loader.File{Name: "c.pdf", Data: testPDF{pages: []string{textPage(want)}}.bytes()})
			if err == nil && docs[0].Content != want {
				err = errors.New("content " + docs[0].Content + ", want " + want)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestSharedPages: a file long enough to share its pages among free
// instances gives the same document as one instance reading it alone,
// every page in its place.
func TestSharedPages(t *testing.T) {
	var pages []string
	for i := range 40 {
		pages = append(pages, textPage(fmt.Sprintf("Page %d of forty.", i+1), strings.Repeat("word ", i%7+1)))
	}
	data := testPDF{pages: pages, labels: "<</Nums[0<</S/r>>4<</S/D>>]>>"}.bytes()
	read := func(instances int) document.Document {
		l := pdf.New(pdf.Options{Instances: instances, NoCacheDir: true})
		defer l.Close()
		docs, err := l.Load(context.Background(), &loader.File{Name: "long.pdf", Data: data})
		if err != nil {
			t.Fatalf("%d instances: %v", instances, err)
		}
		return docs[0]
	}
	alone, shared := read(1), read(3)
	if !reflect.DeepEqual(alone, shared) {
		t.Errorf("3 instances:\n%+v\none:\n%+v", shared, alone)
	}
	labels, texts := pageTexts(shared)
	if len(texts) != 40 {
		t.Fatalf("%d pages, want 40", len(texts))
	}
	for i, text := range texts {
		if want := fmt.Sprintf("Page %d of forty.", i+1); !strings.HasPrefix(text, want) {
			t.Errorf("page %d: %q, want it to start with %q", i+1, text, want)
		}
	}
	if labels[0] != "i" || labels[4] != "1" || labels[39] != "36" {
		t.Errorf("labels %v", labels)
	}
}
