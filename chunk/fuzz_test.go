package chunk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/tokenizer"
)

// fuzzChunker checks the shared invariants of the chunker mk makes on
// arbitrary text, size and overlap: invalid UTF-8 must give
// ErrInvalidUTF8, anything else chunks satisfying invariants.
func fuzzChunker(f *testing.F, mk maker) {
	// Short seeds: the fuzzer mutates and minimizes faster.
	for _, text := range corpus {
		if len(text) > 300 {
			text = strings.ToValidUTF8(text[:300], "")
		}
		f.Add(text, uint16(16), int8(4), false)
	}
	f.Add("a\xffb", uint16(8), int8(0), false)
	f.Add("# A\n\n```\ncode\n```\n\n| x |\n|---|\n| 1 |\n", uint16(5), int8(-1), true)
	f.Add("Dr. No. 3.14 \"Hi!\" he said. 。！？", uint16(4), int8(2), true)
	// Long single lines without white space: one pre-token, no separator.
	f.Add(repeatedLetter(4096), uint16(100), int8(10), false)
	f.Add(randomLetters(4096, 2), uint16(30), int8(0), false)
	f.Add(randomRunes(4096, 2), uint16(60), int8(5), false)
	f.Add(randomLower(4096, 2), uint16(20), int8(3), false)
	f.Add(randomAlnum(4096, 2), uint16(40), int8(0), true)
	f.Add(randomScripts(4096, 2), uint16(50), int8(6), false)
	f.Add(randomWords(4096, 2), uint16(12), int8(2), false)
	f.Fuzz(func(t *testing.T, text string, size uint16, overlap int8, runes bool) {
		tok := tokenizer.CL100K()
		if runes {
			tok = tokenizer.Runes()
		}
		// Sizes of 4 and more: a single character can take 4 cl100k tokens.
		c, l := mk.make(4+int(size%300), int(overlap), tok)
		cs, err := c.Chunk(context.Background(), text)
		if !utf8.ValidString(text) {
			if !errors.Is(err, chunk.ErrInvalidUTF8) {
				t.Fatalf("invalid UTF-8: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if msg := invariants(text, cs, l); msg != "" {
			t.Fatalf("%s\ninput %q", msg, text)
		}
	})
}

func makerNamed(name string) maker {
	for _, m := range makers() {
		if m.name == name {
			return m
		}
	}
	panic("no maker " + name)
}

func FuzzRecursive(f *testing.F)      { fuzzChunker(f, makerNamed("recursive")) }
func FuzzTokens(f *testing.F)         { fuzzChunker(f, makerNamed("tokens")) }
func FuzzSentence(f *testing.F)       { fuzzChunker(f, makerNamed("sentence")) }
func FuzzMarkdown(f *testing.F)       { fuzzChunker(f, makerNamed("markdown")) }
func FuzzMarkdownPrefix(f *testing.F) { fuzzChunker(f, makerNamed("markdown-prefix")) }
func FuzzSemantic(f *testing.F)       { fuzzChunker(f, makerNamed("semantic")) }
