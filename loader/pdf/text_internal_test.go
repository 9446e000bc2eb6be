package pdf

import (
	"testing"
	"time"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"exam-\r\nple", "example"},
		{"exam\u0002\nple", "example"},
		{"exam\u00AD\nple", "example"},
		{"long exam-\n  ple text", "long example text"},
		{"non-\nEuclidean", "non-\nEuclidean"},
		{"1990-\n1995", "1990-\n1995"},
		{"page-\n", "page-"},
		{"co\u00ADoperate", "cooperate"},
		{"\uFB01nd \uFB02ow \uFB00 \uFB03 \uFB04 \uFB05 \uFB06", "find flow ff ffi ffl st st"},
		{"a\uFFFDb\uE000c\x01d\u200Be", "abcde"},
		{"one\ttwo  \n\n\n\nthree\r\rfour", "one two\n\nthree\n\nfour"},
		{"  \n lead and trail \n ", "lead and trail"},
		{"bad \xff utf8", "bad  utf8"},
		{"", ""},
	} {
		got := cleanText(c.raw)
		if got != c.want {
			t.Errorf("cleanText(%q) = %q, want %q", c.raw, got, c.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("cleanText(%q) is not valid UTF-8", c.raw)
		}
	}
}

func TestLayoutText(t *testing.T) {
	// Glyphs 10 wide, 10 high; a gap of 3 (0.3 of the height) is a word
	// break, one of 0.5 is kerning.
	g := func(r rune, x, y float32) glyph { return glyph{r: r, left: x, right: x + 10, bottom: y, top: y + 10} }
	gs := []glyph{
		g('a', 0, 100), g('b', 10.5, 100), // kerned: one word
		g('c', 23.5, 100),           // wide gap: a new word
		{r: ' '}, g('d', 33.6, 100), // a space character where the glyphs touch: none
		{r: ' '}, g('e', 45, 100), // a space character and a gap: a word break
		g('f', 0, 80),  // the next line
		g('g', 10, 81), // the same line, a little higher
	}
	if got, want := layoutText(gs), "ab cd e\nfg"; got != want {
		t.Errorf("layoutText = %q, want %q", got, want)
	}
}

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"D:20240131120000+01'00'", time.Date(2024, 1, 31, 11, 0, 0, 0, time.UTC), true},
		{"D:20240131120000-05'30", time.Date(2024, 1, 31, 17, 30, 0, 0, time.UTC), true},
		{"D:20240131120000Z", time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC), true},
		{"20240131", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), true},
		{"D:2024", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"D:20241341", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, ok := parseDate(c.in)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
