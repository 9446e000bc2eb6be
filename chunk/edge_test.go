package chunk_test

import (
	"strings"
	"testing"

	"github.com/ragkit-go/rag/tokenizer"
)

// TestLongWord chunks a 100 KB word with no white space: every chunker
// must cut it between tokens, within the size, at character boundaries.
func TestLongWord(t *testing.T) {
	words := map[string]string{
		"ascii": strings.Repeat("abcdefghij", 10_000),
		"utf8":  strings.Repeat("é東😀", 100_000/9),
	}
	for _, mk := range makers() {
		for name, w := range words {
			t.Run(mk.name+"/"+name, func(t *testing.T) {
				c, l := mk.make(512, 0, tokenizer.CL100K())
				cs := runChecked(t, c, w, l)
				if len(cs) < 10 {
					t.Errorf("got %d chunks for a 100 KB word", len(cs))
				}
			})
		}
	}
}

// TestLongLine chunks one 10 MB line (words, no line break, no sentence
// end) with Recursive and Markdown. Skipped with -short.
func TestLongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("10 MB input")
	}
	line := strings.Repeat("lorem ipsum dolor sit amet, consectetur adipiscing elit ", 10<<20/56)
	for _, name := range []string{"recursive", "markdown"} {
		t.Run(name, func(t *testing.T) {
			c, l := makerNamed(name).make(512, 0, tokenizer.CL100K())
			cs := runChecked(t, c, line, l)
			if want := tokenizer.CL100K().Count(line) / 512; len(cs) < want {
				t.Errorf("got %d chunks, want at least %d", len(cs), want)
			}
		})
	}
}
