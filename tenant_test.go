package rag_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/rerank"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
)

// tenancyOps is the number of random operations of TestTenantIsolation.
const tenancyOps = 10000

// tenancySeedEnv, set to a seed a failure printed, replays that run.
const tenancySeedEnv = "RAG_TENANCY_SEED"

// tenantMark is the word that marks every text of tenant i: a text of one
// tenant seen by another (in hits, reranked passages, prompts) shows it.
func tenantMark(i int) string { return fmt.Sprintf("tenantmark%d", i) }

var markRE = regexp.MustCompile(`tenantmark(\d+)`)

// foreignMarks returns the marks in s of tenants other than own.
func foreignMarks(s string, own int) []string {
	var out []string
	for _, m := range markRE.FindAllStringSubmatch(s, -1) {
		if n, _ := strconv.Atoi(m[1]); n != own {
			out = append(out, m[0])
		}
	}
	return out
}

// tenantDoc is what the test knows of a document of one tenant.
type tenantDoc struct {
	doc     rag.Document
	write   int
	lang    string
	expired bool
}

// tenantState is one tenant: its handle (nil for the pipeline itself, the
// default tenant) and its documents.
type tenantState struct {
	i    int
	name string
	t    *rag.Tenant
	docs map[string]tenantDoc
}

// searcher is what the pipeline and a Tenant have in common.
type searcher interface {
	Ingest(ctx context.Context, docs ...rag.Document) (*rag.IngestReport, error)
	Search(ctx context.Context, query string, opts *rag.SearchOptions) ([]rag.Hit, error)
	Answer(ctx context.Context, question string, opts *rag.AnswerOptions) (*rag.Answer, error)
	AnswerStream(ctx context.Context, question string, opts *rag.AnswerOptions) func(func(rag.AnswerDelta, error) bool)
	Delete(ctx context.Context, docIDs ...string) error
	Purge(ctx context.Context) (int, error)
}

// pipelineSearcher adapts *rag.Pipeline's AnswerStream type (iter.Seq2)
// to searcher's.
type pipelineSearcher struct{ *rag.Pipeline }

func (p pipelineSearcher) AnswerStream(ctx context.Context, q string, o *rag.AnswerOptions) func(func(rag.AnswerDelta, error) bool) {
	return p.Pipeline.AnswerStream(ctx, q, o)
}

type tenantSearcher struct{ *rag.Tenant }

func (t tenantSearcher) AnswerStream(ctx context.Context, q string, o *rag.AnswerOptions) func(func(rag.AnswerDelta, error) bool) {
	return t.Tenant.AnswerStream(ctx, q, o)
}

var tenancyWords = []string{"alpha", "beta", "gamma", "delta", "river", "mountain", "engine", "garden"}

