// Package chunk splits documents into chunks sized for an embedding model,
// with exact byte offsets back into the source text.
//
// Sizes are measured in tokens by default, through a pluggable
// tokenizer.Tokenizer whose default is OpenAI's cl100k_base
// (tokenizer.CL100K, from data compiled into the binary: nothing is
// downloaded at run time). tokenizer.Runes measures characters instead;
// any Tokenizer works.
//
// The chunkers:
//
//   - Recursive: the default. Cuts at blank lines, then line breaks, then
//     sentence ends (including the CJK 。！？), then white space, then
//     between tokens, and packs the pieces up to the size with an overlap.
//   - Markdown: splits at headings, keeps each chunk's heading path
//     (Chunk.Headings, and optionally a prefix in Text), never splits a
//     fenced code block or a table that fits, handles front matter.
//   - Sentence: packs whole sentences (abbreviations, decimals and quotes
//     handled), overlapping by whole sentences.
//   - Semantic: breaks where the embeddings of neighbouring sentence groups
//     drift apart (percentile, standard deviation or interquartile rule).
//   - Tokens: fixed windows of tokens with overlap.
//
// Every chunker shares one contract (see Chunker): chunks in order, none
// empty, each at most its Size in Tokens (counted exactly, by encoding the
// chunk's own text), Text == content[Start:End] trimmed of surrounding
// white space (Markdown can add a heading prefix before it), every
// non-space byte of the input in some chunk, neighbours sharing at most
// Overlap tokens, cuts only at UTF-8 character boundaries, the same chunks
// for the same input, ErrInvalidUTF8 for invalid text.
//
// Defaults: 512 tokens a chunk (one topic, a few fit in a prompt, far
// below every embedding model's input limit) and 64 tokens of overlap
// (DefaultOverlap: a sentence or two, so a fact cut in two is whole in one
// chunk, for about 12% more text to embed); Markdown (by default) and
// Semantic do not overlap: their cuts follow the document's structure or
// its topics.
//
// Speed: chunkers tokenize the text once (tokenizer.Index). With CL100K they record where
// each token and each pre-token ends, and count any range of the text
// exactly from prefix sums, re-tokenizing only the few pre-tokens at its
// edges; CL100K itself replaces tiktoken's regular expression by a
// hand-written scanner (checked against tiktoken-go) and is about eight
// times faster than tiktoken-go. BenchmarkChunkers compares each chunker
// with the raw Encode.
//
// Memory: besides the text's index (4 bytes a token), a chunker holds its
// chunks and a window of the pieces it is packing, not a piece per word:
// pieces are packed as they are made, and separators are found a batch at
// a time. BenchmarkPathological reports CPU seconds per MB and bytes
// allocated per byte of input on 10 MB single lines (one letter, random
// letters, digits, UTF-8, words); BenchmarkPathologicalOverhead measures
// the chunkers' own share, with the index built beforehand.
package chunk

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Chunk is one piece of a document.
type Chunk struct {
	// Text is the chunk's text as it is embedded. Unless a chunker documents
	// otherwise (a heading prefix, say), Text == content[Start:End].
	Text string
	// Index is the chunk's position in the document, from 0.
	Index int
	// Start and End are byte offsets into the document's content: the
	// chunk's source text is content[Start:End].
	Start, End int
	// Tokens is the number of tokens in Text, by the chunker's Tokenizer
	// (or the number of runes, for chunkers sized in runes).
	Tokens int
	// Headings is the path of headings the chunk sits under, outermost
	// first (e.g. ["Install", "Linux"]), for chunkers that know structure.
	Headings []string
}

// Chunker splits a document's content into chunks.
//
// Chunk returns the chunks of text in order, with Index 0, 1, 2... It is
// deterministic: the same text always gives the same chunks. Text that is
// empty or only white space gives no chunk and no error. Text that is not
// valid UTF-8 gives an error matching ErrInvalidUTF8.
//
// Concurrency: Chunk may be called concurrently from many goroutines.
//
// Cancellation: Chunk returns ctx's error, and no chunk, soon after ctx is
// done. The chunkers of this package look at ctx every few thousand
// tokens of work, including while the tokenizer indexes the text when it
// implements tokenizer.ContextIndexer (CL100K and Runes do; another
// tokenizer's pass over the text runs to its end first).
//
// Ownership: the returned slice belongs to the caller. Chunk texts may
// share memory with text (strings are immutable).
type Chunker interface {
	Chunk(ctx context.Context, text string) ([]Chunk, error)
}

// Func adapts an ordinary function to the Chunker interface.
type Func func(ctx context.Context, text string) ([]Chunk, error)

// Chunk calls f(ctx, text).
func (f Func) Chunk(ctx context.Context, text string) ([]Chunk, error) { return f(ctx, text) }

// ErrInvalidUTF8 is returned for text that is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("chunk: text is not valid UTF-8")

// ErrTooLarge is returned for a text longer than 2 GiB, the most a chunker
// accepts.
var ErrTooLarge = errors.New("chunk: text longer than 2 GiB")

// start checks what every chunker checks first: a live context, a text
// of valid UTF-8 within maxText. It returns the span of text without its
// surrounding white space; s == e means there is nothing to chunk.
func start(ctx context.Context, text string) (s, e int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if len(text) > maxText {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(text))
	}
	if !utf8.ValidString(text) {
		return 0, 0, ErrInvalidUTF8
	}
	s, e = trim(text, 0, len(text))
	return s, e, nil
}
