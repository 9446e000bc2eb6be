package chunk_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/tokenizer"
)

// limits describes what a chunker promised, for checkInvariants.
type limits struct {
	tok     tokenizer.Tokenizer
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

// maker builds a chunker of the given size, overlap option and tokenizer,
// and says what it promises.
type maker struct {
	name string
	make func(size, overlap int, tok tokenizer.Tokenizer) (chunk.Chunker, limits)
}

// wantOverlap is the overlap a chunker promises for an Overlap option.
func wantOverlap(size, ov int) int {
	switch {
	case ov == 0:
		ov = chunk.DefaultOverlap
	case ov < 0:
		ov = 0
	}
	return min(ov, size/2)
}

func makers() []maker {
	return []maker{
		{"recursive", func(size, ov int, tok tokenizer.Tokenizer) (chunk.Chunker, limits) {
			return chunk.NewRecursive(chunk.RecursiveOptions{Size: size, Overlap: ov, Tokenizer: tok}),
				limits{tok: tok, size: size, overlap: wantOverlap(size, ov)}
		}},
		{"tokens", func(size, ov int, tok tokenizer.Tokenizer) (chunk.Chunker, limits) {
			return chunk.NewTokens(chunk.TokensOptions{Size: size, Overlap: ov, Tokenizer: tok}),
				limits{tok: tok, size: size, overlap: wantOverlap(size, ov)}
		}},
		{"sentence", func(size, ov int, tok tokenizer.Tokenizer) (chunk.Chunker, limits) {
			return chunk.NewSentence(chunk.SentenceOptions{Size: size, Overlap: ov, Tokenizer: tok}),
				limits{tok: tok, size: size, overlap: wantOverlap(size, ov)}
		}},
		{"semantic", func(size, ov int, tok tokenizer.Tokenizer) (chunk.Chunker, limits) {
			return chunk.NewSemantic(bagOfWords(nil, nil), chunk.SemanticOptions{Size: size, Tokenizer: tok}),
				limits{tok: tok, size: size, overlap: 0}
		}},
		{"markdown", func(size, ov int, tok tokenizer.Tokenizer) (chunk.Chunker, limits) {
			if ov == 0 {
				ov = -1 // Markdown's default is no overlap
			}
			return chunk.NewMarkdown(chunk.MarkdownOptions{Size: size, Overlap: ov, Tokenizer: tok}),
				limits{tok: tok, size: size, overlap: wantOverlap(size, ov)}
		}},
		{"markdown-prefix", func(size, ov int, tok tokenizer.Tokenizer) (chunk.Chunker, limits) {
			if ov == 0 {
				ov = -1
			}
			return chunk.NewMarkdown(chunk.MarkdownOptions{Size: size, Overlap: ov, Tokenizer: tok, HeadingPrefix: true}),
				limits{tok: tok, size: size, overlap: wantOverlap(size, ov), prefix: true}
		}},
	}
}

// corpus holds inputs that have broken chunkers: structure, every kind of
// white space, scripts without spaces, long words, numbers, CRLF, nested
// markdown and code blocks larger than the limits used.
var corpus = map[string]string{
	"prose":   strings.Repeat("The quick brown fox jumps over the lazy dog. It was not amused! Was it? Dr. Who said so. ", 40),
	"paras":   strings.Repeat("First paragraph line one.\nLine two of it.\n\nSecond paragraph here, with words.\n\n", 30),
	"crlf":    strings.Repeat("Windows line one.\r\nWindows line two.\r\n\r\nNext paragraph.\r\n", 40),
	"cjk":     strings.Repeat("今天天气很好。我们去公园散步吧！你觉得怎么样？", 60),
	"word":    strings.Repeat("supercalifragilistic", 300),
	"emoji":   strings.Repeat("👩‍👩‍👧‍👦🏳️‍🌈é", 200),
	"mixed":   strings.Repeat("naïve café résumé — 東京 x=1.5; \u00a0\u3000", 80),
	"spaces":  "  \t hello   world  \n\n  ",
	"one":     "x",
	"numbers": strings.Repeat("3.14159 2.71828 1.41421 ", 150),
	"markdown": "---\ntitle: Test\ntags: [a, b]\n---\n# Install\n\nSome intro text.\n\n## Linux\n\nRun this:\n\n```sh\n" +
		strings.Repeat("echo 'a long line of shell code here'\n", 40) + "```\n\n| a | b |\n|---|---|\n" +
		strings.Repeat("| cell one | cell two |\n", 30) + "\n## macOS\n\nUse brew.\n\nSetext Heading\n==============\n\nText under it.\n",
	"nested": strings.Repeat("> ", 30) + "deep quote\n" + strings.Repeat("  ", 40) + "- deep list item\n" +
		strings.Repeat("#", 6) + " Six\n" + strings.Repeat("- a\n  - b\n    - c\n      - d\n", 20),
	// Single lines without white space (see pathological_test.go): one
	// cl100k pre-token, no separator of any level.
	"repeated-letter": repeatedLetter(20_000),
	"random-lower":    randomLower(20_000, 1),
	"random-letters":  randomLetters(20_000, 1),
	"random-alnum":    randomAlnum(20_000, 1),
	"random-utf8":     randomRunes(20_000, 1),
	"random-scripts":  randomScripts(20_000, 1),
	// One line of random words and single spaces: a cut at every space,
	// tens of thousands of pieces.
	"random-words": randomWords(20_000, 1),
}

// TestProperties checks the shared invariants of every chunker on the
// corpus, in tokens and in runes, at several sizes and overlaps.
func TestProperties(t *testing.T) {
	for _, mk := range makers() {
		for _, tk := range []struct {
			name string
			tok  tokenizer.Tokenizer
		}{{"cl100k", tokenizer.CL100K()}, {"runes", tokenizer.Runes()}, {"fields", fieldsTokenizer{}}} {
			for _, size := range []int{8, 33, 128} {
				for _, ov := range []int{-1, 0, 5} {
					c, l := mk.make(size, ov, tk.tok)
					for name, text := range corpus {
						t.Run(fmt.Sprintf("%s/%s/%d/%d/%s", mk.name, tk.name, size, ov, name), func(t *testing.T) {
							if cs := runChecked(t, c, text, l); len(cs) == 0 {
								t.Error("no chunks")
							}
						})
					}
				}
			}
		}
	}
}

// TestEmptyAndInvalid checks that every chunker gives nothing for blank
// text and ErrInvalidUTF8 for invalid text.
func TestEmptyAndInvalid(t *testing.T) {
	for _, mk := range makers() {
		c, _ := mk.make(0, 0, nil)
		for _, s := range []string{"", " ", "\n\n\t\r\n", "\u3000\u00a0\u2028"} {
			cs, err := c.Chunk(context.Background(), s)
			if err != nil || len(cs) != 0 {
				t.Errorf("%s: Chunk(%q) = %v, %v; want no chunk, no error", mk.name, s, cs, err)
			}
		}
		for _, s := range []string{"ok \xff\xfe bad", "\xc3", strings.Repeat("fine ", 100) + "\xed\xa0\x80"} {
			if _, err := c.Chunk(context.Background(), s); !errors.Is(err, chunk.ErrInvalidUTF8) {
				t.Errorf("%s: Chunk(%q) error = %v, want ErrInvalidUTF8", mk.name, s, err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Chunk(ctx, "some text"); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled: err = %v", mk.name, err)
		}
	}
}

// fieldsTokenizer is a third-party style Tokenizer whose tokens are words:
// its Decode does not give the text back byte for byte, so chunkers must
// plan without exact token offsets and rely on Count.
type fieldsTokenizer struct{}

func (fieldsTokenizer) Encode(text string) []int {
	f := strings.Fields(text)
	ids := make([]int, len(f))
	for i, w := range f {
		ids[i] = len(w)
	}
	return ids
}

func (fieldsTokenizer) Decode(ids []int) string {
	parts := make([]string, len(ids))
	for i, n := range ids {
		parts[i] = strings.Repeat("x", n)
	}
	return strings.Join(parts, " ")
}

func (fieldsTokenizer) Count(text string) int { return len(strings.Fields(text)) }

// TestConcurrentUse runs every chunker from several goroutines at once
// (for the race detector) and checks each gets the sequential result.
func TestConcurrentUse(t *testing.T) {
	text := corpus["markdown"] + corpus["prose"] + corpus["cjk"]
	for _, mk := range makers() {
		c, _ := mk.make(64, 0, tokenizer.CL100K())
		want, err := c.Chunk(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for range 4 {
			wg.Go(func() {
				got, err := c.Chunk(context.Background(), text)
				if err != nil || !reflect.DeepEqual(got, want) {
					errs <- fmt.Sprintf("%s: concurrent result differs (err %v)", mk.name, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}
