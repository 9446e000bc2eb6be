// Command lexical benchmarks the in-process BM25 index at scale: the
// lexical.Index alone, and the pipeline's lexical side (Options.Lexical,
// with a file) through the public API: search latency in lexical mode with
// the default options (so with the expiry filter the pipeline adds), the
// cost of one small Ingest into a large index, the time to reopen it and
// the size of its files.
//
//	go run ./bench/lexical                   # 100,000 and 500,000 documents, 3 runs
//	go run ./bench/lexical -n 20000 -runs 1  # a quick run
//
// Reopen measured from the outside, as a process that opens the index and
// searches once (timed whole, start-up included, by farm-bench):
//
//	go build -o /tmp/lexbench ./bench/lexical
//	/tmp/lexbench -build /tmp/lex500k/bm25.idx -n 500000
//	farm-bench -n 5 -- /tmp/lexbench -open /tmp/lex500k/bm25.idx
//
// Documents are synthetic, made of SciFact prose (../shared/data/scifact,
// skipped when absent): each is a title and the sentences of several
// abstracts drawn at random (fixed seed), about the length of an
// abstract. Queries are SciFact's 300 test claims. The store under the
// pipeline keeps only hashes, and the embedder returns a constant vector:
// only the lexical side is measured. Each figure is the median of -runs
// runs (a run builds everything afresh); the spread is min–max. Results go
// to stdout as a Markdown table; progress to stderr.
//
// It uses only API that predates the lexical package's Store, so the same
// file runs at older commits for before/after comparisons.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/store"
)

func main() {
	var (
		sizes   = flag.String("n", "100000,500000", "comma-separated document counts")
		runs    = flag.Int("runs", 3, "runs per size (medians are reported)")
		queries = flag.Int("queries", 100, "timed queries per measurement")
		small   = flag.Int("small", 5, "timed one-document Ingest calls per run")
		data    = flag.String("data", "", "SciFact directory (default ../shared/data/scifact from the module root)")
		only    = flag.String("only", "", "index or pipeline: run one part only")
		label   = flag.String("label", "", "label printed in the table (a commit, say)")
		build   = flag.String("build", "", "ingest the first -n size into a lexical index at this path, close it and exit")
		open    = flag.String("open", "", "open the lexical index at this path, search once, print the open time and exit")
		probe   = flag.Bool("probe", false, "with -open: then time -queries searches and -small one-document Ingests (which change the files)")
	)
	flag.Parse()
	if *open != "" {
		var qs []string
		if *probe {
			qs = queriesOf(*data, *queries)
		}
		openOnce(*open, qs, *small)
		return
	}
	dir := *data
	if dir == "" {
		dir = findSciFact()
	}
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(os.Stderr, "lexical bench: SciFact absent (%v); skipping\n", err)
		return
	}
	ds, err := eval.LoadBEIR(dir, "test")
	if err != nil {
		log.Fatal(err)
	}
	sentences := splitSentences(ds.Corpus)
	qs := queryTexts(ds, *queries)

	if *build != "" {
		n, err := strconv.Atoi(strings.TrimSpace(strings.Split(*sizes, ",")[0]))
		if err != nil {
			log.Fatalf("bad -n %q", *sizes)
		}
		buildIndex(*build, synthesize(ds.Corpus, sentences, n))
		return
	}

	fmt.Printf("| %s | docs | index p50 | pipeline p50 | small ingest | reopen | files | heap |\n", *label)
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			log.Fatalf("bad -n %q", f)
		}
		docs := synthesize(ds.Corpus, sentences, n)
		var m [6][]float64
		for r := range *runs {
			log.Printf("n=%d run %d", n, r+1)
			if *only != "pipeline" {
				m[0] = append(m[0], indexAlone(docs, qs))
			}
			if *only != "index" {
				p50, ingest, reopen, size, heap := pipeline(docs, qs, *small)
				m[1] = append(m[1], p50)
				m[2] = append(m[2], ingest)
				m[3] = append(m[3], reopen)
				m[4] = append(m[4], size)
				m[5] = append(m[5], heap)
			}
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %s |\n", *label, n,
			spread(m[0], "ms"), spread(m[1], "ms"), spread(m[2], "ms"), spread(m[3], "s"), spread(m[4], "MB"), spread(m[5], "MB"))
	}
}

