package rag_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// enricherModel describes each document by its title: a summary holding
// a word found in no document, and tags.
func enricherModel() *llmtest.Model {
	m := llmtest.New()
	m.Reply = func(req llm.Request) string {
		title, _, _ := strings.Cut(strings.TrimPrefix(lastUser(req), "Title: "), "\n")
		return fmt.Sprintf("SUMMARY: A note about %s, filed under xylophone%s.\nTAGS: Notes, #%s, notes", title, strings.ToLower(title), title)
	}
	return m
}

func TestEnrich(t *testing.T) {
	ctx := context.Background()
	m := enricherModel()
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Store: s, Chunker: byParagraph, Model: m, Enrich: &rag.EnrichOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Ingest(ctx, answerDocs...)
	if err != nil || rep.Stored != 3 || rep.Chunks != 4+3 {
		t.Fatalf("%+v %v", rep, err)
	}
	if m.Calls() != 3 {
		t.Fatalf("%d model calls", m.Calls())
	}
	// Each call saw the document.
	for _, req := range m.Requests() {
		if !strings.Contains(req.Messages[0].Content, "SUMMARY:") || !strings.Contains(lastUser(req), "Source: ") {
			t.Fatalf("enrichment request %+v", req)
		}
	}
	// The summary is searchable: only it holds the word.
	hits, err := p.Search(ctx, "xylophonetides", &rag.SearchOptions{TopK: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := hits[0]
	if h.DocID != "tides" || !h.IsSummary() || h.Text != "A note about Tides, filed under xylophonetides." || h.Chunk != 1 {
		t.Fatalf("hit %+v", h)
	}
	// Tags on every record, normalised; the kind only on the summary.
	all, _ := p.Search(ctx, "anything", &rag.SearchOptions{TopK: 100, Filter: store.Eq(store.FieldDocID, "go")})
	if len(all) != 3 {
		t.Fatalf("%d records of go", len(all))
	}
	summaries := 0
	for _, h := range all {
		if tags, _ := h.Metadata[rag.MetaTags].([]string); !slices.Equal(tags, []string{"notes", "go"}) {
			t.Fatalf("tags %v", h.Metadata[rag.MetaTags])
		}
		if h.IsSummary() {
			summaries++
		}
	}
	if summaries != 1 {
		t.Fatalf("%d summaries", summaries)
	}
	tagged, _ := p.Search(ctx, "anything", &rag.SearchOptions{TopK: 100, Filter: store.Eq(rag.MetaTags, "sourdough")})
	if len(tagged) != 2 || tagged[0].DocID != "bread" {
		t.Fatalf("filter on tags found %d", len(tagged))
	}
	// Unchanged documents are not enriched again.
	rep, err = p.Ingest(ctx, answerDocs...)
	if err != nil || rep.Unchanged != 3 || m.Calls() != 3 {
		t.Fatalf("%+v %v, %d calls", rep, err, m.Calls())
	}
	// Answer can cite a summary.
	m2 := citing("Tides")
	a, err := p.Answer(ctx, "xylophonetides", &rag.AnswerOptions{Model: m2, Search: &rag.SearchOptions{TopK: 1}})
	if err != nil || len(a.Citations) != 1 || !a.Citations[0].IsSummary() {
		t.Fatalf("%+v %v", a, err)
	}
	if !strings.Contains(lastUser(m2.Requests()[0]), "[1] Tides (noaa.gov) — summary of the document\n") {
		t.Fatalf("prompt %q", lastUser(m2.Requests()[0]))
	}
}

// Turning enrichment on stores documents again, enriched.
func TestEnrichChangesHash(t *testing.T) {
	ctx := context.Background()
	s, _ := chromem.New(chromem.Options{})
	e := embed.NewHashing(embed.HashingOptions{})
	plain, _ := rag.New(rag.Options{Embedder: e, Store: s})
	if _, err := plain.Ingest(ctx, answerDocs...); err != nil {
		t.Fatal(err)
	}
	m := enricherModel()
	enriched, err := rag.New(rag.Options{Embedder: e, Store: s, Model: m, Enrich: &rag.EnrichOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := enriched.Ingest(ctx, answerDocs...)
	if err != nil || rep.Stored != 3 || m.Calls() != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	// And a plain pipeline sees them as changed again.
	rep, err = plain.Ingest(ctx, answerDocs...)
	if err != nil || rep.Stored != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestEnrichFailure(t *testing.T) {
	ctx := context.Background()
	m := enricherModel()
	m.Fault = func(_ int, req llm.Request) error {
		if strings.Contains(lastUser(req), "Title: Tides") {
			return &provider.Error{StatusCode: 400, Message: "refused"}
		}
		return nil
	}
	s, _ := chromem.New(chromem.Options{})
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Store: s, Model: m, Enrich: &rag.EnrichOptions{MaxTags: -1}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Ingest(ctx, answerDocs...)
	var ae *provider.Error
	if rep.Stored != 2 || rep.Failed != 1 || !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Fatalf("%+v %v", rep, err)
	}
	hits, _ := p.Search(ctx, "tides moon", &rag.SearchOptions{TopK: 100})
	for _, h := range hits {
		if h.DocID == "tides" {
			t.Fatal("a document whose enrichment failed was stored")
		}
		if _, ok := h.Metadata[rag.MetaTags]; ok {
			t.Fatal("tags stored with MaxTags -1")
		}
	}
}

func TestEnrichNeedsModel(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	_, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Enrich: &rag.EnrichOptions{}})
	if !errors.Is(err, rag.ErrNoModel) {
		t.Fatalf("err %v", err)
	}
	// Its own model is enough.
	if _, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Enrich: &rag.EnrichOptions{Model: llmtest.New()}}); err != nil {
		t.Fatal(err)
	}
}

