// Package pathological generates the pathological single lines that the
// chunkers' and the tokenizer's tests and benchmarks run on (issue #11's
// inputs: one repeated letter, random letters, random words, random
// characters of every encoded length or of living scripts), the same text
// for the same seed in every package.
package pathological

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lines have no line break and no sentence end, so every
// chunker falls back to cutting at white space or between tokens. Without
// white space cl100k's pre-tokenizer sees pre-tokens as long as the text
// (a run of letters is one pre-token, a run of symbols another); random
// words give one long run of short pre-tokens with a cut between each.

// RepeatedLetter is n bytes of one letter.
func RepeatedLetter(n int) string { return strings.Repeat("a", n) }

// Letters is n random ASCII letters, lower and upper case.
func Letters(n int, seed uint64) string {
	return ascii(n, seed, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// Lower is n random lower-case ASCII letters.
func Lower(n int, seed uint64) string {
	return ascii(n, seed, "abcdefghijklmnopqrstuvwxyz")
}

// Alnum is n random ASCII letters and digits (cl100k cuts digits
// into groups of up to three, so its pre-tokens are short).
func Alnum(n int, seed uint64) string {
	return ascii(n, seed, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}

// ascii is n bytes drawn at random from alphabet.
func ascii(n int, seed uint64, alphabet string) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// Words is about n bytes of random lower-case words of 1 to 12
// letters, separated by single spaces: no punctuation, no line break.
func Words(n int, seed uint64) string {
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

// Runes is about n bytes of random valid UTF-8 with no white space:
// each character's encoded length (1 to 4 bytes) is drawn first, then a
// code point of that length, so every length is equally common.
func Runes(n int, seed uint64) string {
	return FromRanges(n, seed, [][2]rune{{0, 0x7f}, {0x80, 0x7ff}, {0x800, 0xffff}, {0x10000, utf8.MaxRune}})
}

// Scripts is about n bytes of random characters of living scripts
// with no white space: Latin (ASCII and accented), Greek, Cyrillic,
// Arabic, Devanagari, Hiragana, CJK ideographs, Hangul, digits, ASCII
// punctuation and emoji, each range equally likely.
func Scripts(n int, seed uint64) string {
	return FromRanges(n, seed, [][2]rune{
		{'a', 'z'}, {'A', 'Z'}, {0xc0, 0xff}, {0x3b1, 0x3c9}, {0x430, 0x44f}, {0x627, 0x64a},
		{0x915, 0x939}, {0x3041, 0x3096}, {0x4e00, 0x9fff}, {0xac00, 0xd7a3}, {'0', '9'}, {'!', '/'},
		{0x1f300, 0x1f5ff}, {0x1f600, 0x1f64f},
	})
}

// FromRanges is about n bytes of code points drawn from ranges
// (a range first, then a code point in it), skipping surrogates and white
// space.
func FromRanges(n int, seed uint64, ranges [][2]rune) string {
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

// Lines returns the pathological lines of about n bytes each,
// by name.
func Lines(n int) []Line {
	return []Line{
		{"repeated-letter", RepeatedLetter(n)},
		{"random-lower", Lower(n, 1)},
		{"random-letters", Letters(n, 1)},
		{"random-alnum", Alnum(n, 1)},
		{"random-utf8", Runes(n, 1)},
		{"random-scripts", Scripts(n, 1)},
		{"random-words", Words(n, 1)},
	}
}

// Line is a pathological line and its name.
type Line struct{ Name, Text string }