// spread formats the median of xs and its min–max.
func spread(xs []float64, unit string) string {
	if len(xs) == 0 {
		return "–"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	f := func(x float64) string {
		if x >= 100 {
			return fmt.Sprintf("%.0f", x)
		}
		return fmt.Sprintf("%.3g", x)
	}
	if len(s) == 1 {
		return f(med) + " " + unit
	}
	return fmt.Sprintf("%s %s (%s–%s)", f(med), unit, f(s[0]), f(s[len(s)-1]))
}

// queryTexts returns the first n SciFact test queries.
func queryTexts(ds *eval.Dataset, n int) []string {
	var qs []string
	for _, q := range ds.Queries {
		qs = append(qs, q.Text)
	}
	return qs[:min(n, len(qs))]
}

// queriesOf loads the first n SciFact test queries from dir ("": the
// default directory).
func queriesOf(dir string, n int) []string {
	if dir == "" {
		dir = findSciFact()
	}
	ds, err := eval.LoadBEIR(dir, "test")
	if err != nil {
		log.Fatal(err)
	}
	return queryTexts(ds, n)
}

func findSciFact() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "../shared/data/scifact"
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "data", "scifact")
}

func splitSentences(corpus []eval.Doc) []string {
	var out []string
	for _, d := range corpus {
		for _, s := range strings.SplitAfter(d.Text, ". ") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// synthesize makes n documents of about an abstract's length (8 sentences)
// from random SciFact sentences, with a SciFact title.
func synthesize(corpus []eval.Doc, sentences []string, n int) []rag.Document {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	docs := make([]rag.Document, n)
	var b strings.Builder
	for i := range docs {
		b.Reset()
		for j := range 8 {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(sentences[rng.IntN(len(sentences))])
		}
		docs[i] = rag.Document{
			ID:      fmt.Sprintf("d%07d", i),
			Title:   corpus[rng.IntN(len(corpus))].Title,
			Content: b.String(),
		}
	}
	return docs
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// indexAlone indexes the documents (one entry each, title and text) and
// returns the median search latency, in ms.
func indexAlone(docs []rag.Document, qs []string) float64 {
	ix := lexical.New(lexical.Options{})
	for _, d := range docs {
		if err := ix.Upsert(d.ID, []lexical.Entry{{ID: d.ID + "#0", Text: d.Title + " " + d.Content}}); err != nil {
			log.Fatal(err)
		}
	}
	for _, q := range qs[:min(10, len(qs))] { // warm up
		ix.Search(q, 10, nil)
	}
	var lat []time.Duration
	for _, q := range qs {
		t := time.Now()
		ix.Search(q, 10, nil)
		lat = append(lat, time.Since(t))
	}
	runtime.KeepAlive(ix)
	return ms(median(lat))
}

// pipeline ingests the documents into a pipeline with a file-backed
// lexical index and returns the median lexical search latency (ms), the
// median one-document Ingest (ms), the reopen time (s), the size of the
// index's files (MB) and the heap in use after reopening (MB).
func pipeline(docs []rag.Document, qs []string, small int) (p50, ingest, reopen, size, heapMB float64) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lexbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bm25.idx")
	st := &hashStore{hashes: map[string]string{}}
	p := newPipeline(path, st)
	if _, err := p.Ingest(ctx, docs...); err != nil {
		log.Fatal(err)
	}
	// Searches with the default options: the pipeline adds its expiry
	// filter.
	search := func(p *rag.Pipeline) float64 {
		for _, q := range qs[:min(10, len(qs))] {
			if _, err := p.Search(ctx, q, &rag.SearchOptions{Mode: rag.LexicalSearch}); err != nil {
				log.Fatal(err)
			}
		}
		var lat []time.Duration
		for _, q := range qs {
			t := time.Now()
			if _, err := p.Search(ctx, q, &rag.SearchOptions{Mode: rag.LexicalSearch}); err != nil {
				log.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		return ms(median(lat))
	}
	p50 = search(p)
	var lat []time.Duration
	for i := range small {
		d := rag.Document{ID: fmt.Sprintf("small-%d", i), Content: "A small new note on " + docs[i].Title}
		t := time.Now()
		if _, err := p.Ingest(ctx, d); err != nil {
			log.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	ingest = ms(median(lat))
	p = nil
	runtime.GC()
	debug.FreeOSMemory()

	t := time.Now()
	p2 := newPipeline(path, st)
	reopen = time.Since(t).Seconds()
	hits, err := p2.Search(ctx, docs[0].Title, &rag.SearchOptions{Mode: rag.LexicalSearch})
	if err != nil || len(hits) == 0 {
		log.Fatalf("reopened index: %d hits, %v", len(hits), err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapMB = float64(ms.HeapAlloc) / 1e6
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			size += float64(fi.Size()) / 1e6
		}
	}
	runtime.KeepAlive(p2)
	return p50, ingest, reopen, size, heapMB
}

// buildIndex ingests docs into a pipeline whose lexical index is at path
// and closes it, leaving the files for -open.
func buildIndex(path string, docs []rag.Document) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	p := newPipeline(path, &hashStore{hashes: map[string]string{}})
	if _, err := p.Ingest(context.Background(), docs...); err != nil {
		log.Fatal(err)
	}
	if err := p.Close(); err != nil {
		log.Fatal(err)
	}
}

// openOnce opens the lexical index at path in a new pipeline, searches it
// once and prints how long the open took; then, with queries, the median
// lexical search over them and of small one-document Ingests.
func openOnce(path string, qs []string, small int) {
	ctx := context.Background()
	t := time.Now()
	p := newPipeline(path, &hashStore{hashes: map[string]string{}})
	opened := time.Since(t)
	hits, err := p.Search(ctx, "cancer cell growth", &rag.SearchOptions{Mode: rag.LexicalSearch})
	if err != nil || len(hits) == 0 {
		log.Fatalf("reopened index: %d hits, %v", len(hits), err)
	}
	fmt.Printf("open %.3f s, open and search %.3f s\n", opened.Seconds(), time.Since(t).Seconds())
	if len(qs) > 0 {
		var lat, ing []time.Duration
		for _, q := range qs {
			t := time.Now()
			if _, err := p.Search(ctx, q, &rag.SearchOptions{Mode: rag.LexicalSearch}); err != nil {
				log.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		for i := range small {
			d := rag.Document{ID: fmt.Sprintf("probe-%d-%d", time.Now().UnixNano(), i), Content: "A small new note on " + qs[i%len(qs)]}
			t := time.Now()
			if _, err := p.Ingest(ctx, d); err != nil {
				log.Fatal(err)
			}
			ing = append(ing, time.Since(t))
		}
		fmt.Printf("search p50 %.2f ms over %d queries; small ingest median %.2f ms over %d\n", ms(median(lat)), len(lat), ms(median(ing)), len(ing))
	}
	if err := p.Close(); err != nil {
		log.Fatal(err)
	}
}

func newPipeline(path string, st store.Store) *rag.Pipeline {
	p, err := rag.New(rag.Options{
		Embedder: constant{},
		Store:    st,
		Chunker: chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
			return []chunk.Chunk{{Text: text, End: len(text)}}, nil
		}),
		Lexical: &rag.LexicalOptions{Path: path},
	})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// constant embeds every text as the same unit vector.
type constant struct{}

func (constant) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1, 0, 0, 0}
	}
	return out, nil
}

// hashStore is a store.Store that keeps only document hashes: enough for
// the pipeline's unchanged-document check, nothing to search.
type hashStore struct {
	mu     sync.Mutex
	hashes map[string]string
}

func (s *hashStore) Upsert(_ context.Context, docs []store.StoredDocument) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range docs {
		if len(d.Records) == 0 {
			delete(s.hashes, d.ID)
		} else {
			s.hashes[d.ID] = d.Hash
		}
	}
	return nil
}

func (s *hashStore) Search(context.Context, store.Query) ([]store.Result, error) { return nil, nil }

func (s *hashStore) Delete(_ context.Context, ids ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.hashes, id)
	}
	return nil
}

func (s *hashStore) Hashes(_ context.Context, ids ...string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if h, ok := s.hashes[id]; ok {
			out[id] = h
		}
	}
	return out, nil
}
