package chunk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/tokenizer"
)

func TestRecursiveEmpty(t *testing.T) {
	r := chunk.NewRecursive(chunk.RecursiveOptions{})
	for _, s := range []string{"", " ", "\n\n\t\r\n", "\u3000\u00a0"} {
		cs, err := r.Chunk(context.Background(), s)
		if err != nil || len(cs) != 0 {
			t.Errorf("Chunk(%q) = %v, %v; want no chunk, no error", s, cs, err)
		}
	}
}

func TestRecursiveInvalidUTF8(t *testing.T) {
	r := chunk.NewRecursive(chunk.RecursiveOptions{})
	_, err := r.Chunk(context.Background(), "ok \xff\xfe bad")
	if !errors.Is(err, chunk.ErrInvalidUTF8) {
		t.Fatalf("err = %v, want ErrInvalidUTF8", err)
	}
}

func TestRecursivePrefersParagraphs(t *testing.T) {
	para := strings.TrimSpace(strings.Repeat("Alpha beta gamma delta. ", 10))
	text := para + "\n\n" + para + "\n\n" + para
	tok := tokenizer.CL100K()
	n := tok.Count(para)
	r := chunk.NewRecursive(chunk.RecursiveOptions{Size: n + 2, Overlap: -1})
	cs := runChecked(t, r, text, limits{tok: tok, size: n + 2})
	if len(cs) != 3 {
		t.Fatalf("got %d chunks, want 3 (one per paragraph)", len(cs))
	}
	for _, c := range cs {
		if c.Text != para {
			t.Errorf("chunk %d = %q, want the paragraph", c.Index, c.Text)
		}
	}
}

func TestRecursiveCJKSentences(t *testing.T) {
	s1, s2 := "我们去公园散步吧！", "今天天气很好。"
	text := strings.Repeat(s1+s2, 20)
	tok := tokenizer.Runes()
	r := chunk.NewRecursive(chunk.RecursiveOptions{Size: 20, Overlap: -1, Tokenizer: tok})
	cs := runChecked(t, r, text, limits{tok: tok, size: 20})
	for _, c := range cs {
		last := []rune(c.Text)
		if e := last[len(last)-1]; e != '！' && e != '。' {
			t.Errorf("chunk %d ends with %q, not a sentence end: %q", c.Index, e, c.Text)
		}
	}
}

func TestRecursiveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := chunk.NewRecursive(chunk.RecursiveOptions{}).Chunk(ctx, "some text")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRecursiveSeparators(t *testing.T) {
	text := strings.Repeat("alpha beta; gamma delta; epsilon zeta; ", 20)
	tok := tokenizer.Runes()
	r := chunk.NewRecursive(chunk.RecursiveOptions{Size: 40, Overlap: -1, Tokenizer: tok, Separators: []string{";"}})
	cs := runChecked(t, r, text, limits{tok: tok, size: 40})
	for _, c := range cs {
		if !strings.HasSuffix(c.Text, ";") {
			t.Errorf("chunk %d does not end at a separator: %q", c.Index, c.Text)
		}
	}
}

func TestByExtension(t *testing.T) {
	for name, want := range map[string]string{
		"README.md": "*chunk.Markdown", "doc.MARKDOWN": "*chunk.Markdown", ".mdx": "*chunk.Markdown",
		"notes.txt": "*chunk.Recursive", "Makefile": "*chunk.Recursive", "": "*chunk.Recursive",
	} {
		if got := fmt.Sprintf("%T", chunk.ByExtension(name)); got != want {
			t.Errorf("ByExtension(%q) is %s, want %s", name, got, want)
		}
	}
}
