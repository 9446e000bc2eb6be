package loader_test

import (
	"strings"
	"testing"

	"github.com/ragkit-go/rag/loader"
)

// A page with navigation and a footer around an article long enough for
// readability to find it.
func articlePage(head, lang string) string {
	para := strings.Repeat("The tide rises and falls twice a day because the moon pulls the sea towards it. ", 6)
	return `<!DOCTYPE html><html lang="` + lang + `"><head>` + head + `
<script>var tracking = "do not index me";</script><style>body{color:red}</style></head>
<body><nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/shop">Shop</a></nav>
<article><h1>How tides work</h1>
<p>` + para + `</p>
<h2>Spring tides</h2>
<p>` + para + `</p>
<ul><li>New moon</li><li>Full moon</li></ul>
<table><tr><th>Port</th><th>Range</th></tr><tr><td>Brest</td><td>7 m</td></tr></table>
</article>
<footer>Copyright 2026 Cookie settings Subscribe to our newsletter</footer></body></html>`
}

func TestHTMLMainContent(t *testing.T) {
	head := `<meta charset="utf-8"><title>How tides work | Sea News</title>
<link rel="canonical" href="https://example.org/tides">
<meta name="author" content="Mary Sea">`
	d := load1(t, "page.html", articlePage(head, "en-GB"))
	for _, want := range []string{"## Spring tides", "- New moon", "| Brest", "moon pulls the sea"} {
		if !strings.Contains(d.Content, want) {
			t.Errorf("content lacks %q:\n%s", want, d.Content)
		}
	}
	for _, unwanted := range []string{"do not index me", "color:red", "<p>", "Cookie settings", "About us"} {
		if strings.Contains(d.Content, unwanted) {
			t.Errorf("content holds %q:\n%s", unwanted, d.Content)
		}
	}
	if !strings.Contains(d.Title, "How tides work") {
		t.Errorf("title %q", d.Title)
	}
	checkMeta(t, d.Metadata, map[string]any{
		loader.MetaURL:      "https://example.org/tides",
		loader.MetaLanguage: "en-GB",
		loader.MetaAuthor:   "Mary Sea",
		loader.MetaMIMEType: "text/html",
	})
}

// A page readability finds no article in is converted whole, less its
// scripts and styles; its title comes from <title>.
func TestHTMLShortPage(t *testing.T) {
	d := load1(t, "short.htm", `<html><head><title>Tiny</title><script>evil()</script></head><body><p>Just <b>one</b> line.</p></body></html>`)
	if !strings.Contains(d.Content, "one") || strings.Contains(d.Content, "evil") {
		t.Errorf("content %q", d.Content)
	}
	if d.Title != "Tiny" || !strings.HasPrefix(d.Content, "# Tiny\n") {
		t.Errorf("title %q, content %q: the title should open the content", d.Title, d.Content)
	}
	if _, ok := d.Metadata[loader.MetaURL]; ok {
		t.Error("a page without a canonical link has a URL")
	}
}

func TestHTMLCharsets(t *testing.T) {
	for _, c := range []struct{ name, page, mime string }{
		{"meta charset", `<html><head><meta charset="iso-8859-1"></head><body><p>caf` + "\xe9" + `</p></body></html>`, ""},
		{"http-equiv", `<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><p>caf` + "\xe9" + `</p></body></html>`, ""},
		{"Content-Type", `<html><body><p>caf` + "\xe9" + `</p></body></html>`, "text/html; charset=latin1"},
		{"undeclared 8-bit", `<html><body><p>caf` + "\xe9" + `</p></body></html>`, ""},
		{"utf-8", `<html><body><p>café</p></body></html>`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			docs, err := loader.Load(t.Context(), &loader.File{Name: "a.html", Data: []byte(c.page), MIME: c.mime})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(docs[0].Content, "café") {
				t.Errorf("content %q", docs[0].Content)
			}
		})
	}
}

func TestHTMLEmpty(t *testing.T) {
	_, err := loader.Load(t.Context(), &loader.File{Name: "a.html", Data: []byte("<html><body><script>x()</script></body></html>")})
	if !errorsIs(err, loader.ErrNoText) {
		t.Errorf("a page with no text: %v, want ErrNoText", err)
	}
}

// A page of one table is not prose for readability, which would keep a
// single cell of it: the page is converted whole, header row and all.
func TestHTMLTablePage(t *testing.T) {
	d := load1(t, "t.html", `<html><head><title>Sizes</title></head><body><h1>Sizes</h1><table>
<thead><tr><th>Name</th><th>Note</th></tr></thead><tbody>
<tr><td>1</td><td>ID elements are short interspersed elements found in high copy number in many rodent genomes.</td></tr>
<tr><td>2</td><td>BC1 RNA, an ID-related transcript, is derived from the single copy BC1 RNA gene, p < 0.05.</td></tr>
</tbody></table></body></html>`)
	for _, want := range []string{"| Name", "rodent genomes", "p < 0.05", "# Sizes"} {
		if !strings.Contains(d.Content, want) {
			t.Errorf("content lacks %q:\n%s", want, d.Content)
		}
	}
	if strings.Count(d.Content, "Sizes") != 1 {
		t.Errorf("the title is repeated:\n%s", d.Content)
	}
}
