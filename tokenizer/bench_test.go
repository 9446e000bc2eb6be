package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scifactProse returns about n bytes of SciFact abstracts from
// ../shared/data/scifact, or false when the corpus is absent.
func scifactProse(tb testing.TB, n int) (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
		dir = filepath.Dir(dir)
	}
	f, err := os.Open(filepath.Join(dir, "..", "shared", "data", "scifact", "corpus.jsonl.gz"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for b.Len() < n && sc.Scan() {
		var d struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			tb.Fatal(err)
		}
		b.WriteString(d.Text)
		b.WriteString("\n\n")
	}
	return b.String(), b.Len() > 0
}

// BenchmarkEncode compares CL100K's Encode with tiktoken-go's on 1 MB of
// SciFact prose (tiktoken-go is slow: a larger text takes long).
//
//	go test ./tokenizer -run '^$' -bench BenchmarkEncode
func BenchmarkEncode(b *testing.B) {
	text, ok := scifactProse(b, 1<<20)
	if !ok {
		b.Skip("SciFact corpus not found at ../shared/data/scifact")
	}
	ref, err := loadEncoding("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tok  Tokenizer
	}{{"cl100k", CL100K()}, {"tiktoken-go", ref}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				_ = tc.tok.Encode(text)
			}
		})
	}
}

// BenchmarkRankLookup: the lookup of every pre-token of 1 MB of SciFact
// prose, in the rank table that encoding uses and in the map it replaced.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkRankLookup -count 10
func BenchmarkRankLookup(b *testing.B) {
	text, ok := scifactProse(b, 1<<20)
	if !ok {
		b.Skip("SciFact corpus not found at ../shared/data/scifact")
	}
	t := CL100K().(*bpeTokenizer)
	var pieces []string
	for i := 0; i < len(text); {
		j := cl100kNext(text, i)
		pieces = append(pieces, text[i:j])
		i = j
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			for _, p := range pieces {
				t.table.get(p)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			for _, p := range pieces {
				_ = t.ranks[p]
			}
		}
	})
}

// BenchmarkIndex: IndexContext on 1 MB of SciFact prose, with and without
// the piece cache.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkIndex
func BenchmarkIndex(b *testing.B) {
	text, ok := scifactProse(b, 1<<20)
	if !ok {
		b.Skip("SciFact corpus not found at ../shared/data/scifact")
	}
	for _, cached := range []bool{true, false} {
		tok := fastCL100K(b)
		if !cached {
			tok.pieces = nil
		}
		b.Run(map[bool]string{true: "piece-cache", false: "no-piece-cache"}[cached], func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				_, _ = tok.Index(text)
			}
		})
	}
}
