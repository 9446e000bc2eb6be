package tokenizer

import "testing"

// TestPairRanks checks the pair table against every split of every token
// into two tokens, found the slow way, and that it holds nothing else.
func TestPairRanks(t *testing.T) {
	tok := fastCL100K(t)
	n := 0
	for s, c := range tok.ranks {
		for k := 1; k < len(s); k++ {
			a, okA := tok.ranks[s[:k]]
			b, okB := tok.ranks[s[k:]]
			if okA && okB {
				n++
				if got := tok.pairRank.get(int32(a), int32(b)); got != int32(c) {
					t.Fatalf("pair %q %q: %d, want %d", s[:k], s[k:], got, c)
				}
			}
		}
	}
	held := 0
	for _, s := range tok.pairRank.slots {
		if s != 0 {
			held++
		}
	}
	if held != n {
		t.Fatalf("table holds %d pairs, want %d", held, n)
	}
	// Pairs of bytes: the ones that are no token are not in the table.
	for x := range 256 {
		for y := range 256 {
			if got, want := tok.pairRank.get(tok.bytes[x], tok.bytes[y]), tok.pairs[x<<8|y]; got != want {
				t.Fatalf("pair %#x %#x: %d, want %d", x, y, got, want)
			}
		}
	}
	// Special tokens: no merge makes them.
	for _, s := range cl100kSpecial {
		for k := 1; k < len(s); k++ {
			a, okA := tok.ranks[s[:k]]
			b, okB := tok.ranks[s[k:]]
			if got := tok.pairRank.get(int32(a), int32(b)); okA && okB && got != -1 {
				t.Errorf("pair %q %q: %d, want -1", s[:k], s[k:], got)
			}
		}
	}
}
