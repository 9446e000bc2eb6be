package tokenizer

import (
	"math/rand/v2"
	"testing"
)

// TestTokenFilter: every token of pieceCacheMin to pieceCacheMax bytes
// passes the filter, and few random pieces that are not tokens do.
func TestTokenFilter(t *testing.T) {
	fast := fastCL100K(t)
	for tok := range fast.ranks {
		if n := len(tok); n >= pieceCacheMin && n <= pieceCacheMax {
			if lo, hi := packPiece(tok); !fast.filter.mayBeToken(lo, hi, n) {
				t.Fatalf("token %q does not pass the filter", tok)
			}
		}
	}
	rng := rand.New(rand.NewPCG(17, 18))
	passed, tried := 0, 0
	for tried < 100_000 {
		n := pieceCacheMin + rng.IntN(pieceCacheMax-pieceCacheMin+1)
		b := make([]byte, n)
		b[0] = ' '
		for i := 1; i < n; i++ {
			b[i] = 'a' + byte(rng.IntN(26))
		}
		if fast.isToken(string(b)) {
			continue
		}
		tried++
		if lo, hi := packPiece(string(b)); fast.filter.mayBeToken(lo, hi, n) {
			passed++
		}
	}
	if rate := float64(passed) / float64(tried); rate > 0.02 {
		t.Fatalf("%.2f%% of pieces that are not tokens pass the filter, want at most 2%%", 100*rate)
	} else {
		t.Logf("%.3f%% of pieces that are not tokens pass the filter", 100*rate)
	}
}
