package loader

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/html/charset"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader/internal/mdwrite"
	"github.com/ragkit-go/rag/loader/internal/zipx"
)

// loadEPUB reads an EPUB (2 or 3) book: its spine's XHTML documents in
// reading order, each converted to Markdown and made one span (kind
// document.SpanChapter) labelled with its title from the table of
// contents (the EPUB 3 nav document, else the NCX), else its first
// heading, else its place in the spine. The nav document itself is left
// out when the spine lists it. Properties come from the package (OPF)
// metadata; page_count is the number of chapters.
func loadEPUB(ctx context.Context, f *File) ([]document.Document, error) {
	a, err := openContainer(ctx, f)
	if err != nil {
		return nil, err
	}
	opfPath, err := epubRootfile(a)
	if err != nil {
		return nil, err
	}
	b, err := readPart(a, opfPath)
	if err != nil {
		return nil, err
	}
	var opf epubOPF
	if err := unmarshalPart(opfPath, b, &opf); err != nil {
		return nil, err
	}
	items := map[string]epubItem{}
	navPath := ""
	for _, it := range opf.Manifest.Items {
		it.path = epubHref(opfPath, it.Href)
		items[it.ID] = it
		if strings.Contains(" "+it.Properties+" ", " nav ") && navPath == "" {
			navPath = it.path
		}
	}
	labels := map[string]string{}
	if navPath != "" {
		if nb, err := a.ReadFile(navPath); err == nil {
			epubNavLabels(ctx, navPath, nb, labels)
		}
	}
	if ncx, ok := items[opf.Spine.Toc]; ok {
		if nb, err := a.ReadFile(ncx.path); err == nil {
			epubNCXLabels(ctx, ncx.path, nb, labels)
		}
	}
	var parts []officePart
	first := ""
	for _, ref := range opf.Spine.Items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		it, ok := items[ref.IDRef]
		if !ok || it.path == navPath || !epubIsXHTML(it.MediaType) {
			continue
		}
		cb, err := readPart(a, it.path)
		if err != nil {
			return nil, err
		}
		w := &mdwrite.Writer{}
		if err := epubChapter(ctx, it.path, cb, w); err != nil {
			return nil, err
		}
		label := labels[it.path]
		if label == "" {
			label = w.FirstHeading()
		}
		if label == "" {
			label = strconv.Itoa(len(parts) + 1)
		}
		if first == "" {
			first = w.FirstHeading()
		}
		parts = append(parts, officePart{kind: document.SpanChapter, label: label, text: w.String()})
	}
	return officeDocument(mimeEPUB, opf.properties(), first, parts)
}

// epubRootfile returns the path of the package document that
// META-INF/container.xml names.
func epubRootfile(a *zipx.Archive) (string, error) {
	b, err := readPart(a, "META-INF/container.xml")
	if err != nil {
		return "", err
	}
	var c struct {
		Rootfiles []struct {
			Path      string `xml:"full-path,attr"`
			MediaType string `xml:"media-type,attr"`
		} `xml:"rootfiles>rootfile"`
	}
	if err := unmarshalPart("META-INF/container.xml", b, &c); err != nil {
		return "", err
	}
	for _, r := range c.Rootfiles {
		if r.MediaType == "application/oebps-package+xml" || r.MediaType == "" {
			return zipx.Resolve("", r.Path), nil
		}
	}
	return "", fmt.Errorf("%w: META-INF/container.xml names no package document", ErrMalformed)
}

// epubHref resolves a URL reference (percent-encoded, maybe with a
// fragment) in the document at base to an archive path.
func epubHref(base, href string) string {
	if i := strings.IndexAny(href, "#?"); i >= 0 {
		href = href[:i]
	}
	if u, err := url.PathUnescape(href); err == nil {
		href = u
	}
	return zipx.Resolve(base, href)
}

func epubIsXHTML(mediaType string) bool {
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case "application/xhtml+xml", "text/html", "application/x-dtbook+xml":
		return true
	}
	return false
}

// epubOPF is the package document, as much as reading needs.
type epubOPF struct {
	Metadata struct {
		Titles    []string `xml:"title"`
		Creators  []string `xml:"creator"`
		Languages []string `xml:"language"`
		Dates     []struct {
			Event string `xml:"event,attr"`
			Value string `xml:",chardata"`
		} `xml:"date"`
		Metas []struct {
			Property string `xml:"property,attr"`
			Value    string `xml:",chardata"`
		} `xml:"meta"`
	} `xml:"metadata"`
	Manifest struct {
		Items []epubItem `xml:"item"`
	} `xml:"manifest"`
	Spine struct {
		Toc   string `xml:"toc,attr"`
		Items []struct {
			IDRef string `xml:"idref,attr"`
		} `xml:"itemref"`
	} `xml:"spine"`
}

type epubItem struct {
	ID         string `xml:"id,attr"`
	Href       string `xml:"href,attr"`
	MediaType  string `xml:"media-type,attr"`
	Properties string `xml:"properties,attr"`
	path       string // Href resolved to an archive path
}

// properties are the book's title, first author, language, publication
// or creation date (created) and last modification (modified).
func (o *epubOPF) properties() properties {
	var p properties
	m := &o.Metadata
	if len(m.Titles) > 0 {
		p.title = mdwrite.Collapse(m.Titles[0])
	}
	if len(m.Creators) > 0 {
		p.author = mdwrite.Collapse(m.Creators[0])
	}
	if len(m.Languages) > 0 {
		p.language = strings.TrimSpace(m.Languages[0])
	}
	for _, d := range m.Dates {
		switch strings.ToLower(d.Event) {
		case "modification":
			p.modified = propertyDate(d.Value)
		case "", "creation", "publication":
			if p.created.IsZero() {
				p.created = propertyDate(d.Value)
			}
		}
	}
	for _, meta := range m.Metas {
		if meta.Property == "dcterms:modified" {
			p.modified = propertyDate(meta.Value)
		}
	}
	return p
}

