package chunk_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/tokenizer"
)

// Pathological single lines: no line break and no sentence end, so every
// chunker falls back to cutting at white space or between tokens. Without
// white space cl100k's pre-tokenizer sees pre-tokens as long as the text
// (a run of letters is one pre-token, a run of symbols another); random
// words give one long run of short pre-tokens with a cut between each.

// repeatedLetter is n bytes of one letter.
func repeatedLetter(n int) string { return strings.Repeat("a", n) }

// randomLetters is n random ASCII letters, lower and upper case.
func randomLetters(n int, seed uint64) string {
	return randomASCII(n, seed, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// randomLower is n random lower-case ASCII letters.
func randomLower(n int, seed uint64) string {
	return randomASCII(n, seed, "abcdefghijklmnopqrstuvwxyz")
}

// randomAlnum is n random ASCII letters and digits (cl100k cuts digits
// into groups of up to three, so its pre-tokens are short).
func randomAlnum(n int, seed uint64) string {
	return randomASCII(n, seed, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}

// randomASCII is n bytes drawn at random from alphabet.
func randomASCII(n int, seed uint64, alphabet string) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// randomWords is about n bytes of random lower-case words of 1 to 12
// letters, separated by single spaces: no punctuation, no line break.
func randomWords(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, 0, n+13)
	for len(b) < n {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		for range 1 + rng.IntN(12) {
			b = append(b, byte('a'+rng.IntN(26)))
		}
	}
	return string(b)
}

// randomRunes is about n bytes of random valid UTF-8 with no white space:
// each character's encoded length (1 to 4 bytes) is drawn first, then a
// code point of that length, so every length is equally common.
func randomRunes(n int, seed uint64) string {
	return randomFromRanges(n, seed, [][2]rune{{0, 0x7f}, {0x80, 0x7ff}, {0x800, 0xffff}, {0x10000, utf8.MaxRune}})
}

// randomScripts is about n bytes of random characters of living scripts
// with no white space: Latin (ASCII and accented), Greek, Cyrillic,
// Arabic, Devanagari, Hiragana, CJK ideographs, Hangul, digits, ASCII
// punctuation and emoji, each range equally likely.
func randomScripts(n int, seed uint64) string {
	return randomFromRanges(n, seed, [][2]rune{
		{'a', 'z'}, {'A', 'Z'}, {0xc0, 0xff}, {0x3b1, 0x3c9}, {0x430, 0x44f}, {0x627, 0x64a},
		{0x915, 0x939}, {0x3041, 0x3096}, {0x4e00, 0x9fff}, {0xac00, 0xd7a3}, {'0', '9'}, {'!', '/'},
		{0x1f300, 0x1f5ff}, {0x1f600, 0x1f64f},
	})
}

// randomFromRanges is about n bytes of code points drawn from ranges
// (a range first, then a code point in it), skipping surrogates and white
// space.
func randomFromRanges(n int, seed uint64, ranges [][2]rune) string {
	rng := rand.New(rand.NewPCG(seed, 2))
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
		{"random-lower", randomLower(n, 1)},
		{"random-letters", randomLetters(n, 1)},
		{"random-alnum", randomAlnum(n, 1)},
		{"random-utf8", randomRunes(n, 1)},
		{"random-scripts", randomScripts(n, 1)},
		{"random-words", randomWords(n, 1)},
	}
}

// BenchmarkPathological measures every chunker at 512 tokens, and the
// tokenizer's index they all start with, on the 10 MB pathological lines
// (pathologicalLines), reporting seconds per MB (wall time, and the
// process's CPU time, which a busy machine inflates less; the garbage
// collector runs on other cores too) and bytes allocated per byte of
// input (B/input) next to B/op. Prose runs at about 0.04 s/MB
// (BenchmarkChunkers). .ci/patho-table.sh runs it and prints medians.
//
//	go test ./chunk -run '^$' -bench BenchmarkPathological -benchtime 1x -count 3
func BenchmarkPathological(b *testing.B) {
	ctx := context.Background()
	// Build cl100k's tables for long pieces (once a process) outside the
	// measurements.
	tokenizer.CL100K().Count(repeatedLetter(1000))
	for _, line := range pathologicalLines(10 << 20) {
		// The tokenizer's index alone, which every chunker builds first.
		benchPerMB(b, line.name+"/index-cl100k", len(line.text), func() error {
			_, _, err := tokenizer.IndexContext(ctx, tokenizer.CL100K(), line.text)
			return err
		})
		for _, c := range benchChunkers() {
			benchChunker(b, line.name+"/"+c.name, c.c, line.text)
		}
	}
}

// benchChunker runs c on text as the sub-benchmark name (see benchPerMB).
func benchChunker(b *testing.B, name string, c chunk.Chunker, text string) {
	benchPerMB(b, name, len(text), func() error {
		_, err := c.Chunk(context.Background(), text)
		return err
	})
}

// benchPerMB runs f, which works on n bytes, as the sub-benchmark name,
// reporting what perMB reports and B/op.
func benchPerMB(b *testing.B, name string, n int, f func() error) {
	b.Run(name, func(b *testing.B) {
		b.SetBytes(int64(n))
		b.ReportAllocs()
		done := perMB(b, n)
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
}

// BenchmarkPathologicalOverhead measures what each chunker of
// BenchmarkPathological spends beyond the tokenizer's index: its
// tokenizer hands out an index of the line built before the clock starts,
// so the time is the chunker's own (checking and trimming the text,
// finding separators, packing, counting chunks through the index).
//
//	go test ./chunk -run '^$' -bench BenchmarkPathologicalOverhead -benchtime 3x -count 3
func BenchmarkPathologicalOverhead(b *testing.B) {
	ctx := context.Background()
	for _, line := range pathologicalLines(10 << 20) {
		tok, err := preindex(ctx, tokenizer.CL100K(), line.text)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range benchChunkersWith(tok) {
			benchChunker(b, line.name+"/"+c.name, c.c, line.text)
		}
	}
}

// preindexed is a Tokenizer whose index of one text is built in advance:
// indexing that text returns the index at once (the same arrays every
// time; chunkers only read them), any other text is indexed as usual.
type preindexed struct {
	tokenizer.Tokenizer
	text  string
	ends  []int32
	count func(s, e int) int
}

// preindex indexes text with tok once, for a preindexed tokenizer.
func preindex(ctx context.Context, tok tokenizer.Tokenizer, text string) (preindexed, error) {
	ends, count, err := tokenizer.IndexContext(ctx, tok, text)
	return preindexed{Tokenizer: tok, text: text, ends: ends, count: count}, err
}

func (p preindexed) Index(text string) ([]int32, func(s, e int) int) {
	if text == p.text {
		return p.ends, p.count
	}
	return tokenizer.Index(p.Tokenizer, text)
}

func (p preindexed) IndexContext(ctx context.Context, text string) ([]int32, func(s, e int) int, error) {
	if text == p.text {
		return p.ends, p.count, ctx.Err()
	}
	return tokenizer.IndexContext(ctx, p.Tokenizer, text)
}

// perMB starts measuring a benchmark over n bytes a loop; the function it
// returns, called after the loop, reports wall and CPU seconds per MB and
// the bytes allocated per byte of input (B/op over n).
func perMB(b *testing.B, n int) func() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc0 := ms.TotalAlloc
	cpu0, cpuOK := processCPU()
	return func() {
		cpu1, ok := processCPU()
		runtime.ReadMemStats(&ms)
		mb := float64(n) / (1 << 20)
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/mb, "s/MB")
		if ok && cpuOK {
			b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N)/mb, "cpu-s/MB")
		}
		b.ReportMetric(float64(ms.TotalAlloc-alloc0)/float64(b.N)/float64(n), "B/input")
	}
}

