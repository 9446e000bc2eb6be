package tokenizer

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// scifactDocs calls f with the title and abstract of each SciFact
// document from ../shared/data/scifact (from the module's root), in order,
// until f returns false; it returns false when the corpus is absent.
func scifactDocs(tb testing.TB, f func(title, text string) bool) bool {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return false
		}
		dir = filepath.Dir(dir)
	}
	file, err := os.Open(filepath.Join(dir, "..", "shared", "data", "scifact", "corpus.jsonl.gz"))
	if err != nil {
		return false
	}
	defer file.Close()
	zr, err := gzip.NewReader(file)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d struct{ Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			tb.Fatal(err)
		}
		if !f(d.Title, d.Text) {
			break
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return true
}

// scifactAbstracts returns the first n SciFact abstracts as bench/ingest's
// abstracts row builds them (title, ". ", abstract), or false when the
// corpus is absent.
func scifactAbstracts(tb testing.TB, n int) ([]string, bool) {
	var out []string
	ok := scifactDocs(tb, func(title, text string) bool {
		out = append(out, title+". "+text)
		return len(out) < n
	})
	return out, ok && len(out) > 0
}

// BenchmarkProse: CL100K's IndexContext, Count and Encode on each of the
// first 2,000 SciFact abstracts (about 320 tokens each), text by text, as
// chunkers and the ingestion pipeline call them. Besides the wall time per
// operation (all 2,000 texts) and MB/s it reports ns/token, and
// cpu-ns/token, the process's CPU time (GC included) per token, which
// other processes on a shared machine disturb less than the wall time.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkProse -benchtime 20x -count 5
func BenchmarkProse(b *testing.B) {
	texts, ok := scifactAbstracts(b, 2000)
	if !ok {
		b.Skip("SciFact corpus not found at ../shared/data/scifact")
	}
	tok := CL100K().(*bpeTokenizer)
	size, tokens := 0, 0
	for _, s := range texts {
		size += len(s)
		tokens += tok.Count(s)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(string)
	}{
		{"IndexContext", func(s string) { _, _, _ = tok.IndexContext(ctx, s) }},
		{"Count", func(s string) { _ = tok.Count(s) }},
		{"Encode", func(s string) { _ = tok.Encode(s) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for _, s := range texts { // warm the caches, as a long ingestion has
				tc.run(s)
			}
			b.SetBytes(int64(size))
			cpu0, cpuOK := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				for _, s := range texts {
					tc.run(s)
				}
			}
			b.StopTimer()
			n := float64(b.N) * float64(tokens)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/token")
			if cpu1, _ := cpuTime(); cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/n, "cpu-ns/token")
			}
		})
	}
}
