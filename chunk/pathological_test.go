package chunk_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ragkit-go/rag/tokenizer"
)

// Pathological single lines: no white space, no separator of any level, so
// every chunker falls back to cutting between tokens, and cl100k's
// pre-tokenizer sees pre-tokens as long as the text (a run of letters is
// one pre-token, a run of symbols another).

// repeatedLetter is n bytes of one letter.
func repeatedLetter(n int) string { return strings.Repeat("a", n) }

// randomLetters is n random ASCII letters, lower and upper case.
func randomLetters(n int, seed uint64) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// randomRunes is about n bytes of random valid UTF-8 with no white space:
// each character's encoded length (1 to 4 bytes) is drawn first, then a
// code point of that length, so every length is equally common.
func randomRunes(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 2))
	ranges := [4][2]rune{{0, 0x7f}, {0x80, 0x7ff}, {0x800, 0xffff}, {0x10000, utf8.MaxRune}}
	var b strings.Builder
	b.Grow(n + utf8.UTFMax)
	for b.Len() < n {
		r0 := ranges[rng.IntN(len(ranges))]
		r := r0[0] + rune(rng.Int32N(int32(r0[1]-r0[0]+1)))
		if !utf8.ValidRune(r) || unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pathologicalLines returns the pathological lines of about n bytes each,
// by name.
func pathologicalLines(n int) []struct{ name, text string } {
	return []struct{ name, text string }{
		{"repeated-letter", repeatedLetter(n)},
		{"random-letters", randomLetters(n, 1)},
		{"random-utf8", randomRunes(n, 1)},
	}
}

// BenchmarkPathological measures every chunker at 512 tokens on 10 MB
// single lines without white space (one repeated letter, random letters,
// random UTF-8), reporting seconds per MB (wall time, and the process's
// CPU time, which a busy machine inflates less; the garbage collector
// runs on other cores too) next to B/op. Prose runs at about 0.04 s/MB
// (BenchmarkChunkers).
//
//	go test ./chunk -run '^$' -bench BenchmarkPathological -benchtime 1x -count 3
func BenchmarkPathological(b *testing.B) {
	ctx := context.Background()
	// Build cl100k's tables for long pieces (once a process) outside the
	// measurements.
	tokenizer.CL100K().Count(repeatedLetter(1000))
	for _, line := range pathologicalLines(10 << 20) {
		for _, c := range benchChunkers() {
			b.Run(line.name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(len(line.text)))
				b.ReportAllocs()
				done := perMB(b, len(line.text))
				for b.Loop() {
					if _, err := c.c.Chunk(ctx, line.text); err != nil {
						b.Fatal(err)
					}
				}
				done()
			})
		}
	}
}

// perMB starts measuring a benchmark over n bytes a loop; the function it
// returns, called after the loop, reports wall and CPU seconds per MB.
func perMB(b *testing.B, n int) func() {
	cpu0, cpuOK := processCPU()
	return func() {
		mb := float64(n) / (1 << 20)
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/mb, "s/MB")
		if cpu1, ok := processCPU(); ok && cpuOK {
			b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N)/mb, "cpu-s/MB")
		}
	}
}