// maxAllocPerByte is the most bytes a chunker may allocate per byte of a
// pathological line (TestPathologicalAllocations), with room to spare:
// the index of the text alone takes 4 bytes a token (its end offset), and
// random UTF-8 comes to nearly a token a byte, so 256 KB lines take 3 to
// 7.5 bytes a byte (10 MB lines 3 to 5.5: BenchmarkPathological's
// B/input); chunkers allocated 5 to 25 times the text (semantic up to 88)
// before pieces were packed as they were made.
const maxAllocPerByte = 10

// TestPathologicalAllocations checks that every chunker allocates at most
// maxAllocPerByte bytes per byte of each pathological line (bytes counted
// by runtime.MemStats.TotalAlloc around one Chunk call, which is
// deterministic up to the runtime's own small allocations). Each line is
// chunked once first: the tokenizer's cache of merged pieces, bounded and
// shared by the process, fills with the line's pieces on first sight.
func TestPathologicalAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("tokenizes 7 lines of 256 KB with every chunker")
	}
	if raceEnabled {
		t.Skip("the race detector changes what the runtime allocates")
	}
	ctx := context.Background()
	tokenizer.CL100K().Count(repeatedLetter(1000)) // build the tables first
	for _, line := range pathologicalLines(256 << 10) {
		for _, c := range benchChunkers() {
			t.Run(line.name+"/"+c.name, func(t *testing.T) {
				if _, err := c.c.Chunk(ctx, line.text); err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				cs, err := c.c.Chunk(ctx, line.text)
				runtime.ReadMemStats(&after)
				if err != nil || len(cs) == 0 {
					t.Fatalf("%d chunks, err %v", len(cs), err)
				}
				if r := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(line.text)); r > maxAllocPerByte {
					t.Errorf("allocated %.1f bytes per byte of text, want at most %d", r, maxAllocPerByte)
				}
			})
		}
	}
}
