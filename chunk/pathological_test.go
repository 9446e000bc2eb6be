package chunk_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/internal/pathological"
	"github.com/ragkit-go/rag/tokenizer"
)

// The pathological lines (package internal/pathological, shared with the
// tokenizer's benchmarks) under this package's names.
var (
	repeatedLetter = pathological.RepeatedLetter
	randomLetters  = pathological.Letters
	randomLower    = pathological.Lower
	randomAlnum    = pathological.Alnum
	randomWords    = pathological.Words
	randomRunes    = pathological.Runes
	randomScripts  = pathological.Scripts
)

// BenchmarkPathological measures every chunker at 512 tokens, and the
// tokenizer's index they all start with, on the 10 MB pathological lines
// (pathological.Lines), reporting seconds per MB (wall time, and the
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
	for _, line := range pathological.Lines(10 << 20) {
		// The tokenizer's index alone, which every chunker builds first.
		benchPerMB(b, line.Name+"/index-cl100k", len(line.Text), func() error {
			_, _, err := tokenizer.IndexContext(ctx, tokenizer.CL100K(), line.Text)
			return err
		})
		for _, c := range benchChunkers() {
			benchChunker(b, line.Name+"/"+c.name, c.c, line.Text)
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
	for _, line := range pathological.Lines(10 << 20) {
		tok, err := preindex(ctx, tokenizer.CL100K(), line.Text)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range benchChunkersWith(tok) {
			benchChunker(b, line.Name+"/"+c.name, c.c, line.Text)
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
	for _, line := range pathological.Lines(256 << 10) {
		for _, c := range benchChunkers() {
			t.Run(line.Name+"/"+c.name, func(t *testing.T) {
				if _, err := c.c.Chunk(ctx, line.Text); err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				cs, err := c.c.Chunk(ctx, line.Text)
				runtime.ReadMemStats(&after)
				if err != nil || len(cs) == 0 {
					t.Fatalf("%d chunks, err %v", len(cs), err)
				}
				if r := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(line.Text)); r > maxAllocPerByte {
					t.Errorf("allocated %.1f bytes per byte of text, want at most %d", r, maxAllocPerByte)
				}
			})
		}
	}
}
