package chunk

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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
			spaceRuns(text, s, e, func(a, b, nl int) bool {
				if nl >= minNL && b < e && a > s {
					want = append(want, b)
				}
				return true
			})
			if got := breakRuns(text, s, s, e, minNL, nil, 0); !slices.Equal(got, want) {
				t.Fatalf("breakRuns(%q, %d, %d, %d) = %v, want %v", text, s, e, minNL, got, want)
			}
		}
	}
}

// TestLevelsResume checks that every level, asked for its cuts a few at a
// time (each batch from the last cut of the one before, as split asks),
// finds exactly the cuts it finds in one pass.
func TestLevelsResume(t *testing.T) {
	levels := map[string]level{
		"paragraphs": paragraphs, "lines": lines, "sentenceEnds": sentenceEnds, "words": words,
		"sentences": sentenceLevel(abbreviations(nil)), "literal": literal("; "), "literal-nospace": literal("ab"),
	}
	alphabet := append(slices.Clone(spaceAlphabet), "。", "!", "?", "\"", ")", "3", "Dr", "; ", "ab", "…")
	rng := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(80) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := b.String()
		s, e := 0, len(text)
		if e > 0 {
			s = runeStart(text, rng.IntN(e))
		}
		for name, lv := range levels {
			want := allCuts(lv, text, s, e, nil)
			limit := 1 + rng.IntN(3)
			var got []int
			for from := s; from < e; {
				batch := lv(text, s, from, e, nil, limit)
				got = append(got, batch...)
				if len(batch) < limit {
					break
				}
				from = batch[len(batch)-1]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s on %q [%d:%d], %d at a time: %v, in one pass %v", name, text, s, e, limit, got, want)
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

// TestLeadBytes checks the scanners' tables against the definitions they
// stand for, over every rune: each white space rune (unicode.IsSpace) and
// each sentence mark (markAt) starts with a byte its table marks, and
// isSpaceAt, which steps over the unmarked ones, agrees with decoding.
func TestLeadBytes(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		if sp, n := isSpaceAt(s, 0); sp != unicode.IsSpace(r) || n != len(s) {
			t.Fatalf("isSpaceAt(%q) = %v, %d, want %v, %d", s, sp, n, unicode.IsSpace(r), len(s))
		}
		if unicode.IsSpace(r) && !spaceLead[s[0]] {
			t.Errorf("%U is white space; spaceLead misses %#x", r, s[0])
		}
		if _, _, ok := markAt(s, 0); ok && (!markLead[s[0]] || !sentenceLead[s[0]]) {
			t.Errorf("%U is a sentence mark; markLead or sentenceLead misses %#x", r, s[0])
		}
	}
	if !sentenceLead['\n'] {
		t.Error("sentenceLead misses the line feed")
	}
	// Inside a character: one byte, not white space.
	for _, s := range []string{"\u00a0", "\u3000", "\u2028", "中"} {
		for i := 1; i < len(s); i++ {
			if sp, n := isSpaceAt(s, i); sp || n != 1 {
				t.Errorf("isSpaceAt(%q, %d) = %v, %d, want false, 1", s, i, sp, n)
			}
		}
	}
}