// newXHTMLTokens reads XHTML leniently: HTML's entities, its elements
// that have no end tag, and missing end tags are accepted, as books in
// the wild need.
func newXHTMLTokens(ctx context.Context, part string, data []byte) *xmlTokens {
	x := newXMLTokens(ctx, part, data)
	x.d.Strict = false
	x.d.AutoClose = xml.HTMLAutoClose
	x.d.Entity = xml.HTMLEntity
	x.d.CharsetReader = charset.NewReaderLabel
	return x
}

// epubNavLabels records, for each document the nav document's table of
// contents points to, its first entry's text.
func epubNavLabels(ctx context.Context, part string, data []byte, labels map[string]string) {
	x := newXHTMLTokens(ctx, part, data)
	navDepth, inToc := 0, false
	href, inA := "", false
	var text strings.Builder
	for {
		t, err := x.next()
		if err != nil {
			return
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "nav":
				navDepth++
				if navDepth == 1 {
					inToc = xmlAttr(t, "type") == "toc"
				}
			case "a":
				if inToc {
					inA, href = true, xmlAttr(t, "href")
					text.Reset()
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "nav":
				navDepth--
				if navDepth == 0 {
					inToc = false
				}
			case "a":
				if inA {
					inA = false
					p, label := epubHref(part, href), mdwrite.Collapse(text.String())
					if _, ok := labels[p]; !ok && label != "" && href != "" {
						labels[p] = label
					}
				}
			}
		case xml.CharData:
			if inA {
				text.Write(t)
			}
		}
	}
}

// epubNCXLabels records, for documents the nav document did not label,
// the first NCX navigation point's label that points to them.
func epubNCXLabels(ctx context.Context, part string, data []byte, labels map[string]string) {
	x := newXMLTokens(ctx, part, data)
	var (
		stack  []string // the open navPoints' labels
		inText bool
		text   strings.Builder
	)
	for {
		t, err := x.next()
		if err != nil {
			return
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "navPoint":
				stack = append(stack, "")
			case "text":
				inText = len(stack) > 0
				text.Reset()
			case "content":
				if len(stack) > 0 {
					p := epubHref(part, xmlAttr(t, "src"))
					if _, ok := labels[p]; !ok && stack[len(stack)-1] != "" {
						labels[p] = stack[len(stack)-1]
					}
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "navPoint":
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			case "text":
				if inText && len(stack) > 0 {
					stack[len(stack)-1] = mdwrite.Collapse(text.String())
				}
				inText = false
			}
		case xml.CharData:
			if inText {
				text.Write(t)
			}
		}
	}
}

// epubChapter writes the body of an XHTML document into w as Markdown.
func epubChapter(ctx context.Context, part string, data []byte, w *mdwrite.Writer) error {
	x := newXHTMLTokens(ctx, part, data)
	inBody := false
	headings := 0 // nesting of open h1 to h6
	for {
		t, err := x.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if !inBody {
				inBody = name == "body"
				continue
			}
			switch name {
			case "head", "script", "style", "template", "noscript", "svg", "math", "nav", "iframe", "object", "colgroup":
				if err := x.skip(); err != nil {
					return err
				}
			case "h1", "h2", "h3", "h4", "h5", "h6":
				w.EndBlock()
				headings++
			case "p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote",
				"figure", "figcaption", "address", "dl", "dt", "dd", "hgroup", "center", "caption",
				"details", "summary", "hr":
				if headings == 0 {
					w.EndBlock()
				}
			case "ul", "ol":
				w.StartList(name == "ol")
			case "li":
				w.StartItem()
			case "table":
				w.StartTable()
			case "tr":
				w.StartRow()
			case "td", "th":
				w.StartCell()
			case "br":
				w.Space()
			case "pre":
				code, err := epubText(x)
				if err != nil {
					return err
				}
				w.Code(code)
			}
		case xml.EndElement:
			name := strings.ToLower(t.Name.Local)
			if !inBody {
				continue
			}
			switch name {
			case "body":
				inBody = false
			case "h1", "h2", "h3", "h4", "h5", "h6":
				if headings > 0 {
					headings--
				}
				if headings == 0 {
					w.Heading(int(name[1] - '0'))
					w.EndBlock()
				}
			case "p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote",
				"figure", "figcaption", "address", "dl", "dt", "dd", "hgroup", "center", "caption",
				"details", "summary":
				if headings == 0 {
					w.EndBlock()
				}
			case "ul", "ol":
				w.EndList()
			case "li":
				w.EndItem()
			case "table":
				w.EndTable()
			case "tr":
				w.EndRow()
			case "td", "th":
				w.EndCell()
			}
		case xml.CharData:
			if inBody {
				w.Text(string(t))
			}
		}
	}
}

// epubText returns the text up to the end of the element whose start
// was the last token, its line breaks kept.
func epubText(x *xmlTokens) (string, error) {
	var b strings.Builder
	for depth := 1; depth > 0; {
		t, err := x.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.StartElement:
			depth++
			if strings.EqualFold(t.Name.Local, "br") {
				b.WriteByte('\n')
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			b.Write(t)
		}
	}
	return b.String(), nil
}
