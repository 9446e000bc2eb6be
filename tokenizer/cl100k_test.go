package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// reference is tiktoken-go's cl100k_base, the implementation bpeTokenizer
// must agree with.
func reference(t testing.TB) Tokenizer {
	t.Helper()
	tok, err := loadEncoding("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func fastCL100K(t testing.TB) *bpeTokenizer {
	t.Helper()
	tok, err := newBPE("cl100k_base.tiktoken", cl100kSpecial)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// alphabet holds characters chosen to exercise every branch of the
// pre-tokenizer: contractions in both cases, letters, numbers of several
// scripts, every kind of white space, punctuation, marks, CJK and emoji.
var alphabet = []string{
	"'", "s", "S", "t", "T", "r", "R", "e", "E", "v", "V", "m", "M", "l", "L", "d", "D", "k", "ſ", "K",
	"a", "z", "é", "ß", "Ж", "λ", "ا", "中", "文", "。", "！", "？", "😀", "👩‍👩‍👧", "\u0301", "\u200d",
	"0", "1", "9", "²", "½", "٣", "Ⅻ",
	" ", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u00a0", "\u3000", "\u2028", "\u0085", "\u200b",
	".", ",", "!", "?", "-", "(", ")", "\"", "#", "*", "`", "$", "<|endoftext|>",
}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func TestCL100KMatchesTiktoken(t *testing.T) {
	ref, fast := reference(t), fastCL100K(t)
	check := func(s string) {
		t.Helper()
		want := ref.Encode(s)
		got := fast.Encode(s)
		if !slices.Equal(got, want) {
			t.Fatalf("Encode(%q):\n got %v\nwant %v", s, got, want)
		}
		if n := fast.Count(s); n != len(want) {
			t.Fatalf("Count(%q) = %d, want %d", s, n, len(want))
		}
		if d := fast.Decode(got); utf8.ValidString(s) && d != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, d)
		}
	}
	for _, s := range []string{"", "a", "hello world", "I'm here, they'll go; we've seen 'Re' 'LL", "  leading", "trailing   ",
		"a  \n\n  b", "x \t\ny", "12345678", "x²³⁴", "\r\n\r\n", "naïve café", "(paren) [bracket]!!!\n\n",
		"中文。日本語！", "emoji 😀😀 ok", "tab\tbed", "\u3000\u3000x", "  \u00a0x", "'s's'S", "don't DON'T",
		strings.Repeat("a", 300), strings.Repeat("ab", 200) + "é", strings.Repeat("😀", 100), strings.Repeat(" ", 50) + "x"} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		check(randomText(rng, 1+rng.IntN(40)))
	}
}

func FuzzCL100K(f *testing.F) {
	for _, s := range []string{"hello world", "I'm 12345 ok\r\n\r\n  x", "中文。😀", " \u00a0\tx\n", "'LL'Ve'd",
		// Long pre-tokens, for the backtracking encoder.
		strings.Repeat("a", 1000), strings.Repeat("xy", 300) + "z", " " + strings.Repeat("qwertyuiop", 50), strings.Repeat("=-", 200)} {
		f.Add(s)
	}
	ref, fast := reference(f), fastCL100K(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // chunkers reject it; Encode's repair is checked by the unit test
		}
		want := ref.Encode(s)
		if got := fast.Encode(s); !slices.Equal(got, want) {
			t.Fatalf("Encode(%q):\n got %v\nwant %v", s, got, want)
		}
	})
}

func TestCL100KInvalidUTF8LikeTiktoken(t *testing.T) {
	ref, fast := reference(t), fastCL100K(t)
	for _, s := range []string{"\xff", "a\xffb", "\xe4\xb8 x", "ok \xf0\x9f\x98 done"} {
		if got, want := fast.Encode(s), ref.Encode(s); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestCL100KRangeCount checks the indexed range counter against counting
// each range on its own, on every kind of boundary.
func TestCL100KRangeCount(t *testing.T) {
	fast := fastCL100K(t)
	rng := rand.New(rand.NewPCG(3, 4))
	texts := []string{
		strings.Repeat("The cat's   hat isn't  red.\n\n  Numbers 12345 and 3.14!\r\n", 20),
		strings.Repeat("word ", 200) + strings.Repeat("x", 500) + "  \n end",
	}
	for range 200 {
		texts = append(texts, randomText(rng, 20+rng.IntN(200)))
	}
	for _, text := range texts {
		ends, count := fast.Index(text)
		if got := fast.Encode(text); len(got) != len(ends) {
			t.Fatalf("index: %d token ends, Encode gives %d tokens", len(ends), len(got))
		}
		for k := 1; k < len(ends); k++ {
			if ends[k] <= ends[k-1] {
				t.Fatalf("token ends not increasing at %d: %v", k, ends)
			}
		}
		if len(ends) > 0 && int(ends[len(ends)-1]) != len(text) {
			t.Fatalf("last token end %d, len %d", ends[len(ends)-1], len(text))
		}
		for range 100 {
			s, e := rng.IntN(len(text)+1), rng.IntN(len(text)+1)
			s, e = runeRange(text, s, e)
			if got, want := count(s, e), fast.Count(text[s:e]); got != want {
				t.Fatalf("count(%d,%d) = %d, want %d; range %q", s, e, got, want, text[s:e])
			}
		}
	}
}

// runeRange orders s and e and widens text[s:e] to whole characters.
func runeRange(text string, s, e int) (int, int) {
	if s > e {
		s, e = e, s
	}
	for s > 0 && s < len(text) && !utf8.RuneStart(text[s]) {
		s--
	}
	for e < len(text) && !utf8.RuneStart(text[e]) {
		e++
	}
	return s, e
}

func FuzzCL100KRangeCount(f *testing.F) {
	f.Add("The cat's hat isn't red.\n\n  Numbers 12345!", uint16(3), uint16(30))
	f.Add("a  \n\n  b \u00a0 c", uint16(1), uint16(9))
	fast := fastCL100K(f)
	f.Fuzz(func(t *testing.T, text string, a, b uint16) {
		if !utf8.ValidString(text) || len(text) == 0 {
			return
		}
		s, e := runeRange(text, int(a)%(len(text)+1), int(b)%(len(text)+1))
		_, count := fast.Index(text)
		if got, want := count(s, e), fast.Count(text[s:e]); got != want {
			t.Fatalf("count(%d,%d) = %d, want %d; range %q", s, e, got, want, text[s:e])
		}
	})
}

// TestCL100KMatchesTiktokenOnSciFact compares the two encoders on the
// first megabyte of SciFact's corpus, titles and abstracts, when present.
func TestCL100KMatchesTiktokenOnSciFact(t *testing.T) {
	ref, fast := reference(t), fastCL100K(t)
	seen := 0
	found := scifactDocs(t, func(title, text string) bool {
		for _, s := range []string{title, text, title + "\n\n" + text} {
			if got, want := fast.Encode(s), ref.Encode(s); !slices.Equal(got, want) {
				t.Fatalf("Encode(%q):\n got %v\nwant %v", s, got, want)
			}
			seen += len(s)
		}
		return seen < 1<<20
	})
	if !found {
		t.Skip("SciFact corpus not found at ../shared/data/scifact")
	}
}
