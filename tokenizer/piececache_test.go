package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// referenceEnds returns where each of tiktoken's tokens of text ends.
func referenceEnds(ref Tokenizer, text string) []int32 {
	var ends []int32
	off := 0
	for _, id := range ref.Encode(text) {
		off += len(ref.Decode([]int{id}))
		ends = append(ends, int32(off))
	}
	return ends
}

// TestIndexEndsMatchTiktokenThroughPieceCache indexes each text twice,
// the second time mostly from the piece cache, and compares every token
// end with tiktoken's, on prose (short words, repeated), pieces of up to
// 12 bytes that merge into several tokens, zero bytes and random text.
func TestIndexEndsMatchTiktokenThroughPieceCache(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	rng := rand.New(rand.NewPCG(5, 6))
	texts := []string{
		strings.Repeat("The cat's hat isn't red, and the dog's is blue. ", 30),
		strings.Repeat(" qzxv zzqj xqkw jjjjjjj bbbbbbb qqqqqqq 1234567 qzxvqzxvqzx xqkwzzqjxqk ", 20),
		"a\x00b \x00\x00 zz\x00qq \x00",
		strings.Repeat("étéét ßßß 中文中 😀😀 ", 10),
	}
	for range 100 {
		texts = append(texts, randomText(rng, 20+rng.IntN(200)))
	}
	for pass := range 2 {
		for _, text := range texts {
			got, _ := fast.Index(text)
			if want := referenceEnds(ref, text); !slices.Equal(got, want) {
				t.Fatalf("pass %d: %q: ends %v, tiktoken's %v", pass, text, got, want)
			}
		}
	}
}

func TestPackPiece(t *testing.T) {
	for _, tc := range []struct {
		p      string
		lo, hi uint64
		ok     bool
	}{
		{"ab", 0, 0, false}, // short: looked up in arrays
		{"abc", 0x636261, 0, true},
		{"abcdefgh", 0x6867666564636261, 0, true},
		{"abcdefghijkl", 0x6867666564636261, 0x6c6b6a69, true},
		{"abcdefghijklm", 0, 0, false}, // too long
		{"a\x00bc", 0, 0, false},       // a zero byte
	} {
		if lo, hi, ok := packPiece(tc.p); lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("packPiece(%q) = %#x, %#x, %v; want %#x, %#x, %v", tc.p, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestIndexConcurrentThroughPieceCache: goroutines indexing at once, each
// piece's slot read and written by several of them, all get tiktoken's
// ends (run with -race).
func TestIndexConcurrentThroughPieceCache(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	rng := rand.New(rand.NewPCG(7, 8))
	texts := make([]string, 40)
	want := make([][]int32, len(texts))
	for i := range texts {
		texts[i] = randomText(rng, 50+rng.IntN(100)) + strings.Repeat(" protein disease patients cells ", 5)
		want[i] = referenceEnds(ref, texts[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range 5 * len(texts) {
				i := (k + g*7) % len(texts)
				if got, _ := fast.Index(texts[i]); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d: %q: ends %v, tiktoken's %v", g, texts[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
