package chunk_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ragkit-go/rag/chunk"
)

// limits describes what a chunker promised, for checkInvariants.
type limits struct {
	tok     chunk.Tokenizer
	size    int  // Chunk.Tokens <= size (except a chunk of one character)
	overlap int  // tokens shared by neighbours <= overlap
	prefix  bool // Text may carry a prefix before content[Start:End]
}

// checkInvariants checks the contract every chunker shares, and returns a
// description of the first violation, or "".
func invariants(text string, cs []chunk.Chunk, l limits) string {
	covered := make([]bool, len(text)+1)
	for i, c := range cs {
		switch {
		case c.Index != i:
			return fmt.Sprintf("chunk %d has Index %d", i, c.Index)
		case c.Start < 0 || c.End > len(text) || c.Start >= c.End:
			return fmt.Sprintf("chunk %d has bad offsets [%d,%d) in %d bytes", i, c.Start, c.End, len(text))
		case strings.TrimSpace(c.Text) == "":
			return fmt.Sprintf("chunk %d is empty or blank: %q", i, c.Text)
		case !utf8.ValidString(c.Text):
			return fmt.Sprintf("chunk %d is not valid UTF-8", i)
		}
		src := text[c.Start:c.End]
		if l.prefix {
			if !strings.HasSuffix(c.Text, src) {
				return fmt.Sprintf("chunk %d: Text %q does not end with content[%d:%d] %q", i, c.Text, c.Start, c.End, src)
			}
		} else if c.Text != src {
			return fmt.Sprintf("chunk %d: Text %q != content[%d:%d] %q", i, c.Text, c.Start, c.End, src)
		}
		if got := l.tok.Count(c.Text); got != c.Tokens {
			return fmt.Sprintf("chunk %d: Tokens %d, Count(Text) %d", i, c.Tokens, got)
		}
		if c.Tokens > l.size && utf8.RuneCountInString(src) > 1 {
			return fmt.Sprintf("chunk %d: %d tokens > size %d", i, c.Tokens, l.size)
		}
		if i > 0 {
			p := cs[i-1]
			if c.Start <= p.Start {
				return fmt.Sprintf("chunk %d starts at %d, not after chunk %d at %d", i, c.Start, i-1, p.Start)
			}
			if c.Start < p.End {
				if n := l.tok.Count(text[c.Start:p.End]); n > l.overlap {
					return fmt.Sprintf("chunks %d and %d share %d tokens > overlap %d", i-1, i, n, l.overlap)
				}
			}
		}
		for k := c.Start; k < c.End; k++ {
			covered[k] = true
		}
	}
	for i, r := range text {
		if !unicode.IsSpace(r) && !covered[i] {
			return fmt.Sprintf("non-space %q at byte %d is in no chunk", r, i)
		}
	}
	return ""
}

// runChecked chunks text twice with c, checks the invariants and
// determinism, and returns the chunks.
func runChecked(t testing.TB, c chunk.Chunker, text string, l limits) []chunk.Chunk {
	t.Helper()
	cs, err := c.Chunk(context.Background(), text)
	if err != nil {
		t.Fatalf("Chunk: %v", err)
	}
	if msg := invariants(text, cs, l); msg != "" {
		t.Fatalf("%s\ninput (%d bytes): %.300q", msg, len(text), text)
	}
	again, err := c.Chunk(context.Background(), text)
	if err != nil || !reflect.DeepEqual(cs, again) {
		t.Fatalf("not deterministic (err %v)", err)
	}
	return cs
}
