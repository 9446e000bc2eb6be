package rag_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

func lexicalPipeline(t *testing.T, path string, s store.Store) *rag.Pipeline {
	t.Helper()
	if s == nil {
		var err error
		if s, err = chromem.New(chromem.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := rag.New(rag.Options{Embedder: hashing(), Store: s, Chunker: paragraphs, Lexical: &rag.LexicalOptions{Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var products = []rag.Document{
	{ID: "x1", Title: "Router", Content: "The XR-7000 router forwards packets between networks.", Metadata: map[string]any{"kind": "hardware"}},
	{ID: "x2", Title: "Switch", Content: "A switch forwards frames inside one network segment.", Metadata: map[string]any{"kind": "hardware"}},
	{ID: "x3", Title: "Firmware", Content: "Firmware 4.2 for the XR-7000 fixes a packet loss bug.\n\nUpgrade with the console.", Metadata: map[string]any{"kind": "software"}},
	{ID: "x4", Title: "Cables", Content: "Category 6 cables carry gigabit ethernet."},
}

func ids(hits []rag.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.DocID)
	}
	return out
}

func TestLexicalAndHybridSearch(t *testing.T) {
	ctx := context.Background()
	p := lexicalPipeline(t, "", nil)
	if _, err := p.Ingest(ctx, products...); err != nil {
		t.Fatal(err)
	}
	// Lexical search matches the exact product code, stemmed words too.
	hits, err := p.Search(ctx, "xr-7000", &rag.SearchOptions{Mode: rag.LexicalSearch, TopK: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(hits)
	if len(got) != 2 || !(got[0] == "x1" || got[0] == "x3") || got[0] == got[1] {
		t.Fatalf("lexical hits %v, want x1 and x3", got)
	}
	for _, h := range hits {
		if h.Text == "" || h.ID != document.RecordID(h.DocID, h.Chunk) || h.Score <= 0 {
			t.Fatalf("lexical hit incomplete: %+v", h)
		}
	}
	// Filters apply to the lexical side.
	hits, err = p.Search(ctx, "xr-7000 forwarding", &rag.SearchOptions{Mode: rag.LexicalSearch, Filter: store.Eq("kind", "software")})
	if err != nil || len(hits) != 1 || hits[0].DocID != "x3" {
		t.Fatalf("filtered lexical: %v %v", ids(hits), err)
	}
	// Hybrid finds what either side finds; RRF scores are 1/(60+rank) sums.
	for _, fusion := range []rag.Fusion{rag.RRF, rag.WeightedScores} {
		hits, err = p.Search(ctx, "XR-7000 packets", &rag.SearchOptions{Mode: rag.HybridSearch, Fusion: fusion, TopK: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 3 || hits[0].DocID != "x1" && hits[0].DocID != "x3" {
			t.Fatalf("fusion %v: hybrid hits %v", fusion, ids(hits))
		}
		for i := 1; i < len(hits); i++ {
			if hits[i].Score > hits[i-1].Score {
				t.Fatalf("hybrid hits not best first: %+v", hits)
			}
		}
	}
	if top := hits[0].Score; top > 1.0001 {
		t.Errorf("weighted fusion score %v above 1", top)
	}
	// Deleting removes from both sides.
	if err := p.Delete(ctx, "x1"); err != nil {
		t.Fatal(err)
	}
	hits, _ = p.Search(ctx, "xr-7000", &rag.SearchOptions{Mode: rag.LexicalSearch})
	if got := ids(hits); len(got) != 1 || got[0] != "x3" {
		t.Fatalf("after delete: %v", got)
	}
	// A changed document replaces its lexical entries.
	changed := products[2]
	changed.Content = "Firmware 5.0 for the switch."
	if _, err := p.Ingest(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if hits, _ = p.Search(ctx, "xr-7000", &rag.SearchOptions{Mode: rag.LexicalSearch}); len(hits) != 0 {
		t.Fatalf("stale lexical entries: %v", ids(hits))
	}
}

func TestNoLexical(t *testing.T) {
	p := newPipeline(t, hashing())
	_, err := p.Search(context.Background(), "x", &rag.SearchOptions{Mode: rag.HybridSearch})
	if !errors.Is(err, rag.ErrNoLexical) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("hybrid without a lexical index: %v", err)
	}
}

func TestLexicalPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "bm25.idx")
	s, err := chromem.New(chromem.Options{Path: filepath.Join(dir, "store")})
	if err != nil {
		t.Fatal(err)
	}
	p := lexicalPipeline(t, path, s)
	if _, err := p.Ingest(ctx, products...); err != nil {
		t.Fatal(err)
	}
	want, _ := p.Search(ctx, "packets firmware", &rag.SearchOptions{Mode: rag.LexicalSearch, TopK: 10})
	if len(want) == 0 {
		t.Fatal("no hits")
	}
	// A new pipeline on the same files sees the same index.
	p2 := lexicalPipeline(t, path, s)
	got, err := p2.Search(ctx, "packets firmware", &rag.SearchOptions{Mode: rag.LexicalSearch, TopK: 10})
	if err != nil || len(got) != len(want) {
		t.Fatalf("reloaded index: %v (%v), want %v", ids(got), err, ids(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Score != want[i].Score || got[i].Text != want[i].Text {
			t.Fatalf("reloaded hit %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// An index that lost documents (a new file) is repaired by ingesting
	// them again, without embedding: the store already has them.
	c := &counting{Embedder: hashing()}
	p3, err := rag.New(rag.Options{Embedder: c, Store: s, Chunker: paragraphs, Lexical: &rag.LexicalOptions{Path: filepath.Join(dir, "new.idx")}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p3.Ingest(ctx, products...)
	if err != nil || rep.Unchanged != len(products) || c.calls.Load() != 0 {
		t.Fatalf("repair: %+v %v, %d embedding calls", rep, err, c.calls.Load())
	}
	got, _ = p3.Search(ctx, "packets firmware", &rag.SearchOptions{Mode: rag.LexicalSearch, TopK: 10})
	if len(got) != len(want) {
		t.Fatalf("repaired index: %v, want %v", ids(got), ids(want))
	}
}

func TestMMR(t *testing.T) {
	ctx := context.Background()
	p := lexicalPipeline(t, "", nil)
	docs := []rag.Document{
		{ID: "a", Content: "solar panels convert sunlight into electricity"},
		{ID: "a2", Content: "solar panels convert sunlight into electricity efficiently"},
		{ID: "a3", Content: "solar panels convert sunlight into electric power"},
		{ID: "b", Content: "wind turbines convert wind into electricity"},
	}
	if _, err := p.Ingest(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	q := "solar panels electricity"
	plain, err := p.Search(ctx, q, &rag.SearchOptions{TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(plain); got[1] == "b" {
		t.Fatalf("precondition: plain search already diverse: %v", got)
	}
	for _, mode := range []rag.SearchMode{rag.VectorSearch, rag.HybridSearch} {
		// RRF: its relevance scores decline gently, where min-max fusion
		// gives the last candidate 0 whatever its merit.
		div, err := p.Search(ctx, q, &rag.SearchOptions{TopK: 2, MMR: true, MMRLambda: new(0.3), Mode: mode, Fusion: rag.RRF})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(div); len(got) != 2 || got[1] != "b" {
			t.Fatalf("mode %v: MMR did not bring in the different document: %v", mode, got)
		}
	}
}

// TestHeadings: a Markdown document's chunks carry their heading path, in
// vector and lexical hits alike, and filters can select a section.
func TestHeadings(t *testing.T) {
	ctx := context.Background()
	s, _ := chromem.New(chromem.Options{})
	p, err := rag.New(rag.Options{
		Embedder: hashing(), Store: s, Lexical: &rag.LexicalOptions{},
		ChunkerFor: func(d rag.Document) chunk.Chunker { return chunk.ByExtension(d.Source) },
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := rag.Document{ID: "guide", Source: "guide.md", Metadata: map[string]any{"team": "ops"}, Content: "# Install\n\nGet the installer from the downloads page.\n\n## Linux\n\nRun the installer script with sudo on Linux.\n\n## Windows\n\nDouble-click the installer package on Windows.\n"}
	if _, err := p.Ingest(ctx, doc); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []rag.SearchMode{rag.VectorSearch, rag.LexicalSearch} {
		hits, err := p.Search(ctx, "installer script sudo linux", &rag.SearchOptions{Mode: mode, TopK: 1})
		if err != nil || len(hits) != 1 {
			t.Fatalf("mode %v: %v %v", mode, hits, err)
		}
		if got := strings.Join(hits[0].Headings, " > "); got != "Install > Linux" {
			t.Fatalf("mode %v: headings %q, want Install > Linux (hit %+v)", mode, got, hits[0])
		}
		if hits[0].Metadata["team"] != "ops" {
			t.Fatalf("mode %v: document metadata lost: %v", mode, hits[0].Metadata)
		}
		// A filter on the section finds only its chunks.
		hits, err = p.Search(ctx, "installer", &rag.SearchOptions{Mode: mode, TopK: 10, Filter: store.Eq(rag.MetaHeadings, "Windows")})
		if err != nil || len(hits) != 1 || !strings.Contains(hits[0].Text, "Double-click") {
			t.Fatalf("mode %v: section filter: %+v %v", mode, hits, err)
		}
	}
}

// TestLexicalFileDamaged: a truncated or foreign index file is an error at
// New, not a silently empty index.
func TestLexicalFileDamaged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bm25.idx")
	p := lexicalPipeline(t, path, nil)
	if _, err := p.Ingest(ctx, products...); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated":  data[:len(data)/2],
		"no trailer": data[:len(data)-3],
		"foreign":    []byte("not an index at all, but long enough"),
	} {
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := rag.New(rag.Options{Embedder: hashing(), Lexical: &rag.LexicalOptions{Path: path}})
		if !errors.Is(err, lexical.ErrCorrupt) {
			t.Errorf("%s file: New returned %v, want lexical.ErrCorrupt", name, err)
		}
	}
}

// TestSearchOptionRanges: a weight or lambda out of its range is an
// error, never a silent default, and every legal value is honoured: λ = 0
// (novelty alone) and λ = 1 (relevance alone) give different orders.
func TestSearchOptionRanges(t *testing.T) {
	ctx := context.Background()
	p := lexicalPipeline(t, "", nil)
	if _, err := p.Ingest(ctx,
		rag.Document{ID: "a", Content: "solar panels convert sunlight into electricity"},
		rag.Document{ID: "a2", Content: "solar panels convert sunlight into electricity efficiently"},
		rag.Document{ID: "b", Content: "wind turbines convert wind into electricity"},
		rag.Document{ID: "c", Content: "tides follow the moon"},
	); err != nil {
		t.Fatal(err)
	}
	q := "solar panels electricity"
	for _, o := range []rag.SearchOptions{
		{Mode: rag.HybridSearch, VectorWeight: -0.1},
		{Mode: rag.HybridSearch, VectorWeight: 1.5},
		{Mode: rag.HybridSearch, VectorWeight: math.NaN()},
		{MMR: true, MMRLambda: new(-0.5)},
		{MMR: true, MMRLambda: new(1.01)},
		{MMR: true, MMRLambda: new(math.NaN())},
	} {
		if _, err := p.Search(ctx, q, &o); !errors.Is(err, rag.ErrInvalidOptions) {
			t.Errorf("%+v: err = %v, want ErrInvalidOptions", o, err)
		}
	}
	order := func(lambda float64) []string {
		t.Helper()
		hits, err := p.Search(ctx, q, &rag.SearchOptions{TopK: 4, MMR: true, MMRLambda: new(lambda)})
		if err != nil {
			t.Fatalf("λ %v: %v", lambda, err)
		}
		return ids(hits)
	}
	relevance, novelty := order(1), order(0)
	if slices.Equal(relevance, novelty) {
		t.Fatalf("λ 0 and λ 1 give the same order %v: λ 0 was not honoured", relevance)
	}
	plain, err := p.Search(ctx, q, &rag.SearchOptions{TopK: 4})
	if err != nil || !slices.Equal(ids(plain), relevance) {
		t.Fatalf("λ 1 %v differs from relevance order %v (%v)", relevance, ids(plain), err)
	}
	for _, w := range []float64{0.01, 0.5, 1} {
		if _, err := p.Search(ctx, q, &rag.SearchOptions{Mode: rag.HybridSearch, Fusion: rag.WeightedScores, VectorWeight: w}); err != nil {
			t.Errorf("VectorWeight %v: %v", w, err)
		}
	}
}

// TestPipelineClose: Close releases the lexical index's files, may be
// called twice, leaves searching possible and makes ingesting into the
// closed index fail; a reopened pipeline finds what was written.
func TestPipelineClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bm25.idx")
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := lexicalPipeline(t, path, s)
	if _, err := p.Ingest(ctx, rag.Document{ID: "a", Content: "the quokka smiles"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if hits, err := p.Search(ctx, "quokka", &rag.SearchOptions{Mode: rag.LexicalSearch}); err != nil || len(hits) != 1 {
		t.Fatalf("search after Close: %v %v", hits, err)
	}
	if _, err := p.Ingest(ctx, rag.Document{ID: "b", Content: "the wombat digs"}); err == nil {
		t.Fatal("ingesting into a closed lexical index succeeded")
	}
	q := lexicalPipeline(t, path, s)
	defer q.Close()
	if hits, err := q.Search(ctx, "quokka", &rag.SearchOptions{Mode: rag.LexicalSearch}); err != nil || len(hits) != 1 {
		t.Fatalf("reopened: %v %v", hits, err)
	}
}
