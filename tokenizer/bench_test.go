package tokenizer

import (
	"strings"
	"testing"
)

// scifactProse returns about n bytes of SciFact abstracts from
// ../shared/data/scifact, or false when the corpus is absent.
func scifactProse(tb testing.TB, n int) (string, bool) {
	var b strings.Builder
	ok := scifactDocs(tb, func(_, text string) bool {
		b.WriteString(text)
		b.WriteString("\n\n")
		return b.Len() < n
	})
	return b.String(), ok && b.Len() > 0
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
