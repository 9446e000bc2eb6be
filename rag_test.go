package rag_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/rerank"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// paragraphs is a chunker that makes one chunk per paragraph, so tests
// control the chunks exactly.
var paragraphs = chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
	var out []chunk.Chunk
	start := 0
	for start < len(text) {
		end := strings.Index(text[start:], "\n\n")
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		if s := strings.TrimSpace(text[start:end]); s != "" {
			out = append(out, chunk.Chunk{Text: text[start:end], Index: len(out), Start: start, End: end, Tokens: len(strings.Fields(s))})
		}
		start = end + 2
	}
	return out, nil
})

// counting wraps an embedder and counts calls and texts.
type counting struct {
	embed.Embedder
	calls, texts atomic.Int64
}

func (c *counting) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.calls.Add(1)
	c.texts.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts)
}

// Name passes the wrapped embedder's name on, so a counting embedder makes
// the same content hashes and cache keys as the embedder it wraps.
func (c *counting) Name() string { return c.Embedder.(embed.Namer).Name() }

func hashing() embed.Embedder { return embed.NewHashing(embed.HashingOptions{Dimensions: 64}) }

func newPipeline(t *testing.T, e embed.Embedder, mod ...func(*rag.Options)) *rag.Pipeline {
	t.Helper()
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := rag.Options{Embedder: e, Store: s, Chunker: paragraphs}
	o.Ingest.Retry.MinBackoff = time.Millisecond
	o.Ingest.Retry.MaxBackoff = 5 * time.Millisecond
	for _, m := range mod {
		m(&o)
	}
	p, err := rag.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// chunksOf returns the stored chunks of a document, by chunk index.
func chunksOf(t *testing.T, p *rag.Pipeline, docID string) []rag.Hit {
	t.Helper()
	hits, err := p.Search(context.Background(), "anything at all", &rag.SearchOptions{TopK: 1000, Filter: store.Eq(store.FieldDocID, docID)})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]rag.Hit, len(hits))
	for _, h := range hits {
		if h.Chunk < 0 || h.Chunk >= len(hits) || out[h.Chunk].ID != "" {
			t.Fatalf("document %s: chunk indexes not 0..%d: %+v", docID, len(hits)-1, hits)
		}
		out[h.Chunk] = h
	}
	return out
}

var corpus = []rag.Document{
	{ID: "go", Title: "Go", Source: "go.md", Tags: []string{"lang"}, Metadata: map[string]any{"year": 2009},
		Content: "Goroutines are lightweight threads managed by the Go runtime.\n\nChannels let goroutines communicate by sending values."},
	{ID: "tides", Title: "Tides", Source: "tides.md", Metadata: map[string]any{"year": 1687},
		Content: "Tides are caused by the gravity of the Moon pulling the oceans.\n\nSpring tides happen when the Sun and Moon line up."},
	{ID: "bread", Title: "Bread", Source: "bread.md", Tags: []string{"food"},
		Content: "Sourdough bread rises thanks to wild yeast in the starter."},
}

func TestNewWithoutEmbedder(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	_, err := rag.New(rag.Options{})
	if !errors.Is(err, rag.ErrNoEmbedder) {
		t.Fatalf("New without embedder: got %v, want ErrNoEmbedder", err)
	}
	if !strings.Contains(err.Error(), "Options.Embedder") {
		t.Errorf("error does not say how to pass an embedder: %v", err)
	}
}

