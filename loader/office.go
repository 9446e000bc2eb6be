package loader

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader/internal/mdwrite"
	"github.com/ragkit-go/rag/loader/internal/zipx"
)

// This file holds what the zip-container formats (DOCX, PPTX, XLSX, ODT,
// EPUB) share: their registration, opening the container within the
// Limits, reading its XML parts, its document properties, and the
// document they make.

func init() { registerOffice() }

// Media types of the zip-container formats.
const (
	mimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	mimePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimeODT  = "application/vnd.oasis.opendocument.text"
	mimeEPUB = "application/epub+zip"
)

// registerOffice registers the zip-container formats in Default, and a
// loader for files sniffed as plain zip that looks inside for which of
// them it is.
func registerOffice() {
	Register("docx", LoaderFunc(loadDOCX), []string{".docx", ".docm", ".dotx"}, []string{mimeDOCX})
	Register("pptx", NewPPTX(PPTXOptions{}), []string{".pptx", ".pptm", ".potx"}, []string{mimePPTX})
	Register("xlsx", LoaderFunc(loadXLSX), []string{".xlsx", ".xlsm", ".xltx"}, []string{mimeXLSX})
	Register("odt", LoaderFunc(loadODT), []string{".odt"}, []string{mimeODT})
	Register("epub", LoaderFunc(loadEPUB), []string{".epub"}, []string{mimeEPUB})
	Register("zip", LoaderFunc(loadZipContainer), nil, []string{"application/zip"})
}

// loadZipContainer loads a file sniffed as a zip (no known extension):
// an OOXML package by its main part, an ODF or EPUB by its mimetype
// entry. Any other zip is unsupported.
func loadZipContainer(ctx context.Context, f *File) ([]document.Document, error) {
	a, err := openContainer(ctx, f)
	if err != nil {
		return nil, err
	}
	if a.Has("mimetype") {
		m, err := a.ReadFile("mimetype")
		if err != nil {
			return nil, containerError(err)
		}
		switch strings.TrimSpace(string(m)) {
		case mimeODT:
			return loadODT(ctx, f)
		case mimeEPUB:
			return loadEPUB(ctx, f)
		}
	}
	switch {
	case a.Has("word/document.xml"):
		return loadDOCX(ctx, f)
	case a.Has("ppt/presentation.xml"):
		return NewPPTX(PPTXOptions{}).Load(ctx, f)
	case a.Has("xl/workbook.xml"):
		return loadXLSX(ctx, f)
	}
	return nil, fmt.Errorf("%w: a zip archive that is none of DOCX, PPTX, XLSX, ODT or EPUB", ErrUnsupported)
}

// openContainer opens f as a zip container within f.Limits (defaults
// for zero fields), unless ctx is done. A Compound File instead of a zip is an encrypted
// OOXML package (ErrEncrypted) or a legacy binary Office file
// (ErrMalformed).
func openContainer(ctx context.Context, f *File) (*zipx.Archive, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if zipx.IsEncryptedOOXML(f.Data) {
		return nil, fmt.Errorf("%w: a password-protected Office file (an encrypted package in a Compound File)", ErrEncrypted)
	}
	if zipx.IsCFB(f.Data) {
		return nil, fmt.Errorf("%w: a Compound File (a legacy binary Office format), not a zip container", ErrMalformed)
	}
	lim := f.Limits.WithDefaults()
	a, err := zipx.Open(f.Data, zipx.Limits{MaxUncompressed: lim.MaxUncompressed, MaxEntries: lim.MaxEntries})
	if err != nil {
		return nil, containerError(err)
	}
	return a, nil
}

// containerError maps a zipx error to this package's sentinels.
func containerError(err error) error {
	if errors.Is(err, zipx.ErrTooLarge) {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// readPart reads the archive entry name; a missing entry is malformed.
func readPart(a *zipx.Archive, name string) ([]byte, error) {
	b, err := a.ReadFile(name)
	if err != nil {
		return nil, containerError(err)
	}
	return b, nil
}

// xmlTokens reads the tokens of an XML part, checking ctx as it goes so
// that an abandoned parse stops.
type xmlTokens struct {
	ctx  context.Context
	d    *xml.Decoder
	part string
	n    int
}

func newXMLTokens(ctx context.Context, part string, data []byte) *xmlTokens {
	d := xml.NewDecoder(strings.NewReader(string(data)))
	d.CharsetReader = charset.NewReaderLabel
	return &xmlTokens{ctx: ctx, d: d, part: part}
}

// next returns the next token, io.EOF at the end, ctx's error once it is
// done, or ErrMalformed for broken XML.
func (x *xmlTokens) next() (xml.Token, error) {
	x.n++
	if x.n%1024 == 0 {
		if err := x.ctx.Err(); err != nil {
			return nil, err
		}
	}
	t, err := x.d.Token()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, x.part, err)
	}
	return t, nil
}

// skip skips the rest of the element whose start was the last token.
func (x *xmlTokens) skip() error {
	if err := x.d.Skip(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, x.part, err)
	}
	return nil
}

// unmarshalPart decodes an XML part into v (which matches elements by
// their local names).
func unmarshalPart(part string, data []byte, v any) error {
	d := xml.NewDecoder(strings.NewReader(string(data)))
	d.CharsetReader = charset.NewReaderLabel
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, part, err)
	}
	return nil
}

// xmlAttr returns the value of the attribute with local name local, in any
// namespace.
func xmlAttr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// properties are a document's own metadata: OOXML core properties, ODF
// meta.xml, EPUB's OPF metadata.
type properties struct {
	title, author, language string
	created, modified       time.Time
}

