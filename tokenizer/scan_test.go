package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkScan fails unless cl100kNext and cl100kNextSlow give the same
// pre-token end at every character of s, the range counter's starts
// included, but for the characters more than 64 bytes into a pre-token
// (each such start costs a scan of the rest of it: a long run would take
// quadratic time).
func checkScan(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); {
		want := cl100kNextSlow(s, i)
		for k := i; k < min(want, i+64); {
			if got, want := cl100kNext(s, k), cl100kNextSlow(s, k); got != want {
				t.Fatalf("%q at %d: cl100kNext gives %d, cl100kNextSlow %d", s, k, got, want)
			}
			_, n := utf8.DecodeRuneInString(s[k:])
			k += n
		}
		i = want
	}
}

// TestScanFastPathMatchesSlow compares the scanner's ASCII fast path with
// the whole pattern on prose, on every ASCII byte after every other and
// before a multi-byte rune, and on random text of the package's alphabet.
func TestScanFastPathMatchesSlow(t *testing.T) {
	checkScan(t, "The cat's hat (isn't) red: 12345 cells/ml, p<0.05.\n\n  Über naïve 中文 x²³ 1²  a\u00a0b !\u00a0 é")
	for a := range utf8.RuneSelf {
		for b := range utf8.RuneSelf {
			for _, tail := range []string{"", "é", "²", "\u00a0", "x", " "} {
				checkScan(t, string(rune(a))+string(rune(b))+tail)
				checkScan(t, "1"+string(rune(a))+string(rune(b))+tail)
			}
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 3000 {
		checkScan(t, randomText(rng, 1+rng.IntN(40)))
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{"hello world", "I'm 12345 ok\r\n\r\n  x", "中文。😀", " \u00a0\tx\n", "'LL'Ve'd", "a1²b ,é ?\u00a0", strings.Repeat("ab cd. ", 9)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the scanner's input is valid UTF-8 (validText)
		}
		checkScan(t, s)
	})
}

// TestNonLetters compares nonLetters with the byte table on every byte
// value at every position of a word, and on random words.
func TestNonLetters(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			x := uint64(0x6161616161616161) // "aaaaaaaa"
			x = x&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
			var want uint64
			if byteClass[c] != clLetter {
				want = 0x80 << (8 * pos)
			}
			if got := nonLetters(x); got != want {
				t.Fatalf("byte %#x at %d: nonLetters = %#x, want %#x", c, pos, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(15, 16))
	for range 100_000 {
		x := rng.Uint64()
		var want uint64
		for pos := range 8 {
			if byteClass[byte(x>>(8*pos))] != clLetter {
				want |= 0x80 << (8 * pos)
			}
		}
		if got := nonLetters(x); got != want {
			t.Fatalf("%#x: nonLetters = %#x, want %#x", x, got, want)
		}
	}
}
