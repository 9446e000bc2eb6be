package loader

import (
	"context"
	"strings"

	"github.com/ragkit-go/rag/document"
)

// Markdown is the loader of Markdown files: one document, the text after
// any front matter (whose fields become Title, Tags and Metadata, see
// the package's README), titled by its front matter or else by its first
// heading. The text is decoded as decodeText says.
var Markdown Loader = LoaderFunc(loadMarkdown)

// Text is the loader of plain text: one document, with front matter read
// as in Markdown (a text has no headings to take a title from).
var Text Loader = LoaderFunc(loadText)

func loadMarkdown(_ context.Context, f *File) ([]document.Document, error) {
	d, err := textDocument(f, "text/markdown")
	if err != nil {
		return nil, err
	}
	if d.Title == "" {
		d.Title = firstHeading(d.Content)
	}
	return []document.Document{d}, nil
}

func loadText(_ context.Context, f *File) ([]document.Document, error) {
	d, err := textDocument(f, "text/plain")
	if err != nil {
		return nil, err
	}
	return []document.Document{d}, nil
}

func textDocument(f *File, mime string) (document.Document, error) {
	text, err := decodeText(f.Data, mimeCharset(f.MIME))
	if err != nil {
		return document.Document{}, err
	}
	d := document.Document{Metadata: map[string]any{MetaMIMEType: mime}}
	fm, body, ok := splitFrontMatter(text)
	if ok {
		fm.apply(&d)
		text = body
	}
	d.Content = text
	return d, nil
}

// mimeCharset returns the charset parameter of a media type, if any.
func mimeCharset(mediaType string) string {
	_, params, ok := strings.Cut(mediaType, ";")
	for ok {
		var p string
		p, params, ok = strings.Cut(params, ";")
		if k, v, found := strings.Cut(p, "="); found && strings.EqualFold(strings.TrimSpace(k), "charset") {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// firstHeading returns the text of a Markdown text's first heading, ATX
// ("## Title") or setext (a line underlined with = or -), outside fenced
// code, with inline emphasis and a closing run of # removed.
func firstHeading(md string) string {
	var fence string
	prev := ""
	for line := range strings.Lines(md) {
		line = strings.TrimRight(line, "\r\n")
		t := strings.TrimLeft(line, " ")
		if len(line)-len(t) > 3 {
			prev = ""
			continue
		}
		if fence != "" {
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			prev = ""
			continue
		}
		if h, ok := atxHeading(t); ok {
			return h
		}
		if prev != "" && t != "" && (strings.Trim(t, "=") == "" || strings.Trim(t, "-") == "") {
			return cleanInline(prev)
		}
		prev = strings.TrimSpace(t)
	}
	return ""
}

func atxHeading(t string) (string, bool) {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ' && t[n] != '\t') {
		return "", false
	}
	h := strings.TrimSpace(t[n:])
	if c := strings.TrimRight(h, "#"); c == "" || strings.HasSuffix(c, " ") {
		h = strings.TrimSpace(c)
	}
	h = cleanInline(h)
	return h, h != ""
}

// cleanInline removes the emphasis and code marks of a heading's text.
func cleanInline(s string) string {
	return strings.TrimSpace(strings.NewReplacer("**", "", "__", "", "`", "", "*", "").Replace(s))
}
