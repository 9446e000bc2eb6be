package tokenizer

import (
	"context"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragkit-go/rag/internal/pathological"
)

// unknownText is about n bytes of text whose pre-tokens are rarely single
// tokens, by kind: "repeated-letter" is one pre-token of one letter,
// "random-lower" one pre-token of random lower-case
// letters (the backtracking encoder's), "random-letters" the same of
// both cases, "random-alnum" random letters and digits (short
// pre-tokens), "random-words" random lower-case words of 1
// to 12 letters after single spaces (short pre-tokens, the merge loop's),
// "random-scripts" random letters of several scripts, digits and symbols;
// "random-utf8" and "living-scripts" are chunk's pathological lines of
// those names (random code points of each encoded length, and runs of
// characters of living scripts, neither with white space).
func unknownText(kind string, n int) string {
	switch kind {
	case "random-utf8":
		return pathological.Runes(n, 1)
	case "living-scripts":
		return pathological.Scripts(n, 1)
	}
	rng := rand.New(rand.NewPCG(7, uint64(len(kind))))
	var alphabet []rune
	for _, r := range [][2]rune{{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'!', '/'}, {0x3b1, 0x3c9}, {0x430, 0x44f}, {0x4e00, 0x4eff}, {0xac00, 0xacff}} {
		for c := r[0]; c <= r[1]; c++ {
			alphabet = append(alphabet, c)
		}
	}
	pick := func(k int) rune { return alphabet[rng.IntN(k)] }
	var b strings.Builder
	for b.Len() < n {
		switch kind {
		case "repeated-letter":
			b.WriteByte('a')
		case "random-lower":
			b.WriteRune(pick(26))
		case "random-letters":
			b.WriteRune(pick(52))
		case "random-alnum":
			b.WriteRune(pick(62))
		case "random-words":
			b.WriteByte(' ')
			for range 1 + rng.IntN(12) {
				b.WriteRune(pick(26))
			}
		default:
			b.WriteRune(pick(len(alphabet)))
		}
	}
	return b.String()
}

// BenchmarkUnknown: IndexContext on 1 MB of text whose pre-tokens are not
// tokens (unknownText), the merge loop's and the backtracking encoder's
// work: the index every chunker builds first on such lines.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkUnknown -count 5
func BenchmarkUnknown(b *testing.B) {
	tok := CL100K()
	tok.Count(strings.Repeat("a", 1000)) // the long-piece tables, outside the measurements
	for _, kind := range []string{"repeated-letter", "random-lower", "random-letters", "random-alnum", "random-words", "random-scripts", "random-utf8", "living-scripts"} {
		text := unknownText(kind, 1<<20)
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				if _, _, err := tok.(ContextIndexer).IndexContext(context.Background(), text); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((processCPU(b)-cpu0).Seconds()/float64(b.N)/(float64(len(text))/(1<<20)), "cpu-s/MB")
		})
	}
}

// BenchmarkStartup: building cl100k's tables, which a process does once
// before its first Encode, and the long-piece tables built on the first
// piece over longPiece bytes.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkStartup -benchtime 10x
func BenchmarkStartup(b *testing.B) {
	b.Run("tables", func(b *testing.B) {
		cpu0 := processCPU(b)
		for b.Loop() {
			if _, err := newBPE("cl100k_base.tiktoken", cl100kSpecial); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((processCPU(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	b.Run("long-piece-tables", func(b *testing.B) {
		tok := fastCL100K(b)
		cpu0 := processCPU(b)
		for b.Loop() {
			_ = newBacktrack(tok.ranks, tok.decoder, tok.pairRank.prefix, tok.tokenID)
		}
		b.ReportMetric(float64((processCPU(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// processCPU returns the CPU time the process has used, all threads.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMerge: the merge loop alone on the pre-tokens of 1 MB of
// unknownText that are not tokens (the merge cache's misses), per byte.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkMerge -count 5
func BenchmarkMerge(b *testing.B) {
	tok := CL100K().(*bpeTokenizer)
	for _, kind := range []string{"random-words", "random-alnum", "random-scripts"} {
		text := unknownText(kind, 1<<20)
		var pieces []string
		n := 0
		for i := 0; i < len(text); {
			j := cl100kNext(text, i)
			if p := text[i:j]; len(p) <= longPiece && !tok.isToken(p) {
				pieces = append(pieces, p)
				n += len(p)
			}
			i = j
		}
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(n))
			var starts []int
			cpu0 := processCPU(b)
			for b.Loop() {
				for _, p := range pieces {
					starts = tok.merge(p, starts[:0])
				}
			}
			b.ReportMetric((processCPU(b)-cpu0).Seconds()/float64(b.N)/(float64(n)/(1<<20)), "cpu-s/MB")
		})
	}
}