// coreProperties is docProps/core.xml of an OOXML package.
type coreProperties struct {
	Title    string `xml:"title"`
	Creator  string `xml:"creator"`
	Language string `xml:"language"`
	Created  string `xml:"created"`
	Modified string `xml:"modified"`
}

// ooxmlProperties reads the core properties of an OOXML package, if it
// has them; unreadable ones are left out rather than failing the file.
func ooxmlProperties(a *zipx.Archive) properties {
	part := "docProps/core.xml"
	for _, r := range packageRels(a, "") {
		if strings.HasSuffix(r.Type, "/core-properties") {
			part = zipx.Resolve("", r.Target)
		}
	}
	var p properties
	var c coreProperties
	if !optionalPart(a, part, &c) {
		return p
	}
	p.title, p.author, p.language = mdwrite.Collapse(c.Title), mdwrite.Collapse(c.Creator), strings.TrimSpace(c.Language)
	p.created, p.modified = propertyDate(c.Created), propertyDate(c.Modified)
	return p
}

// propertyDate reads a document property's date (W3CDTF, ISO 8601 with
// or without a zone), or returns the zero time.
func propertyDate(s string) time.Time {
	if t, ok := parseDate(s); ok {
		return t
	}
	for _, layout := range []string{"2006-01", "2006"} { // W3CDTF's coarser forms
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t
		}
	}
	return time.Time{}
}

// optionalPart decodes the XML part at part into v, and reports whether
// it could: a missing or unreadable optional part (styles, numbering,
// properties) costs what it would have told, not the file.
func optionalPart(a *zipx.Archive, part string, v any) bool {
	b, err := a.ReadFile(part)
	return err == nil && unmarshalPart(part, b, v) == nil
}

// ooxmlMainPart returns the path and content of an OOXML package's main
// part: the target of its officeDocument relationship, else fallback.
func ooxmlMainPart(a *zipx.Archive, fallback string) (string, []byte, error) {
	main, ok := relTarget(packageRels(a, ""), "", "/officeDocument")
	if !ok || !a.Has(main) {
		main = fallback
	}
	b, err := readPart(a, main)
	return main, b, err
}

// relationship is one entry of an OPC .rels part.
type relationship struct {
	ID         string `xml:"Id,attr"`
	Type       string `xml:"Type,attr"`
	Target     string `xml:"Target,attr"`
	TargetMode string `xml:"TargetMode,attr"`
}

// packageRels returns the relationships of the part at part ("" for the
// package itself); none when it has no readable .rels part.
func packageRels(a *zipx.Archive, part string) []relationship {
	dir, file := "", ""
	if i := strings.LastIndexByte(part, '/'); i >= 0 {
		dir, file = part[:i+1], part[i+1:]
	} else {
		file = part
	}
	var rels struct {
		Rels []relationship `xml:"Relationship"`
	}
	if !optionalPart(a, dir+"_rels/"+file+".rels", &rels) {
		return nil
	}
	return rels.Rels
}

// relTarget returns the archive path of part's first relationship whose
// type ends with typeSuffix, and whether there is one.
func relTarget(rels []relationship, part, typeSuffix string) (string, bool) {
	for _, r := range rels {
		if strings.HasSuffix(r.Type, typeSuffix) && r.TargetMode != "External" {
			return zipx.Resolve(part, r.Target), true
		}
	}
	return "", false
}

// officePart is one span's worth of Markdown: a slide, a sheet, a
// chapter.
type officePart struct {
	kind, label, text string
}

// officeDocument makes the document of a container file: its parts'
// Markdown joined by blank lines, a span for each part when kind is set,
// and the properties as metadata. firstHeading titles the document when
// the properties do not. No text at all is ErrNoText.
func officeDocument(mime string, p properties, firstHeading string, parts []officePart) ([]document.Document, error) {
	var b strings.Builder
	var spans []document.Span
	for _, part := range parts {
		text := strings.TrimSpace(strings.ToValidUTF8(part.text, "\uFFFD"))
		if text != "" && b.Len() > 0 {
			b.WriteString("\n\n")
		}
		start := b.Len()
		b.WriteString(text)
		if part.kind != "" {
			spans = append(spans, document.Span{Kind: part.kind, Label: strings.ToValidUTF8(part.label, "\uFFFD"), Start: start, End: b.Len()})
		}
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("%w: the %s file has no text", ErrNoText, mimeName(mime))
	}
	meta := map[string]any{MetaMIMEType: mime}
	if p.author != "" {
		meta[MetaAuthor] = strings.ToValidUTF8(p.author, "\uFFFD")
	}
	if p.language != "" {
		meta[MetaLanguage] = strings.ToValidUTF8(p.language, "\uFFFD")
	}
	if !p.created.IsZero() {
		meta[MetaCreated] = p.created
	}
	if !p.modified.IsZero() {
		meta[MetaModified] = p.modified
	}
	if len(spans) > 0 {
		meta[MetaPageCount] = len(spans)
	}
	title := p.title
	if title == "" {
		title = firstHeading
	}
	return []document.Document{{
		Title:    strings.ToValidUTF8(title, "\uFFFD"),
		Content:  b.String(),
		Metadata: meta,
		Spans:    spans,
	}}, nil
}

// mimeName names a container format by its media type, for messages.
func mimeName(mime string) string {
	switch mime {
	case mimeDOCX:
		return "DOCX"
	case mimePPTX:
		return "PPTX"
	case mimeXLSX:
		return "XLSX"
	case mimeODT:
		return "ODT"
	case mimeEPUB:
		return "EPUB"
	}
	return mime
}
