package tokenizer

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestByteJoinsHoldEveryTokensPairs checks that every pair of
// neighbouring bytes of every token is a join, and that most pairs are
// not (else there would be nothing to cut).
func TestByteJoinsHoldEveryTokensPairs(t *testing.T) {
	tok := fastCL100K(t)
	for s := range tok.ranks {
		for k := 0; k+1 < len(s); k++ {
			if !tok.joins.joins(s[k], s[k+1]) {
				t.Fatalf("token %q: bytes %d, %d are not a join", s, k, k+1)
			}
		}
	}
	n := 0
	for x := range 256 {
		for y := range 256 {
			if tok.joins.joins(byte(x), byte(y)) {
				n++
			}
		}
	}
	if n > 1<<15 {
		t.Fatalf("%d of 65,536 byte pairs are joins, want most pairs cuts", n)
	}
}

// TestIndexCutsMatchTiktoken compares IndexContext's token ends, its
// range counts, Encode and Count with tiktoken's on text of random characters
// (whose pieces have cuts) and checks that its pieces do go through
// cutEnds, with cuts and without.
func TestIndexCutsMatchTiktoken(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	texts := []string{
		unknownText("random-utf8", 1<<15),
		unknownText("living-scripts", 1<<15),
		unknownText("random-scripts", 1<<15),
		"é中😀a\x80" + "\u00e9\u00e9\u00e9" + "中文中文" + "😀😀",
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for range 200 {
		b := make([]byte, 1+rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		texts = append(texts, validText(string(b)))
	}
	withCuts, without := 0, 0
	for _, text := range texts {
		text = validText(text) // the offsets of count are in the text Index encodes
		got, count := fast.Index(text)
		want := referenceEnds(ref, text)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: ends %v, tiktoken's %v", text, got, want)
		}
		if ids, wantIDs := fast.Encode(text), ref.Encode(text); !slices.Equal(ids, wantIDs) {
			t.Fatalf("%q: Encode = %v, tiktoken's %v", text, ids, wantIDs)
		}
		if n := fast.Count(text); n != len(want) {
			t.Fatalf("%q: Count = %d, tiktoken's %d", text, n, len(want))
		}
		for range 20 { // ranges of whole characters, as chunkers cut
			a, b := rng.IntN(len(text)+1), rng.IntN(len(text)+1)
			a, b = min(a, b), max(a, b)
			for a < len(text) && !utf8.RuneStart(text[a]) {
				a++
			}
			for b < len(text) && !utf8.RuneStart(text[b]) {
				b++
			}
			if n, w := count(a, b), ref.Count(text[a:b]); n != w {
				t.Fatalf("%q: count(%d, %d) = %d, tiktoken's %d", text, a, b, n, w)
			}
		}
		for i := 0; i < len(text); {
			j := cl100kNext(text, i)
			if j-i >= 2 && j-i <= longPiece {
				if _, cut := fast.cutEnds(text[i:j], i, nil, nil); cut {
					withCuts++
				} else if text[i] >= utf8.RuneSelf {
					without++
				}
			}
			i = j
		}
	}
	if withCuts < 1000 || without < 100 {
		t.Fatalf("%d pieces with cuts and %d without, want both common", withCuts, without)
	}
}
