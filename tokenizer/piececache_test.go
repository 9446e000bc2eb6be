package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
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
// 7 bytes that merge into several tokens, zero bytes and random text.
func TestIndexEndsMatchTiktokenThroughPieceCache(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	rng := rand.New(rand.NewPCG(5, 6))
	texts := []string{
		strings.Repeat("The cat's hat isn't red, and the dog's is blue. ", 30),
		strings.Repeat(" qzxv zzqj xqkw jjjjjjj bbbbbbb qqqqqqq 1234567 ", 20),
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
		p    string
		want uint64
	}{
		{"a", 'a'},
		{"ab", 'a' | 'b'<<8},
		{"abcdefg", 0x67666564636261},
		{"abcdefgh", 0}, // too long
		{"a\x00", 0},    // a zero byte
		{"", 0},
	} {
		if got := packPiece(tc.p); got != tc.want {
			t.Errorf("packPiece(%q) = %#x, want %#x", tc.p, got, tc.want)
		}
	}
}