// At most Concurrency documents are enriched at once, and that many are.
func TestEnrichConcurrency(t *testing.T) {
	const limit = 3
	var inFlight, most atomic.Int64
	gate := make(chan struct{})
	var once sync.Once
	m := llmtest.New()
	m.Fault = func(int, llm.Request) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			cur := most.Load()
			if n <= cur || most.CompareAndSwap(cur, n) {
				break
			}
		}
		if n == limit {
			once.Do(func() { close(gate) })
		}
		select {
		case <-gate:
		case <-time.After(10 * time.Second):
			return errors.New("fewer than the limit ran at once")
		}
		return nil
	}
	m.Reply = func(llm.Request) string { return "SUMMARY: s.\nTAGS: t" }
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: m, Enrich: &rag.EnrichOptions{Concurrency: limit}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []rag.Document
	for i := range 20 {
		docs = append(docs, rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprint("text ", i)})
	}
	rep, err := p.Ingest(context.Background(), docs...)
	if err != nil || rep.Stored != 20 {
		t.Fatalf("%+v %v", rep, err)
	}
	if most.Load() != limit {
		t.Fatalf("%d enrichments at once, limit %d", most.Load(), limit)
	}
}

// Cancelling ingestion stops enrichment calls.
func TestEnrichCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := llmtest.New()
	var calls atomic.Int64
	m.Fault = func(int, llm.Request) error {
		if calls.Add(1) == 2 {
			cancel()
		}
		return nil
	}
	m.Reply = func(llm.Request) string { return "SUMMARY: s." }
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: m, Enrich: &rag.EnrichOptions{Concurrency: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []rag.Document
	for i := range 50 {
		docs = append(docs, rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprint("text ", i)})
	}
	rep, err := p.Ingest(ctx, docs...)
	if !errors.Is(err, context.Canceled) || rep.Stored+rep.Failed != 50 || rep.Failed < 40 {
		t.Fatalf("%+v %v", rep, err)
	}
	if m.Active() != 0 || calls.Load() > 10 {
		t.Fatalf("%d active, %d calls", m.Active(), calls.Load())
	}
}

// The summary is in the lexical index too.
func TestEnrichLexical(t *testing.T) {
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: enricherModel(),
		Enrich: &rag.EnrichOptions{}, Lexical: &rag.LexicalOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest(ctx, answerDocs...); err != nil {
		t.Fatal(err)
	}
	hits, err := p.Search(ctx, "xylophonesourdough", &rag.SearchOptions{Mode: rag.LexicalSearch})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].DocID != "bread" || !hits[0].IsSummary() {
		t.Fatalf("%+v", hits)
	}
	tagged, err := p.Search(ctx, "sourdough", &rag.SearchOptions{Mode: rag.LexicalSearch, Filter: store.Eq(rag.MetaTags, "sourdough")})
	if err != nil || len(tagged) != 2 {
		t.Fatalf("%d hits, %v", len(tagged), err)
	}
}