// Through the pipeline, on the default tenant and four others writing the
// same document IDs: tenancyOps random operations (ingest, re-ingest of
// an unchanged document, delete, purge of expired documents, vector,
// lexical and hybrid searches with MMR, reranking, collapsing, filters
// and expired documents, answers generated and streamed, with
// neighbouring chunks), on a pipeline with a lexical index, a reranker,
// an embedding cache and a model. Every hit, every passage the reranker
// and the model see and every answer passage must be the tenant's own,
// in its latest version; searches return every matching document of the
// tenant (so isolation does not hide the tenant's own); Purge counts the
// tenant's expired documents only; a re-ingested document is unchanged in
// its tenant only. The seed is printed; set RAG_TENANCY_SEED to replay.
func TestTenantIsolation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) store.Store
	}{
		{"chromem", func(t *testing.T) store.Store {
			s, err := chromem.New(chromem.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"flat", func(t *testing.T) store.Store {
			s, err := flat.New(flat.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tenantIsolation(t, tc.store(t), tenancyOps, false) })
	}
}

// TestTenantIsolationPgvector is TestTenantIsolation, 2,000 operations of
// it, on store/pgvector, whose own full-text search (through each
// tenant's view) serves the lexical side. Needs RAG_PG_DSN.
func TestTenantIsolationPgvector(t *testing.T) {
	s := pgvectorStore(t, fmt.Sprintf("rag_tenant_test_%d", os.Getpid()))
	tenantIsolation(t, s, 2000, true)
}

// tenantIsolation runs ops random operations on a pipeline on st. With
// textAnd, the store's own text search needs every query word (Postgres's
// websearch_to_tsquery): lexical queries are then the one word every
// chunk has.
func tenantIsolation(t *testing.T, st store.Store, ops int, textAnd bool) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(tenancySeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = n
	}
	t.Logf("random seed %d (replay with %s=%d)", seed, tenancySeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	op, current := 0, 0 // the operation, and the tenant it runs as
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d, operation %d, tenant %d: %s", seed, op, current, fmt.Sprintf(format, args...))
	}

	var (
		mu     sync.Mutex
		leaked []string // foreign marks the reranker or the model saw
	)
	see := func(where, text string) {
		if f := foreignMarks(text, current); len(f) > 0 {
			mu.Lock()
			leaked = append(leaked, fmt.Sprintf("%s saw %v", where, f))
			mu.Unlock()
		}
	}
	rr := rerank.Func(func(_ context.Context, q string, passages []string) ([]float64, error) {
		scores := make([]float64, len(passages))
		for i, p := range passages {
			see("the reranker", p)
			scores[i] = float64(len(p)%97) / 97
		}
		return scores, nil
	})
	model := llmtest.New()
	model.Reply = func(req llm.Request) string {
		for _, m := range req.Messages {
			see("the model", m.Content)
		}
		return "It is said [1] and [2]."
	}
	p, err := rag.New(rag.Options{
		Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 64}),
		Store:    st,
		Lexical:  &rag.LexicalOptions{},
		Reranker: rr,
		Model:    model,
		Logger:   slog.New(slog.DiscardHandler),
		Chunker:  paragraphs,
		// A short linger: the test ingests one small batch at a time.
		Ingest: rag.IngestOptions{Cache: embed.NewMemoryCache(0), Linger: 50 * time.Microsecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	names := []string{"", "acme", "Acme", "globex inc.", "テナント"}
	tenants := make([]*tenantState, len(names))
	for i, n := range names {
		tenants[i] = &tenantState{i: i, name: n, docs: map[string]tenantDoc{}}
		if n != "" {
			if tenants[i].t, err = p.Tenant(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	as := func(ts *tenantState) searcher {
		if ts.t == nil {
			return pipelineSearcher{p}
		}
		if rng.IntN(8) == 0 { // a fresh handle finds the same data
			var err error
			if ts.t, err = p.Tenant(ts.name); err != nil {
				fail("Tenant(%q): %v", ts.name, err)
			}
		}
		return tenantSearcher{ts.t}
	}
	ids := []string{"d0", "d1", "d2", "d3", "d4"}
	langs := []string{"en", "de"}
	ctx := context.Background()
	write := 0
	counts := map[string]int{}

	// live counts the documents of ts a search with filter f and
	// includeExpired would return.
	live := func(ts *tenantState, f *store.Filter, includeExpired bool) int {
		n := 0
		for id, d := range ts.docs {
			r := store.Record{DocID: id, Metadata: map[string]any{"owner": ts.name, "write": float64(d.write), "lang": d.lang}}
			if (includeExpired || !d.expired) && f.Match(&r) {
				n++
			}
		}
		return n
	}
	// checkHit fails unless h is a chunk of the tenant's latest version
	// of its document.
	checkHit := func(ts *tenantState, h rag.Hit, includeExpired bool, what string) {
		t.Helper()
		d, ok := ts.docs[h.DocID]
		switch {
		case h.Metadata["owner"] != ts.name:
			fail("%s: hit %s belongs to tenant %q", what, h.ID, h.Metadata["owner"])
		case !ok:
			fail("%s: hit %s of a document the tenant does not hold", what, h.ID)
		case h.Metadata["write"] != float64(d.write):
			fail("%s: hit %s is write %v, the tenant's is %d", what, h.ID, h.Metadata["write"], d.write)
		case len(foreignMarks(h.Text, ts.i)) > 0 || !strings.Contains(h.Text, tenantMark(ts.i)):
			fail("%s: hit %s text %q is not the tenant's", what, h.ID, h.Text)
		case d.expired && !includeExpired:
			fail("%s: hit %s is expired", what, h.ID)
		}
	}
	randomFilter := func() *store.Filter {
		switch rng.IntN(5) {
		case 0:
			return store.Eq(store.FieldDocID, ids[rng.IntN(len(ids))])
		case 1:
			return store.Eq("owner", names[rng.IntN(len(names))])
		case 2:
			return store.Eq("lang", langs[rng.IntN(2)])
		}
		return nil
	}
	randomSearch := func() *rag.SearchOptions {
		o := &rag.SearchOptions{
			TopK:           []int{1, 3, 10}[rng.IntN(3)],
			Mode:           []rag.SearchMode{rag.VectorSearch, rag.LexicalSearch, rag.HybridSearch}[rng.IntN(3)],
			Filter:         randomFilter(),
			MMR:            rng.IntN(3) == 0,
			NoRerank:       rng.IntN(2) == 0,
			IncludeExpired: rng.IntN(4) == 0,
		}
		if rng.IntN(4) == 0 {
			o.Documents = rag.DocumentMax
		}
		return o
	}
	query := func(mode rag.SearchMode) string {
		w := tenancyWords[rng.IntN(len(tenancyWords))]
		if textAnd && mode != rag.VectorSearch {
			return "shared"
		}
		return "shared " + w
	}

	for op = range ops {
		ts := tenants[rng.IntN(len(tenants))]
		current = ts.i
		s := as(ts)
		switch r := rng.IntN(100); {
		case r < 25: // ingest new versions, some already expired
			var docs []rag.Document
			var states []tenantDoc
			for range 1 + rng.IntN(3) {
				write++
				id := ids[rng.IntN(len(ids))]
				d := tenantDoc{write: write, lang: langs[rng.IntN(2)], expired: rng.IntN(5) == 0}
				w1, w2 := tenancyWords[rng.IntN(len(tenancyWords))], tenancyWords[rng.IntN(len(tenancyWords))]
				d.doc = rag.Document{
					ID:       id,
					Title:    "Title " + id,
					Content:  fmt.Sprintf("Shared words %s %s, %s version %d of %s.\n\nShared again, a second paragraph of %s: %s %s.", w1, w2, tenantMark(ts.i), write, id, tenantMark(ts.i), w2, w1),
					Metadata: map[string]any{"owner": ts.name, "write": write, "lang": d.lang},
				}
				if d.expired {
					d.doc.ExpiresAt = time.Now().Add(-time.Hour)
				} else if rng.IntN(2) == 0 {
					d.doc.ExpiresAt = time.Now().Add(24 * time.Hour)
				}
				docs = append(docs, d.doc)
				states = append(states, d)
			}
			rep, err := s.Ingest(ctx, docs...)
			if err != nil || rep.Stored != len(docs) {
				fail("Ingest: %d of %d stored, %v", rep.Stored, len(docs), err)
			}
			for i, d := range docs {
				ts.docs[d.ID] = states[i]
			}
			counts["ingest"]++
		case r < 30: // re-ingest a document unchanged: unchanged here, whatever other tenants hold
			if len(ts.docs) == 0 {
				continue
			}
			d := ts.docs[ids[rng.IntN(len(ids))]]
			if d.doc.ID == "" {
				continue
			}
			rep, err := s.Ingest(ctx, d.doc)
			if err != nil || rep.Unchanged != 1 {
				fail("re-Ingest of %s unchanged: %+v, %v", d.doc.ID, rep, err)
			}
			counts["reingest"]++
		case r < 38:
			del := []string{ids[rng.IntN(len(ids))], ids[rng.IntN(len(ids))]}
			if err := s.Delete(ctx, del...); err != nil {
				fail("Delete: %v", err)
			}
			for _, id := range del {
				delete(ts.docs, id)
			}
			counts["delete"]++
		case r < 43:
			want := 0
			for id, d := range ts.docs {
				if d.expired {
					want++
					delete(ts.docs, id)
				}
			}
			n, err := s.Purge(ctx)
			if err != nil || n != want {
				fail("Purge = %d, %v; the tenant has %d expired documents", n, err, want)
			}
			counts["purge"]++
		case r < 88:
			o := randomSearch()
			q := query(o.Mode)
			hits, err := s.Search(ctx, q, o)
			if err != nil {
				fail("Search(%q, %+v): %v", q, o, err)
			}
			what := fmt.Sprintf("Search(%q, mode %d, MMR %v, rerank %v, documents %v, filter %s, expired %v)", q, o.Mode, o.MMR, !o.NoRerank, o.Documents, o.Filter, o.IncludeExpired)
			for _, h := range hits {
				checkHit(ts, h, o.IncludeExpired, what)
			}
			// Every document has two chunks, both containing "shared"
			// once collapsed or not.
			n := live(ts, o.Filter, o.IncludeExpired)
			if o.Documents == rag.NoCollapse {
				n *= 2
			}
			if len(hits) != min(o.TopK, n) {
				fail("%s: %d hits, want %d", what, len(hits), min(o.TopK, n))
			}
			counts[fmt.Sprintf("search mode %d", o.Mode)]++
		default:
			ao := &rag.AnswerOptions{Search: randomSearch()}
			if rng.IntN(2) == 0 {
				ao.Neighbors = 1
			}
			q := query(ao.Search.Mode)
			var a *rag.Answer
			if rng.IntN(2) == 0 {
				a, err = s.Answer(ctx, q, ao)
			} else {
				for d, derr := range s.AnswerStream(ctx, q, ao) {
					if err = derr; err != nil {
						break
					}
					if d.Answer != nil {
						a = d.Answer
					}
				}
			}
			if err != nil {
				fail("answer: %v", err)
			}
			for _, ps := range a.Passages {
				checkHit(ts, ps.Hit, ao.Search.IncludeExpired, "answer passage")
				if f := foreignMarks(ps.Context, ts.i); len(f) > 0 {
					fail("answer passage %s has the context of another tenant: %v", ps.ID, f)
				}
			}
			if n := live(ts, ao.Search.Filter, ao.Search.IncludeExpired); n > 0 && len(a.Passages) == 0 {
				fail("answer: no passage, the tenant holds %d matching documents", n)
			}
			counts["answer"]++
		}
		mu.Lock()
		l := slices.Clone(leaked)
		mu.Unlock()
		if len(l) > 0 {
			fail("%s", strings.Join(l, "; "))
		}
	}
	t.Logf("%d operations: %v", ops, counts)
}

// The same document in two tenants is embedded for each (the embedding
// cache keys are the tenant's), stored for each (the "unchanged" check
// reads the tenant's hashes), and a query is embedded once per tenant
// (the query cache keys are the tenant's), while the default tenant's
// keys are those of a pipeline without tenants.
func TestTenantCachesApart(t *testing.T) {
	e := &counting{Embedder: hashing()}
	cache := embed.NewMemoryCache(0)
	p := newPipeline(t, e, func(o *rag.Options) { o.Ingest.Cache = cache })
	ctx := context.Background()
	doc := rag.Document{ID: "same", Content: "The same words in every tenant."}
	a, err := p.Tenant("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Tenant("b")
	if err != nil {
		t.Fatal(err)
	}
	for i, ing := range []func(context.Context, ...rag.Document) (*rag.IngestReport, error){p.Ingest, a.Ingest, b.Ingest} {
		before := e.texts.Load()
		rep, err := ing(ctx, doc)
		if err != nil || rep.Stored != 1 {
			t.Fatalf("ingest %d: %+v, %v; want the document stored", i, rep, err)
		}
		if e.texts.Load() == before {
			t.Errorf("ingest %d: nothing embedded: the vectors came from another tenant's cache entries", i)
		}
	}
	if cache.Len() != 3 {
		t.Errorf("the cache holds %d entries, want one per tenant (3)", cache.Len())
	}
	for i, s := range []func(context.Context, string, *rag.SearchOptions) ([]rag.Hit, error){p.Search, a.Search, b.Search} {
		before := e.texts.Load()
		if _, err := s(ctx, "same words", nil); err != nil {
			t.Fatal(err)
		}
		if e.texts.Load() == before {
			t.Errorf("search %d: the query vector came from another tenant's query cache", i)
		}
		before = e.texts.Load()
		if _, err := s(ctx, "same words", nil); err != nil {
			t.Fatal(err)
		}
		if e.texts.Load() != before {
			t.Errorf("search %d again: the query was embedded again, not taken from the tenant's cache", i)
		}
	}
	if err := a.Delete(ctx, "same"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]func(context.Context, string, *rag.SearchOptions) ([]rag.Hit, error){"default": p.Search, "a": a.Search, "b": b.Search} {
		hits, err := s(ctx, "same words", nil)
		want := 1
		if name == "a" {
			want = 0
		}
		if err != nil || len(hits) != want {
			t.Errorf("tenant %s after a deleted the document: %d hits, %v; want %d", name, len(hits), err, want)
		}
	}
}

func TestTenantInvalid(t *testing.T) {
	p := newPipeline(t, hashing())
	for _, bad := range []string{"", "a\x00b", "\xff", strings.Repeat("x", store.MaxTenantLen+1)} {
		if tn, err := p.Tenant(bad); !errors.Is(err, rag.ErrInvalidTenant) || tn != nil {
			t.Errorf("Tenant(%q) = %v, %v; want ErrInvalidTenant", bad, tn, err)
		}
	}
	// A store that cannot keep tenants apart.
	q, err := rag.New(rag.Options{Embedder: hashing(), Store: noScope{newStoreT(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Tenant("acme"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Tenant on a store without store.Scoper: %v, want errors.ErrUnsupported", err)
	}
}

// noScope hides its store's Scope method.
type noScope struct{ store.Store }

func newStoreT(t *testing.T) store.Store {
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Tenants used at once from many goroutines, on one pipeline with a
// lexical index and a query cache, each writing the same document IDs,
// see their own documents only.
func TestTenantsConcurrent(t *testing.T) {
	p := newPipeline(t, hashing(), func(o *rag.Options) {
		o.Lexical = &rag.LexicalOptions{}
		o.Ingest.Linger = 50 * time.Microsecond
	})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			tn, err := p.Tenant(fmt.Sprintf("tenant-%d", i))
			if err != nil {
				t.Error(err)
				return
			}
			ctx := context.Background()
			for round := range 30 {
				d := rag.Document{ID: fmt.Sprintf("d%d", round%3), Content: fmt.Sprintf("shared words, %s round %d", tenantMark(i), round)}
				if _, err := tn.Ingest(ctx, d); err != nil {
					t.Error(err)
					return
				}
				for _, mode := range []rag.SearchMode{rag.VectorSearch, rag.LexicalSearch, rag.HybridSearch} {
					hits, err := tn.Search(ctx, "shared words", &rag.SearchOptions{Mode: mode, TopK: 10})
					if err != nil {
						t.Error(err)
						return
					}
					if len(hits) != min(round+1, 3) {
						t.Errorf("tenant %d, round %d, mode %d: %d hits, want %d", i, round, mode, len(hits), min(round+1, 3))
					}
					for _, h := range hits {
						if f := foreignMarks(h.Text, i); len(f) > 0 || !strings.Contains(h.Text, tenantMark(i)) {
							t.Errorf("tenant %d found %q", i, h.Text)
						}
					}
				}
			}
		})
	}
	wg.Wait()
}