// TestNewEmbedderFromBaseURL: OPENAI_BASE_URL alone (a local
// OpenAI-compatible server, no key) gives New its default embedder.
func TestNewEmbedderFromBaseURL(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	p, err := rag.New(rag.Options{})
	if err != nil {
		t.Fatalf("New with OPENAI_BASE_URL only: %v", err)
	}
	if _, err := p.Ingest(context.Background(), rag.Document{ID: "a", Content: "some text to embed"}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n == 0 {
		t.Fatal("no request reached the server at OPENAI_BASE_URL")
	}
}

func TestNewDefaults(t *testing.T) {
	// Zero options but the embedder: default store and chunker.
	p, err := rag.New(rag.Options{Embedder: hashing()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rep, err := p.Ingest(ctx, corpus...)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != len(corpus) || rep.Chunks < len(corpus) {
		t.Fatalf("report %+v", rep)
	}
	hits, err := p.Search(ctx, "how do goroutines communicate with channels", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].DocID != "go" {
		t.Fatalf("best hit is not the Go document: %+v", hits)
	}
}

func TestIngestAndSearch(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing())
	rep, err := p.Ingest(ctx, corpus...)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 3 || rep.Chunks != 5 || rep.Failed != 0 || len(rep.Documents) != 3 {
		t.Fatalf("report: %+v", rep)
	}
	hits, err := p.Search(ctx, "gravity of the moon and the oceans", &rag.SearchOptions{TopK: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 {
		t.Fatalf("TopK larger than the collection: got %d hits, want all 5", len(hits))
	}
	h := hits[0]
	if h.DocID != "tides" || h.Chunk != 0 || h.ID != document.RecordID("tides", 0) || h.Title != "Tides" || h.Source != "tides.md" {
		t.Fatalf("best hit: %+v", h)
	}
	if h.Metadata["year"] != float64(1687) {
		t.Errorf("metadata not normalised to float64: %#v", h.Metadata)
	}
	if got := corpus[1].Content[h.Start:h.End]; got != h.Text {
		t.Errorf("offsets: content[%d:%d] = %q, text %q", h.Start, h.End, got, h.Text)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Fatalf("hits not best first: %v then %v", hits[i-1].Score, hits[i].Score)
		}
	}
	if h.Score <= 0 || h.Score > 1.0001 {
		t.Errorf("score %v is not a cosine similarity", h.Score)
	}
}

func TestSearchFilter(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing())
	if _, err := p.Ingest(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    *store.Filter
		want []string
	}{
		{store.Eq(store.FieldTags, "food"), []string{"bread"}},
		{store.Gt("year", 2000), []string{"go"}},
		{store.Lt("year", 2000), []string{"tides"}},
		{store.Not(store.Exists("year")), []string{"bread"}},
		{store.In(store.FieldSource, "go.md", "bread.md"), []string{"bread", "go"}},
	} {
		hits, err := p.Search(ctx, "moon goroutines bread", &rag.SearchOptions{TopK: 10, Filter: tc.f})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, h := range hits {
			got[h.DocID] = true
		}
		if len(got) != len(tc.want) {
			t.Errorf("%v: got documents %v, want %v", tc.f, got, tc.want)
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("%v: missing %s in %v", tc.f, w, got)
			}
		}
	}
}

func TestSearchErrors(t *testing.T) {
	ctx := context.Background()
	c := &counting{Embedder: hashing()}
	p := newPipeline(t, c)
	if _, err := p.Search(ctx, "  \n", nil); !errors.Is(err, rag.ErrEmptyQuery) {
		t.Errorf("empty query: %v", err)
	}
	if _, err := p.Search(ctx, "x", &rag.SearchOptions{Filter: store.Gt("year", "soon")}); !errors.Is(err, store.ErrInvalidFilter) {
		t.Errorf("invalid filter: %v", err)
	}
	if _, err := p.Search(ctx, "x", &rag.SearchOptions{Filter: &store.Filter{Op: "like", Field: "a", Value: "b"}}); !errors.Is(err, store.ErrInvalidFilter) {
		t.Errorf("unknown operator: %v", err)
	}
	if c.calls.Load() != 0 {
		t.Errorf("invalid searches made %d embedding calls", c.calls.Load())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Search(cctx, "x", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
	// An empty collection is not an error.
	hits, err := p.Search(ctx, "anything", nil)
	if err != nil || len(hits) != 0 {
		t.Errorf("search of an empty store: %v, %v", hits, err)
	}
}

func TestQueryEmbeddedOnce(t *testing.T) {
	ctx := context.Background()
	c := &counting{Embedder: hashing()}
	p := newPipeline(t, c)
	if _, err := p.Ingest(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	before := c.calls.Load()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := p.Search(ctx, "the same question", nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := c.calls.Load() - before; n != 1 {
		t.Errorf("20 identical queries made %d embedding calls, want 1", n)
	}
}

func TestBadDocuments(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing())
	rep, err := p.Ingest(ctx,
		rag.Document{ID: "empty", Content: " \n\t "},
		rag.Document{ID: "bad-utf8", Content: "caf\xe9"},
		rag.Document{ID: "bad-meta", Content: "fine", Metadata: map[string]any{"x": struct{}{}}},
		rag.Document{ID: "reserved", Content: "fine", Metadata: map[string]any{"_id": "x"}},
		rag.Document{ID: "ok", Content: "a fine document"},
	)
	if rep.Stored != 1 || rep.Failed != 4 {
		t.Fatalf("report: %+v", rep)
	}
	for _, want := range []error{rag.ErrEmptyContent, rag.ErrInvalidUTF8, rag.ErrInvalidDocument, store.ErrInvalidRecord} {
		if !errors.Is(err, want) {
			t.Errorf("error %v does not match %v", err, want)
		}
	}
	var ie *rag.IngestError
	if !errors.As(err, &ie) || ie.Failed != 4 {
		t.Fatalf("error is not an *IngestError with 4 failures: %#v", err)
	}
	failed := map[string]error{}
	for _, d := range rep.Documents {
		if d.Status == rag.Failed {
			var de *rag.DocumentError
			if !errors.As(d.Err, &de) || de.DocID != d.ID {
				t.Errorf("%s: error %v is not a *DocumentError naming it", d.ID, d.Err)
			}
			failed[d.ID] = d.Err
		}
	}
	if !errors.Is(failed["empty"], rag.ErrEmptyContent) || !errors.Is(failed["bad-utf8"], rag.ErrInvalidUTF8) {
		t.Errorf("per-document errors: %v", failed)
	}
	for _, id := range []string{"empty", "bad-utf8", "bad-meta", "reserved"} {
		if n := len(chunksOf(t, p, id)); n != 0 {
			t.Errorf("failed document %s has %d chunks stored", id, n)
		}
	}
}

func TestDerivedIDs(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing())
	d := rag.Document{Content: "no id given\n\nsecond paragraph"}
	rep, err := p.Ingest(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Documents[0].ID
	if id == "" {
		t.Fatal("no ID derived")
	}
	rep2, err := p.Ingest(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Documents[0].ID != id || rep2.Unchanged != 1 {
		t.Fatalf("same content got ID %q (first %q), report %+v", rep2.Documents[0].ID, id, rep2)
	}
	for i, h := range chunksOf(t, p, id) {
		if h.ID != document.RecordID(id, i) {
			t.Errorf("chunk %d has ID %q, want %q", i, h.ID, document.RecordID(id, i))
		}
	}
}

func TestReingest(t *testing.T) {
	ctx := context.Background()
	c := &counting{Embedder: hashing()}
	p := newPipeline(t, c)
	v1 := rag.Document{ID: "doc", Content: "one\n\ntwo\n\nthree\n\nfour"}
	if _, err := p.Ingest(ctx, v1); err != nil {
		t.Fatal(err)
	}
	// Unchanged: no embedding call.
	calls := c.calls.Load()
	rep, err := p.Ingest(ctx, v1)
	if err != nil || rep.Unchanged != 1 || rep.Stored != 0 {
		t.Fatalf("re-ingest unchanged: %+v, %v", rep, err)
	}
	if c.calls.Load() != calls {
		t.Fatalf("unchanged document was embedded again")
	}
	// Changed, with fewer chunks: the old ones are gone, and only the new
	// text is embedded (the rest comes from the cache).
	texts := c.texts.Load()
	v2 := rag.Document{ID: "doc", Content: "one\n\nTWO, changed"}
	rep, err = p.Ingest(ctx, v2)
	if err != nil || rep.Stored != 1 || rep.CachedChunks != 1 {
		t.Fatalf("re-ingest changed: %+v, %v", rep, err)
	}
	if n := c.texts.Load() - texts; n != 1 {
		t.Errorf("changed document embedded %d texts, want 1 (the changed chunk)", n)
	}
	got := chunksOf(t, p, "doc")
	if len(got) != 2 || got[0].Text != "one" || got[1].Text != "TWO, changed" {
		t.Fatalf("after replace: %+v", got)
	}
	// A metadata change alone rewrites the document without embedding.
	texts = c.texts.Load()
	v3 := v2
	v3.Metadata = map[string]any{"rev": 3}
	if rep, err = p.Ingest(ctx, v3); err != nil || rep.Stored != 1 {
		t.Fatalf("metadata change: %+v %v", rep, err)
	}
	if c.texts.Load() != texts {
		t.Errorf("metadata change embedded texts again")
	}
	if got := chunksOf(t, p, "doc"); got[0].Metadata["rev"] != float64(3) {
		t.Errorf("metadata not rewritten: %+v", got[0].Metadata)
	}
}

func TestDuplicateIDsInOneCall(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing())
	var docs []rag.Document
	for i := range 20 {
		docs = append(docs, rag.Document{ID: "same", Content: fmt.Sprintf("version %d\n\nbody", i)})
	}
	rep, err := p.Ingest(ctx, docs...)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored+rep.Unchanged != 20 {
		t.Fatalf("report %+v", rep)
	}
	got := chunksOf(t, p, "same")
	if len(got) != 2 || got[0].Text != "version 19" {
		t.Fatalf("the last version must win: %+v", got)
	}
}

// faulty returns an embedder that misbehaves on texts containing "POISON"
// in the way bad describes.
func faulty(bad func(texts []string, vecs [][]float32) ([][]float32, error)) embed.Embedder {
	h := hashing()
	return embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		vecs, err := h.Embed(ctx, texts)
		if err != nil {
			return nil, err
		}
		for _, t := range texts {
			if strings.Contains(t, "POISON") {
				return bad(texts, vecs)
			}
		}
		return vecs, nil
	})
}

func TestBadEmbedderOutput(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func([]string, [][]float32) ([][]float32, error)
		want error
	}{
		{"count", func(_ []string, v [][]float32) ([][]float32, error) { return v[1:], nil }, embed.ErrCountMismatch},
		{"dimension", func(_ []string, v [][]float32) ([][]float32, error) {
			v[0] = append(v[0], 1)
			return v, nil
		}, embed.ErrDimensionMismatch},
		{"nan", func(_ []string, v [][]float32) ([][]float32, error) {
			v[0][3] = float32(math.NaN())
			return v, nil
		}, embed.ErrInvalidVector},
		{"inf", func(_ []string, v [][]float32) ([][]float32, error) {
			v[len(v)-1][0] = float32(math.Inf(1))
			return v, nil
		}, embed.ErrInvalidVector},
		{"400", func([]string, [][]float32) ([][]float32, error) {
			return nil, &provider.Error{StatusCode: 400, Message: "bad input"}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := newPipeline(t, faulty(tc.bad))
			// The poisoned document's previous version must survive.
			if _, err := p.Ingest(ctx, rag.Document{ID: "victim", Content: "old one\n\nold two"}); err != nil {
				t.Fatal(err)
			}
			var docs []rag.Document
			for i := range 10 {
				docs = append(docs, rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprintf("doc %d a\n\ndoc %d b", i, i)})
			}
			docs = append(docs, rag.Document{ID: "victim", Content: "new one\n\nPOISON two\n\nnew three"})
			rep, err := p.Ingest(ctx, docs...)
			if rep.Failed != 1 || rep.Stored != 10 {
				t.Fatalf("report %+v (err %v): one bad input must fail only its own document", rep, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v does not match %v", err, tc.want)
			}
			var ae *provider.Error
			if tc.want == nil && !errors.As(err, &ae) {
				t.Errorf("error %v is not a *provider.Error", err)
			}
			got := chunksOf(t, p, "victim")
			if len(got) != 2 || got[0].Text != "old one" || got[1].Text != "old two" {
				t.Fatalf("previous version not kept whole: %+v", got)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int64
	h := hashing()
	flaky := embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		switch calls.Add(1) {
		case 1:
			return nil, &provider.Error{StatusCode: 429, RetryAfter: time.Millisecond}
		case 2:
			return nil, &provider.Error{StatusCode: 503}
		}
		return h.Embed(ctx, texts)
	})
	p := newPipeline(t, flaky, func(o *rag.Options) { o.Ingest.Concurrency = 1 })
	rep, err := p.Ingest(ctx, corpus...)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Retries != 2 || rep.Requests != 3 || rep.Stored != 3 {
		t.Fatalf("report %+v: want 2 retries, 3 requests", rep)
	}

	// Retries are bounded, and exhausted retries fail the documents.
	calls.Store(0)
	down := embed.Func(func(context.Context, []string) ([][]float32, error) {
		calls.Add(1)
		return nil, &provider.Error{StatusCode: 500}
	})
	p = newPipeline(t, down, func(o *rag.Options) { o.Ingest.Retry.MaxRetries = 3 })
	rep, err = p.Ingest(ctx, corpus[0])
	if rep.Failed != 1 || calls.Load() != 4 {
		t.Fatalf("report %+v, %d calls; want 1 failure after 4 calls", rep, calls.Load())
	}
	var ae *provider.Error
	if !errors.As(err, &ae) || ae.StatusCode != 500 {
		t.Errorf("error %v", err)
	}
}

func TestStoreDimensionMismatch(t *testing.T) {
	ctx := context.Background()
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 8}), Store: s, Chunker: paragraphs})
	p16, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 16}), Store: s, Chunker: paragraphs})
	if _, err := p8.Ingest(ctx, corpus[0]); err != nil {
		t.Fatal(err)
	}
	changed := corpus[0]
	changed.Content += "\n\nmore"
	rep, err := p16.Ingest(ctx, changed)
	if rep.Failed != 1 || !errors.Is(err, store.ErrDimensionMismatch) {
		t.Fatalf("report %+v, err %v: want a dimension mismatch", rep, err)
	}
	if got := chunksOf(t, p8, "go"); len(got) != 2 {
		t.Fatalf("old version damaged: %+v", got)
	}
}

