package lexical_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/lexical"
)

// sharedData finds ../shared/data/<name> beside the repository root, or
// skips.
func sharedData(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s absent: %v", p, err)
	}
	return p
}

func indexSciFact(tb testing.TB, opts lexical.Options) (*eval.Dataset, *lexical.Index) {
	tb.Helper()
	ds, err := eval.LoadBEIR(sharedData(tb, "scifact"), "test")
	if err != nil {
		tb.Fatal(err)
	}
	ix := lexical.New(opts)
	for _, d := range ds.Corpus {
		// BEIR's "flat" setting: title and text in one field, one entry a
		// document.
		if err := ix.Upsert(d.ID, []lexical.Entry{{ID: d.ID, Text: d.Title + " " + d.Text}}); err != nil {
			tb.Fatal(err)
		}
	}
	return ds, ix
}

// TestSciFactBM25 reproduces the published BM25 figure on BEIR SciFact:
// nDCG@10 0.665 (BEIR paper), 0.6789 (Anserini, flat index).
func TestSciFactBM25(t *testing.T) {
	ds, ix := indexSciFact(t, lexical.Options{})
	if ix.Len() != 5183 {
		t.Fatalf("indexed %d entries, want 5183", ix.Len())
	}
	run := eval.Run{}
	start := time.Now()
	for _, q := range ds.Queries {
		var ids []string
		for _, h := range ix.Search(q.Text, 100, nil) {
			ids = append(ids, h.DocID)
		}
		run[q.ID] = ids
	}
	elapsed := time.Since(start)
	rep := eval.Evaluate("BM25 (k1=0.9, b=0.4, Porter)", ds.Qrels, run,
		eval.NDCG(10), eval.Recall(100), eval.MRR(10), eval.Recall(10))
	t.Logf("SciFact test, %d queries:\n%s", rep.Queries, eval.Table(rep))
	t.Logf("query latency: %v per query (mean over %d; informative only, not asserted)",
		elapsed/time.Duration(len(ds.Queries)), len(ds.Queries))

	if rep.Queries != 300 {
		t.Errorf("evaluated %d queries, want 300", rep.Queries)
	}
	ndcg, _ := rep.Value("nDCG@10")
	if ndcg < 0.665-0.02 || ndcg > 0.665+0.02 {
		t.Errorf("nDCG@10 = %.4f, want 0.665 ± 0.02", ndcg)
	}
}

// TestSciFactPersisted checks that a saved and reloaded index answers the
// benchmark queries exactly as the original.
func TestSciFactPersisted(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ds, ix := indexSciFact(t, lexical.Options{})
	path := filepath.Join(t.TempDir(), "scifact.bm25")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	t.Logf("saved index: %d bytes", fi.Size())
	back, err := lexical.Load(path, lexical.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range ds.Queries {
		a, b := ix.Search(q.Text, 10, nil), back.Search(q.Text, 10, nil)
		if len(a) != len(b) {
			t.Fatalf("query %s: %d vs %d hits", q.ID, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("query %s hit %d: %+v vs %+v", q.ID, i, a[i], b[i])
			}
		}
	}
}

func BenchmarkSciFactSearch(b *testing.B) {
	ds, ix := indexSciFact(b, lexical.Options{})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Search(ds.Queries[i%len(ds.Queries)].Text, 100, nil)
	}
}

func BenchmarkSciFactIndex(b *testing.B) {
	ds, err := eval.LoadBEIR(sharedData(b, "scifact"), "test")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ix := lexical.New(lexical.Options{})
		for _, d := range ds.Corpus {
			ix.Upsert(d.ID, []lexical.Entry{{ID: d.ID, Text: d.Title + " " + d.Text}})
		}
	}
}
