package loader_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// load1 loads one file through Default and returns its only document.
func load1(t *testing.T, name string, data string) document.Document {
	t.Helper()
	docs, err := loader.Load(t.Context(), &loader.File{Name: name, Data: []byte(data)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", name, len(docs))
	}
	return docs[0]
}

func TestMarkdownFrontMatterYAML(t *testing.T) {
	d := load1(t, "post.md", `---
title: "Tides: a primer"
author: Ada Lovelace
date: 2024-03-05
tags: [sea, "moon, and sun"]
draft: false
summary: >
  Why the sea
  rises twice a day.
aliases:
  - /tides
  - /old/tides
_hidden: kept # a comment
rag_tags: also kept
---
# The heading is not the title

Body text.
`)
	if d.Title != "Tides: a primer" {
		t.Errorf("title %q", d.Title)
	}
	if !slices.Equal(d.Tags, []string{"sea", "moon, and sun"}) {
		t.Errorf("tags %q", d.Tags)
	}
	want := map[string]any{
		loader.MetaAuthor:      "Ada Lovelace",
		loader.MetaCreated:     time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC),
		loader.MetaMIMEType:    "text/markdown",
		"draft":                false,
		"summary":              "Why the sea rises twice a day.",
		"aliases":              []string{"/tides", "/old/tides"},
		"frontmatter__hidden":  "kept",
		"frontmatter_rag_tags": "also kept",
	}
	checkMeta(t, d.Metadata, want)
	if d.Content != "# The heading is not the title\n\nBody text.\n" {
		t.Errorf("content %q still holds the front matter, or lost text", d.Content)
	}
}

func checkMeta(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch w := w.(type) {
		case []string:
			gs, _ := g.([]string)
			ok = ok && slices.Equal(gs, w)
		case time.Time:
			gt, _ := g.(time.Time)
			ok = ok && gt.Equal(w)
		default:
			ok = ok && g == w
		}
		if !ok {
			t.Errorf("metadata %q = %#v, want %#v", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("metadata %v has keys beyond %v", got, want)
	}
}

func TestMarkdownFrontMatterTOML(t *testing.T) {
	d := load1(t, "post.md", `+++
title = 'Hugo post'
tags = ["a", "b"]
lastmod = 2024-01-02T03:04:05Z
[params]
colour = "blue" # trailing comment
+++
Text.
`)
	if d.Title != "Hugo post" || !slices.Equal(d.Tags, []string{"a", "b"}) {
		t.Errorf("title %q, tags %q", d.Title, d.Tags)
	}
	checkMeta(t, d.Metadata, map[string]any{
		loader.MetaModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		loader.MetaMIMEType: "text/markdown",
		"params.colour":     "blue",
	})
	if d.Content != "Text.\n" {
		t.Errorf("content %q", d.Content)
	}
}

func TestMarkdownTitleFromHeading(t *testing.T) {
	for _, c := range []struct{ name, md, want string }{
		{"atx", "Intro line\n\n## **Install** it ##\n\n# Later\n", "Install it"},
		{"setext", "Getting started\n===============\n\ntext\n", "Getting started"},
		{"setext level 2", "Notes\n---\n", "Notes"},
		{"heading in code is not one", "```\n# not a heading\n```\n\n# Real\n", "Real"},
		{"hash without space is text", "#hashtag\n\n# Real\n", "Real"},
		{"indented code is not one", "    # code\n\ntext\n", ""},
		{"unclosed front matter is text", "---\ntitle: x\n\n# Heading\n", "Heading"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if d := load1(t, "a.md", c.md); d.Title != c.want {
				t.Errorf("title %q, want %q", d.Title, c.want)
			}
		})
	}
	// The unclosed block stays in the content: nothing is lost.
	if d := load1(t, "a.md", "---\ntitle: x\n\n# H\n"); d.Content != "---\ntitle: x\n\n# H\n" {
		t.Errorf("content %q", d.Content)
	}
}

func TestTextEncodings(t *testing.T) {
	for _, c := range []struct {
		name, data, mime, want string
	}{
		{"utf-8", "café", "", "café"},
		{"utf-8 with BOM", "\xef\xbb\xbfcafé", "", "café"},
		{"utf-16le with BOM", "\xff\xfec\x00a\x00f\x00\xe9\x00", "", "café"},
		{"utf-16be with BOM", "\xfe\xff\x00c\x00a\x00f\x00\xe9", "", "café"},
		{"latin-1 undeclared", "caf\xe9 \x80", "", "café €"},
		{"declared iso-8859-1", "caf\xe9", "text/plain; charset=ISO-8859-1", "café"},
		{"declared windows-1252 curly quotes", "\x93hi\x94", "text/plain; charset=windows-1252", "\u201chi\u201d"},
		{"declared iso-8859-15 euro", "\xa4", "text/plain; charset=iso-8859-15", "€"},
		{"declared utf-8 but invalid: repaired", "caf\xe9!", "text/plain; charset=utf-8", "caf\uFFFD!"},
	} {
		t.Run(c.name, func(t *testing.T) {
			docs, err := loader.Load(t.Context(), &loader.File{Name: "a.txt", Data: []byte(c.data), MIME: c.mime})
			if err != nil {
				t.Fatal(err)
			}
			if docs[0].Content != c.want {
				t.Errorf("content %q, want %q", docs[0].Content, c.want)
			}
		})
	}
	_, err := loader.Load(t.Context(), &loader.File{Name: "a.txt", Data: []byte("x"), MIME: "text/plain; charset=klingon"})
	if !errorsIs(err, loader.ErrMalformed) {
		t.Errorf("unknown charset: %v, want ErrMalformed", err)
	}
}

func TestTextFrontMatterNoTitleFromLines(t *testing.T) {
	d := load1(t, "notes.txt", "---\ntitle: Notes\nkeywords: a b\n---\n# not a heading in text\n")
	if d.Title != "Notes" || !slices.Equal(d.Tags, []string{"a", "b"}) || d.Metadata[loader.MetaMIMEType] != "text/plain" {
		t.Errorf("got %+v", d)
	}
	if d := load1(t, "plain.txt", "# Heading\n"); d.Title != "" {
		t.Errorf("a text file's title %q came from its lines", d.Title)
	}
}
