package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/klippa-app/go-pdfium"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// MIMEType is the media type of PDF files.
const MIMEType = "application/pdf"

// Format is the name the loader is registered under.
const Format = "pdf"

// ErrClosed is what a load running while its Loader is closed fails
// with. Loads started after Close succeed: the engine starts again.
var ErrClosed = errors.New("pdf: loader closed during the load")

// Options configure a Loader. The zero value works.
type Options struct {
	// Instances is how many PDFium instances may run at once: loads
	// beyond that wait for one. A load of a file of 8 pages or more also
	// takes the instances no other load uses at that moment and shares
	// its pages among them (each opens the file), so that one large file
	// uses the free cores. Each instance costs its own WebAssembly memory
	// (tens of MiB for a large file). Zero means GOMAXPROCS, at most 4.
	Instances int
	// Password opens encrypted PDFs that need one. Files it does not open
	// fail with loader.ErrEncrypted, as do all encrypted files when it is
	// empty.
	Password string
	// CacheDir is the directory where PDFium's compiled code is kept
	// between processes (about 30 MiB), so that only the first process
	// compiles it (seconds) and the next ones read it (tens of
	// milliseconds). Empty means DefaultCacheDir. The directory is this
	// package's: it removes entries there that fail their check. One that
	// cannot be used (not creatable, read-only, damaged entries, entries of
	// another wazero) never fails a load: PDFium is compiled again, into
	// it when it can be written, else in memory only.
	CacheDir string
	// NoCacheDir keeps compiled PDFium in memory only: every process
	// compiles it again, and nothing is written to disk.
	NoCacheDir bool
}

// Loader reads PDF files with PDFium compiled to WebAssembly.
//
// Concurrency: Load and Close may be called from many goroutines at once.
type Loader struct {
	opts Options
	eng  *engine
}

var _ loader.Loader = (*Loader)(nil)

// New returns a Loader. It starts nothing: the first Load (or Start)
// compiles PDFium, or reads it from the cache directory, and starts an
// instance; later ones reuse the idle instances.
func New(opts Options) *Loader {
	if opts.Instances <= 0 {
		opts.Instances = min(runtime.GOMAXPROCS(0), 4)
	}
	return &Loader{opts: opts, eng: newEngine(opts.Instances, cacheChoice{dir: opts.CacheDir, memoryOnly: opts.NoCacheDir})}
}

// Start starts the engine now rather than at the first Load: it compiles
// PDFium (or reads it from the cache directory) and leaves one instance
// idle. A program that will load PDFs can call it on a goroutine of its
// own while it does other work (reading files, opening a store), so that
// the first Load does not wait for the start. It returns once the engine
// runs; calling it again, or after a Load, does nothing more.
func (l *Loader) Start(ctx context.Context) error {
	return l.eng.run(ctx, func(context.Context, pdfium.Pdfium, *spares) error { return nil })
}

// Close releases the Loader's PDFium instances and WebAssembly runtime;
// loads running at that moment fail with ErrClosed. A Load after Close
// starts the engine again, so Close is also the way to give back the
// memory of a loader that sits idle. It returns once nothing of the
// engine runs any more.
func (l *Loader) Close() error { return l.eng.close() }

// Default is the loader this package registers in loader.Default for
// ".pdf" files and the media type application/pdf.
var Default = New(Options{})

func init() {
	loader.Register(Format, Default, []string{".pdf"}, []string{MIMEType})
}

// Shutdown closes Default (see Loader.Close): call it when a program
// is done loading PDFs to give back their memory, or at the end of tests
// that used loader.Default.
func Shutdown() error { return Default.Close() }

// Load extracts f's text: one document whose Content is the pages' text
// in order, separated by a blank line, with one document.Span of kind
// page per page, labelled with the page's label when the PDF defines
// labels and its number otherwise. An encrypted file it cannot open fails
// with loader.ErrEncrypted, a file with no text on any page (a scan) with
// loader.ErrNoText, and one PDFium cannot read with loader.ErrMalformed.
func (l *Loader) Load(ctx context.Context, f *loader.File) ([]document.Document, error) {
	// An abandoned load's instance may still be reading the bytes after
	// Load returns; it reads its own copy.
	data := bytes.Clone(f.Data)
	var d document.Document
	err := l.eng.run(ctx, func(ctx context.Context, p pdfium.Pdfium, spare *spares) error {
		var err error
		d, err = l.extract(ctx, p, spare, data)
		return err
	})
	if err != nil {
		return nil, err
	}
	return []document.Document{d}, nil
}

