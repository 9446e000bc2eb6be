package chunk

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestBreakRunsMatchesSpaceRuns checks the fast line-feed scan against the
// plain definition: cut after each white-space run with enough line feeds,
// not at either end of the range.
func TestBreakRunsMatchesSpaceRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		text := randomText(rng, rng.IntN(60))
		s, e := 0, len(text)
		if e > 0 {
			s = runeStart(text, rng.IntN(e))
		}
		for _, minNL := range []int{1, 2} {
			var want []int
			spaceRuns(text, s, e, func(a, b, nl int) {
				if nl >= minNL && b < e && a > s {
					want = append(want, b)
				}
			})
			if got := breakRuns(text, s, e, minNL, nil); !slices.Equal(got, want) {
				t.Fatalf("breakRuns(%q, %d, %d, %d) = %v, want %v", text, s, e, minNL, got, want)
			}
		}
	}
}

// spaceAlphabet is what the white-space scanners see: letters, every kind
// of white space and line break, punctuation and a few multi-byte runes.
var spaceAlphabet = []string{"a", "Z", "é", "中", "😀", ".", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\v", "\f", "\u00a0", "\u3000", "\u2028", "\u0085"}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(spaceAlphabet[rng.IntN(len(spaceAlphabet))])
	}
	return b.String()
}
