package chunk

import (
	"math/rand/v2"
	"slices"
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