// pageSeparator stands between two pages' text in Content.
const pageSeparator = "\n\n"

func (l *Loader) extract(ctx context.Context, p pdfium.Pdfium, spare *spares, data []byte) (document.Document, error) {
	doc, err := l.open(p, data)
	if err != nil {
		return document.Document{}, err
	}
	defer p.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc})

	count, err := p.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc})
	if err != nil {
		return document.Document{}, fmt.Errorf("%w: counting pages: %w", loader.ErrMalformed, err)
	}
	n := count.PageCount
	pages, err := l.readPages(ctx, p, doc, spare, data, n)
	if err != nil {
		return document.Document{}, err
	}
	var (
		b     strings.Builder
		spans = make([]document.Span, 0, n)
		text  bool
	)
	for i, page := range pages {
		if i > 0 {
			b.WriteString(pageSeparator)
		}
		start := b.Len()
		b.WriteString(page.text)
		text = text || page.text != ""
		spans = append(spans, document.Span{Kind: document.SpanPage, Label: page.label, Start: start, End: b.Len()})
	}
	if !text {
		return document.Document{}, fmt.Errorf("%w: none of the %d pages has text (a scanned or image-only PDF?)", loader.ErrNoText, n)
	}
	d := document.Document{Content: b.String(), Spans: spans, Metadata: map[string]any{
		loader.MetaMIMEType:  MIMEType,
		loader.MetaPageCount: n,
	}}
	readMetadata(p, doc, &d)
	return d, nil
}

// open opens the PDF in data, with the password of the options.
func (l *Loader) open(p pdfium.Pdfium, data []byte) (references.FPDF_DOCUMENT, error) {
	req := &requests.OpenDocument{File: &data}
	if l.opts.Password != "" {
		req.Password = &l.opts.Password
	}
	opened, err := p.OpenDocument(req)
	if err != nil {
		switch {
		case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
			return "", fmt.Errorf("%w: %w", loader.ErrEncrypted, err)
		default:
			return "", fmt.Errorf("%w: %w", loader.ErrMalformed, err)
		}
	}
	return opened.Document, nil
}

// pageText returns page i's text, with its annotations', in the content
// stream's order, laid out in lines and words by layoutText.
func pageText(p pdfium.Pdfium, doc references.FPDF_DOCUMENT, i int) (string, error) {
	page, err := p.FPDF_LoadPage(&requests.FPDF_LoadPage{Document: doc, Index: i})
	if err != nil {
		return "", err
	}
	defer p.FPDF_ClosePage(&requests.FPDF_ClosePage{Page: page.Page})
	ref := requests.Page{ByReference: &page.Page}
	if a, err := p.FPDFPage_GetAnnotCount(&requests.FPDFPage_GetAnnotCount{Page: ref}); err == nil && a.Count > 0 {
		// Annotations and form fields are text a reader sees (a filled-in
		// field, a stamp, a free-text note) that PDFium's text page leaves
		// out; flattening puts their appearance into the page's content.
		// Only this in-memory copy of the file changes.
		_, _ = p.FPDFPage_Flatten(&requests.FPDFPage_Flatten{Page: ref, Usage: requests.FPDFPage_FlattenUsageNormalDisplay})
	}
	tp, err := p.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: ref})
	if err != nil {
		return "", err
	}
	defer p.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	chars, err := p.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil {
		return "", err
	}
	if chars.Count <= 0 {
		return "", nil
	}
	gs, err := pageGlyphs(p, tp.TextPage, chars.Count)
	if err != nil {
		return "", err
	}
	return layoutText(gs), nil
}

// pageLabel returns page i's label (PDF page labels: "iv", "A-3"), or
// its number counted from 1 when the PDF has none.
func pageLabel(p pdfium.Pdfium, doc references.FPDF_DOCUMENT, i int) string {
	if r, err := p.FPDF_GetPageLabel(&requests.FPDF_GetPageLabel{Document: doc, Page: i}); err == nil {
		if s := strings.TrimSpace(cleanLine(r.Label)); s != "" {
			return s
		}
	}
	return strconv.Itoa(i + 1)
}