func TestCancelledIngest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := newPipeline(t, hashing())
	rep, err := p.Ingest(ctx, corpus...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if rep.Stored != 0 || rep.Failed != len(corpus) {
		t.Fatalf("report %+v", rep)
	}
	for _, d := range corpus {
		if n := len(chunksOf(t, p, d.ID)); n != 0 {
			t.Errorf("%s has %d chunks after a cancelled ingest", d.ID, n)
		}
	}
}

// TestCancelMidIngest cancels while requests are in flight: Ingest returns,
// no goroutine is left behind, and the store holds only whole documents.
func TestCancelMidIngest(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	h := hashing()
	var calls atomic.Int64
	var ingested atomic.Bool // after Ingest, the embedder serves queries
	slow := embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		if calls.Add(1) == 5 {
			cancel() // cancel from inside the fifth request
		}
		if calls.Load() >= 5 && !ingested.Load() {
			<-ctx.Done() // in-flight requests must be aborted
			return nil, ctx.Err()
		}
		return h.Embed(ctx, texts)
	})
	p := newPipeline(t, slow, func(o *rag.Options) { o.Ingest.BatchSize = 3; o.Ingest.Concurrency = 4 })
	var docs []rag.Document
	for i := range 200 {
		docs = append(docs, rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprintf("a %d\n\nb %d\n\nc %d", i, i, i)})
	}
	rep, err := p.Ingest(ctx, docs...)
	ingested.Store(true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if rep.Stored+rep.Failed != len(docs) || rep.Failed == 0 {
		t.Fatalf("report %+v: every document must be reported", rep)
	}
	stored := 0
	for _, d := range docs {
		switch n := len(chunksOf(t, p, d.ID)); n {
		case 0:
		case 3:
			stored++
		default:
			t.Fatalf("%s has %d of 3 chunks", d.ID, n)
		}
	}
	if stored != rep.Stored {
		t.Errorf("store holds %d documents, report says %d stored", stored, rep.Stored)
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails if the goroutine count does not come back to n.
// Goroutines that are exiting need a moment to be gone; it polls with
// runtime.Gosched rather than sleeping a fixed time.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing())
	if _, err := p.Ingest(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, "go", "missing"); err != nil {
		t.Fatal(err)
	}
	if n := len(chunksOf(t, p, "go")); n != 0 {
		t.Fatalf("deleted document has %d chunks", n)
	}
	if n := len(chunksOf(t, p, "tides")); n != 2 {
		t.Fatalf("other document has %d chunks", n)
	}
	// Deleted documents are ingested again, not skipped as unchanged.
	rep, err := p.Ingest(ctx, corpus[0])
	if err != nil || rep.Stored != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestRerank(t *testing.T) {
	ctx := context.Background()
	// A reranker that prefers the bread document, whatever the query.
	var got []string
	rr := rerank.Func(func(_ context.Context, q string, passages []string) ([]float64, error) {
		got = passages
		s := make([]float64, len(passages))
		for i, p := range passages {
			if strings.Contains(p, "Sourdough") {
				s[i] = 10
			}
		}
		return s, nil
	})
	p := newPipeline(t, hashing(), func(o *rag.Options) { o.Reranker = rr })
	if _, err := p.Ingest(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	hits, err := p.Search(ctx, "goroutines and channels", &rag.SearchOptions{TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || len(hits) != 2 || hits[0].DocID != "bread" || hits[0].Score != 10 {
		t.Fatalf("reranker saw %d passages; hits %+v", len(got), hits)
	}
	hits, err = p.Search(ctx, "goroutines and channels", &rag.SearchOptions{TopK: 2, NoRerank: true})
	if err != nil || hits[0].DocID != "go" {
		t.Fatalf("NoRerank: %+v %v", hits, err)
	}
	hits, err = p.Search(ctx, "goroutines and channels", &rag.SearchOptions{TopK: 5, MinScore: 1})
	if err != nil || len(hits) != 1 {
		t.Fatalf("MinScore: %+v %v", hits, err)
	}
}

func TestProgress(t *testing.T) {
	ctx := context.Background()
	var events []rag.Progress
	p := newPipeline(t, hashing(), func(o *rag.Options) {
		o.Ingest.Progress = func(p rag.Progress) { events = append(events, p) }
	})
	rep, err := p.Ingest(ctx, append(corpus, rag.Document{ID: "bad", Content: ""})...)
	if err == nil {
		t.Fatal("empty document accepted")
	}
	finished := 0
	for i, e := range events {
		if i > 0 {
			prev := events[i-1]
			if d := e.Documents - prev.Documents; d < 0 || d > 1 || e.EmbeddedChunks < prev.EmbeddedChunks ||
				e.EmbeddedBytes < prev.EmbeddedBytes || e.WrittenBytes < prev.WrittenBytes || e.Chunks < prev.Chunks {
				t.Fatalf("progress went back or jumped: %+v then %+v", prev, e)
			}
			if e.Documents > prev.Documents {
				finished++
			}
		} else if e.Documents == 1 {
			finished++
		}
	}
	if finished != 4 {
		t.Fatalf("%d progress events for finished documents, want 4: %+v", finished, events)
	}
	last := events[len(events)-1]
	if last.Documents != 4 || last.Stored != 3 || last.Failed != 1 || last.Chunks != rep.Chunks ||
		last.EmbeddedChunks != rep.Chunks || last.WrittenBytes != rep.Bytes || rep.Bytes <= 0 || last.EmbeddedBytes < rep.Bytes {
		t.Fatalf("last progress %+v, report %+v", last, rep)
	}
}

// Progress moves with chunks and bytes while one large document is being
// embedded, not only when it is finished.
func TestProgressWithinADocument(t *testing.T) {
	var events []rag.Progress
	p := newPipeline(t, hashing(), func(o *rag.Options) {
		o.Ingest.BatchSize = 4
		o.Ingest.Concurrency = 1
		o.Ingest.NoCache = true
		o.Ingest.Progress = func(p rag.Progress) { events = append(events, p) }
	})
	var content strings.Builder
	for i := range 40 {
		fmt.Fprintf(&content, "Paragraph %d of the large document, about tides and the Moon.\n\n", i)
	}
	rep, err := p.Ingest(context.Background(), rag.Document{ID: "large", Content: content.String()})
	if err != nil || rep.Chunks != 40 {
		t.Fatalf("%+v %v", rep, err)
	}
	var before []rag.Progress // while the document was not finished
	for _, e := range events {
		if e.Documents == 0 {
			before = append(before, e)
		}
	}
	// One event per request (10): the last request's may come after the
	// writer has settled the document, so at least 9 come before.
	if len(before) < 9 {
		t.Fatalf("%d progress events before the document finished, want one per request but perhaps the last (9)", len(before))
	}
	for i := 1; i < len(before); i++ {
		if before[i].EmbeddedChunks <= before[i-1].EmbeddedChunks || before[i].EmbeddedBytes <= before[i-1].EmbeddedBytes {
			t.Fatalf("progress did not move: %+v then %+v", before[i-1], before[i])
		}
	}
	if l := before[len(before)-1]; l.EmbeddedChunks < 36 || l.Chunks != 0 || l.WrittenBytes != 0 {
		t.Fatalf("last progress before the write %+v", l)
	}
	if l := events[len(events)-1]; l.Documents != 1 || l.Chunks != 40 || l.EmbeddedChunks != 40 || l.WrittenBytes != rep.Bytes {
		t.Fatalf("last progress %+v, report %+v", l, rep)
	}
}

// queryAware embeds documents and queries differently, as Voyage and Cohere
// do, and counts each.
type queryAware struct {
	embed.Embedder
	docs, queries atomic.Int64
}

func (q *queryAware) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	q.docs.Add(int64(len(texts)))
	return q.Embedder.Embed(ctx, texts)
}

func (q *queryAware) EmbedQueries(ctx context.Context, texts []string) ([][]float32, error) {
	q.queries.Add(int64(len(texts)))
	return q.Embedder.Embed(ctx, texts)
}

func TestQueriesUseQueryMode(t *testing.T) {
	ctx := context.Background()
	q := &queryAware{Embedder: hashing()}
	p := newPipeline(t, q)
	if _, err := p.Ingest(ctx, corpus...); err != nil {
		t.Fatal(err)
	}
	docs := q.docs.Load()
	if docs != 5 || q.queries.Load() != 0 {
		t.Fatalf("ingest embedded %d documents and %d queries", docs, q.queries.Load())
	}
	for range 3 { // the second and third come from the query cache
		if _, err := p.Search(ctx, "moon and tides", nil); err != nil {
			t.Fatal(err)
		}
	}
	if q.queries.Load() != 1 || q.docs.Load() != docs {
		t.Fatalf("search embedded %d queries and %d documents, want 1 query", q.queries.Load(), q.docs.Load()-docs)
	}
}
