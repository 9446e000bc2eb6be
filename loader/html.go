package loader

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	"codeberg.org/readeck/go-readability/v2"
	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/strikethrough"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/ragkit-go/rag/document"
)

// HTML is the loader of web pages: one document, the page's main content
// as Markdown (headings, lists, tables, links), so a Markdown chunker keeps
// its structure. The main content is what readability (a port of
// Firefox's Reader View) finds; a page it does not think readable (no
// paragraphs of prose: a table, a list, a short note), or where what it
// finds is under a third of the page's words, is converted whole, less
// what is never content (scripts, styles, navigation, header, footer,
// asides, forms). Metadata: the title (readability's, the
// <title>, else the first heading), the canonical URL (MetaURL), the
// language (MetaLanguage, from <html lang>), the author (MetaAuthor) and
// dates readability reads. The title opens the content as a heading when
// no heading holds it. The character set is the one the page or File.MIME
// declares, else sniffed.
var HTML Loader = LoaderFunc(loadHTML)

// markdownConverter turns HTML into Markdown; it is safe for concurrent use.
var markdownConverter = converter.NewConverter(converter.WithPlugins(
	base.NewBasePlugin(),
	commonmark.NewCommonmarkPlugin(),
	table.NewTablePlugin(),
	strikethrough.NewStrikethroughPlugin(),
	plainAngles{},
))

// plainAngles undoes the converter's escaping of < and > in text as
// "&lt;" and "&gt;": the Markdown is read by embedders, search indexes
// and models, for whom "p &lt; 0.05" is noise, not rendered by a browser.
type plainAngles struct{}

func (plainAngles) Name() string { return "plain-angles" }

func (plainAngles) Init(conv *converter.Converter) error {
	unescape := strings.NewReplacer("&lt;", "<", "&gt;", ">")
	conv.Register.TextTransformer(func(_ converter.Context, s string) string { return unescape.Replace(s) }, converter.PriorityLate)
	return nil
}

func loadHTML(ctx context.Context, f *File) ([]document.Document, error) {
	text, err := decodeHTML(f.Data, f.MIME)
	if err != nil {
		return nil, err
	}
	root, err := html.Parse(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	page := readPageMeta(root)
	var pageURL *url.URL
	if page.canonical != "" {
		pageURL, _ = url.Parse(page.canonical)
	}
	d := document.Document{Metadata: map[string]any{MetaMIMEType: "text/html"}}
	if page.canonical != "" {
		d.Metadata[MetaURL] = page.canonical
	}
	if page.lang != "" {
		d.Metadata[MetaLanguage] = page.lang
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parser := readability.NewParser() // a Parser holds state: one per call
	art, err := parser.ParseDocument(root, pageURL)
	if err == nil {
		d.Title = strings.Join(strings.Fields(art.Title()), " ")
		if a := strings.TrimSpace(art.Byline()); a != "" {
			d.Metadata[MetaAuthor] = a
		}
		if l := art.Language(); l != "" && page.lang == "" {
			d.Metadata[MetaLanguage] = l
		}
		if t, err := art.PublishedTime(); err == nil {
			d.Metadata[MetaCreated] = t.UTC()
		}
		if t, err := art.ModifiedTime(); err == nil {
			d.Metadata[MetaModified] = t.UTC()
		}
	}
	// The whole page less what is never content, for pages readability
	// cannot judge: those it does not think readable (no paragraphs of
	// prose: a table, a list, a short note) and those where the article
	// it found is a small part of the text (it chose a fragment).
	content := root
	removeElements(content, boilerplate...)
	if err == nil && art.Node != nil && parser.CheckDocument(root) &&
		3*len(strings.Fields(nodeText(art.Node))) >= len(strings.Fields(nodeText(content))) {
		content = art.Node
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	md, err := htmlToMarkdown(ctx, content)
	if err != nil {
		return nil, err
	}
	if d.Title == "" {
		d.Title = page.title
	}
	if d.Title == "" {
		d.Title = firstHeading(md)
	}
	if d.Title != "" && !hasHeading(md, d.Title) {
		md = "# " + d.Title + "\n\n" + md
	}
	d.Content = md
	return []document.Document{d}, nil
}

// boilerplate are the elements of a page that are never its content.
var boilerplate = []atom.Atom{atom.Head, atom.Script, atom.Style, atom.Noscript, atom.Template,
	atom.Nav, atom.Header, atom.Footer, atom.Aside, atom.Form, atom.Button, atom.Dialog}

// hasHeading reports whether a heading of md holds title.
func hasHeading(md, title string) bool {
	want := strings.ToLower(strings.Join(strings.Fields(title), " "))
	for line := range strings.Lines(md) {
		if h, ok := atxHeading(strings.TrimSpace(line)); ok && strings.Contains(strings.ToLower(strings.Join(strings.Fields(h), " ")), want) {
			return true
		}
	}
	return false
}

// htmlToMarkdown converts the tree under n to Markdown.
func htmlToMarkdown(ctx context.Context, n *html.Node) (string, error) {
	out, err := markdownConverter.ConvertNode(n, converter.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("%w: converting to Markdown: %w", ErrMalformed, err)
	}
	return strings.ToValidUTF8(string(bytes.TrimSpace(out)), "\uFFFD") + "\n", nil
}

// decodeHTML decodes a page by its byte-order mark, the charset of
// contentType, its <meta charset>, or else the sniffed encoding.
func decodeHTML(data []byte, contentType string) (string, error) {
	if cs := mimeCharset(contentType); cs != "" || bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}) ||
		bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return decodeText(data, cs)
	}
	_, name, _ := charset.DetermineEncoding(data, "")
	if name == "utf-8" && !bytes.Contains(data[:min(len(data), 1024)], []byte("charset")) {
		name = "" // a guess: decodeText tells UTF-8 from Windows-1252 itself
	}
	return decodeText(data, name)
}

// pageMeta is what a page's <head> and <html> say about it.
type pageMeta struct {
	title, canonical, lang string
}

func readPageMeta(root *html.Node) pageMeta {
	var m pageMeta
	var ogURL string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				m.lang = strings.TrimSpace(attr(n, "lang"))
			case atom.Title:
				if m.title == "" {
					m.title = strings.Join(strings.Fields(nodeText(n)), " ")
				}
			case atom.Link:
				if strings.EqualFold(strings.TrimSpace(attr(n, "rel")), "canonical") && m.canonical == "" {
					m.canonical = strings.TrimSpace(attr(n, "href"))
				}
			case atom.Meta:
				if attr(n, "property") == "og:url" {
					ogURL = strings.TrimSpace(attr(n, "content"))
				}
			case atom.Body:
				return // the head is read; the body is readability's
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if m.canonical == "" {
		m.canonical = ogURL
	}
	if u, err := url.Parse(m.canonical); err != nil || !u.IsAbs() {
		m.canonical = "" // a relative or broken URL names nothing by itself
	}
	return m
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

// nodeText returns the text under n.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// removeElements removes every element of the given kinds under n.
func removeElements(n *html.Node, kinds ...atom.Atom) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		drop := false
		if c.Type == html.ElementNode {
			for _, k := range kinds {
				drop = drop || c.DataAtom == k
			}
		}
		if drop {
			n.RemoveChild(c)
		} else {
			removeElements(c, kinds...)
		}
		c = next
	}
}
