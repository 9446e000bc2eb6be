package embed_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

// scifact is the BEIR SciFact test set: corpus, queries with at least one
// judgement, and graded relevance.
type scifact struct {
	docIDs  []string
	docs    []string
	queries []string
	qrels   []map[string]int // per query: doc id -> grade
}

// sciFactDir returns ../shared/data/scifact from the repository root, and
// whether it holds the corpus.
func sciFactDir() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data", "scifact")
	if _, err := os.Stat(filepath.Join(data, "corpus.jsonl.gz")); err != nil {
		return "", false
	}
	return data, true
}

// loadSciFact reads the SciFact test set, or skips tb when it is absent.
func loadSciFact(tb testing.TB) *scifact {
	tb.Helper()
	data, ok := sciFactDir()
	if !ok {
		tb.Skip("SciFact data absent from ../shared/data/scifact")
	}
	sf := &scifact{}

	f, err := os.Open(filepath.Join(data, "corpus.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	for dec.More() {
		var d struct{ ID, Title, Text string }
		var raw struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := dec.Decode(&raw); err != nil {
			tb.Fatal(err)
		}
		d.ID, d.Title, d.Text = raw.ID, raw.Title, raw.Text
		sf.docIDs = append(sf.docIDs, d.ID)
		sf.docs = append(sf.docs, d.Title+"\n"+d.Text)
	}

	qrels := map[string]map[string]int{}
	qf, err := os.ReadFile(filepath.Join(data, "qrels", "test.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(qf)), "\n") {
		if i == 0 {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			tb.Fatalf("qrels line %d: %q", i+1, line)
		}
		if qrels[fields[0]] == nil {
			qrels[fields[0]] = map[string]int{}
		}
		grade := 0
		for _, c := range fields[2] {
			grade = grade*10 + int(c-'0')
		}
		qrels[fields[0]][fields[1]] = grade
	}

	qfile, err := os.Open(filepath.Join(data, "queries.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer qfile.Close()
	sc := bufio.NewScanner(qfile)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var q struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			tb.Fatal(err)
		}
		if rel, ok := qrels[q.ID]; ok {
			sf.queries = append(sf.queries, q.Text)
			sf.qrels = append(sf.qrels, rel)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return sf
}

// ndcgAt10 embeds the corpus and queries with e, ranks the corpus for every
// query by exact cosine similarity and returns the mean nDCG@10.
func (sf *scifact) ndcgAt10(tb testing.TB, e embed.Embedder) float64 {
	tb.Helper()
	ctx := context.Background()
	docs, err := e.Embed(ctx, sf.docs)
	if err != nil {
		tb.Fatal(err)
	}
	queries, err := e.Embed(ctx, sf.queries)
	if err != nil {
		tb.Fatal(err)
	}
	type hit struct {
		doc   int
		score float32
	}
	var total float64
	hits := make([]hit, len(docs))
	for qi, q := range queries {
		for di, d := range docs {
			var dot float32
			for k := range q {
				dot += q[k] * d[k]
			}
			hits[di] = hit{di, dot}
		}
		slices.SortFunc(hits, func(a, b hit) int {
			if a.score != b.score {
				if a.score > b.score {
					return -1
				}
				return 1
			}
			return a.doc - b.doc
		})
		var dcg float64
		for rank, h := range hits[:10] {
			if g := sf.qrels[qi][sf.docIDs[h.doc]]; g > 0 {
				dcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(rank+2))
			}
		}
		var grades []int
		for _, g := range sf.qrels[qi] {
			grades = append(grades, g)
		}
		slices.Sort(grades)
		slices.Reverse(grades)
		var idcg float64
		for rank, g := range grades[:min(10, len(grades))] {
			idcg += (math.Pow(2, float64(g)) - 1) / math.Log2(float64(rank+2))
		}
		if idcg > 0 {
			total += dcg / idcg
		}
	}
	return total / float64(len(queries))
}

// TestHashingSciFact checks that Hashing is a useful lexical baseline: on
// SciFact it must rank relevant abstracts far above chance (random ranking
// scores about 0.002 nDCG@10).
func TestHashingSciFact(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("SciFact evaluation skipped in -short mode and under the race detector")
	}
	sf := loadSciFact(t)
	for _, opts := range []embed.HashingOptions{
		{},
		{NoBigrams: true},
		{CharNGrams: 4},
		{Dimensions: 1024},
	} {
		h := embed.NewHashing(opts)
		t.Run(h.Name(), func(t *testing.T) {
			ndcg := sf.ndcgAt10(t, h)
			t.Logf("%s: SciFact nDCG@10 = %.4f over %d queries, %d docs", h.Name(), ndcg, len(sf.queries), len(sf.docs))
			if ndcg < 0.3 {
				t.Errorf("nDCG@10 = %.4f, want >= 0.3 for a lexical baseline", ndcg)
			}
		})
	}
}
