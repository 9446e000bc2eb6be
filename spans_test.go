package rag_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/store"
)

// pagedLoader stands in for a PDF loader: each form feed starts a page.
var pagedLoader = loader.LoaderFunc(func(_ context.Context, f *loader.File) ([]document.Document, error) {
	d := document.Document{Title: "Annual report"}
	var b strings.Builder
	for i, page := range strings.Split(string(f.Data), "\f") {
		if i > 0 {
			b.WriteString("\n\n")
		}
		start := b.Len()
		b.WriteString(page)
		d.Spans = append(d.Spans, document.Span{Kind: document.SpanPage, Label: fmt.Sprint(i + 1), Start: start, End: b.Len()})
	}
	d.Content = b.String()
	return []document.Document{d}, nil
})

// A document with page spans, loaded through a registry and ingested:
// each hit says the page its chunk starts on, a filter finds a page's
// chunks, and an answer's citation names the page.
func TestSpansThroughThePipeline(t *testing.T) {
	ctx := t.Context()
	reg := &loader.Registry{}
	reg.Register("paged", pagedLoader, []string{".paged"}, nil)
	docs, err := reg.Load(ctx, &loader.File{Name: "report.paged", Data: []byte(
		"Revenue grew in every region.\fThe board approved a new dividend policy.\n\nStaff numbers were stable.\fCarbon emissions fell by a fifth.")})
	if err != nil {
		t.Fatal(err)
	}

	model := llmtest.New()
	model.Reply = func(req llm.Request) string {
		for line := range strings.Lines(lastUser(req)) {
			var n int
			if _, err := fmt.Sscanf(line, "[%d]", &n); err == nil && strings.Contains(line, "p. 3") {
				return fmt.Sprintf("Emissions fell [%d].", n)
			}
		}
		return "No page 3 in the prompt."
	}
	p := answerPipeline(t, model)
	if _, err := p.Ingest(ctx, docs...); err != nil {
		t.Fatal(err)
	}

	wantPage := map[string]string{
		"Revenue grew in every region.":             "1",
		"The board approved a new dividend policy.": "2",
		"Staff numbers were stable.":                "2",
		"Carbon emissions fell by a fifth.":         "3",
	}
	hits, err := p.Search(ctx, "dividend policy board", &rag.SearchOptions{TopK: 20, Filter: store.Eq(store.FieldSource, "report.paged")})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(wantPage) {
		t.Fatalf("%d hits, want %d", len(hits), len(wantPage))
	}
	for _, h := range hits {
		if h.SpanKind != document.SpanPage || h.SpanLabel != wantPage[h.Text] || h.Location() != "p. "+wantPage[h.Text] {
			t.Errorf("hit %q: span %q %q, location %q; want page %s", h.Text, h.SpanKind, h.SpanLabel, h.Location(), wantPage[h.Text])
		}
	}

	page2, err := p.Search(ctx, "staff", &rag.SearchOptions{TopK: 20, Filter: store.Eq(rag.MetaSpanLabel, "2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2) != 2 {
		t.Errorf("filter on page 2: %d hits, want 2", len(page2))
	}
	for _, h := range page2 {
		if wantPage[h.Text] != "2" {
			t.Errorf("filter on page 2 found %q", h.Text)
		}
	}

	a, err := p.Answer(ctx, "How much did carbon emissions fall?", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) != 1 {
		t.Fatalf("answer %q cites %d passages, want 1", a.Text, len(a.Citations))
	}
	c := a.Citations[0]
	if want := fmt.Sprintf("[%d] Annual report, p. 3", c.N); c.Citation() != want || c.Text != "Carbon emissions fell by a fifth." {
		t.Errorf("citation %q of %q, want %q", c.Citation(), c.Text, want)
	}
	if !strings.Contains(lastUser(model.Requests()[0]), fmt.Sprintf("[%d] Annual report, p. 3 (report.paged)\n", c.N)) {
		t.Errorf("the prompt does not give the page:\n%s", lastUser(model.Requests()[0]))
	}
}

// Documents without spans keep hits and citations as they were.
func TestNoSpans(t *testing.T) {
	p := answerPipeline(t, llmtest.New())
	hits, err := p.Search(t.Context(), "tides moon", nil)
	if err != nil || len(hits) == 0 {
		t.Fatal(hits, err)
	}
	for _, h := range hits {
		if h.SpanKind != "" || h.SpanLabel != "" || h.Location() != "" {
			t.Errorf("hit %q has a span %q %q", h.Text, h.SpanKind, h.SpanLabel)
		}
		if _, ok := h.Metadata[rag.MetaSpanKind]; ok {
			t.Errorf("hit %q has span metadata", h.Text)
		}
	}
	if got := (rag.Passage{N: 2, Hit: hits[0]}).Citation(); got != "[2] "+hits[0].Title {
		t.Errorf("citation %q", got)
	}
	if got := (rag.Passage{N: 1, Hit: rag.Hit{Source: "a.pdf", SpanKind: "slide", SpanLabel: "4"}}).Citation(); got != "[1] a.pdf, slide 4" {
		t.Errorf("untitled citation %q", got)
	}
}
