// Package tokenizer counts and splits text into model tokens: the
// contract (Tokenizer), OpenAI's cl100k_base (CL100K, built from ranks
// compiled into the binary: nothing is downloaded at run time) and a
// tokenizer of Unicode code points (Runes).
//
// Chunkers size chunks with it, and the pipeline, the chat models and the
// fake servers count prompt and passage tokens with it. It imports nothing
// of the module, so anything that needs to count tokens can.
//
// CL100K gives exactly the tokens of tiktoken's cl100k_base
// EncodeOrdinary: its pre-tokenizing regular expression is replaced by a
// hand-written scanner (with a fast path for ASCII), the token starts of
// pre-tokens of up to 16 bytes are remembered in a cache of 1.25 MiB (most
// pre-tokens of prose are a word that comes back, and a hit is one cache
// line; a long text whose pre-tokens keep missing it, such as random words,
// skips it), and its merges are done by a BPE with a bounded cache of
// merged pieces (and, for pre-tokens over 128 bytes, a backtracking
// encoder that gives the same tokens in linear time, so that a megabyte of
// letters without a space costs what a megabyte of prose does), checked
// token for token against tiktoken-go by the package's tests and fuzz
// targets, and about 13 times faster.
package tokenizer

import (
	"context"
	"sync"
)

// Tokenizer counts and splits text into model tokens.
//
// Concurrency: every method may be called concurrently.
//
// Encode(text) decoded with Decode gives text back exactly, for valid
// UTF-8. The returned slice belongs to the caller.
type Tokenizer interface {
	Encode(text string) []int
	Decode(tokens []int) string
	Count(text string) int
}

// Indexer is an optional capability of a Tokenizer: tokenize a text once,
// then count the tokens of any range of it cheaply. Chunkers use it
// through Index, which falls back to Encode for tokenizers without it.
//
// Index returns the end offset of each token of text, in order (the last
// is len(text)), and a function giving the exact number of tokens of
// text[s:e] encoded on its own (what Count(text[s:e]) returns). The
// function may be called concurrently; it keeps a reference to text.
type Indexer interface {
	Index(text string) (ends []int32, count func(s, e int) int)
}

// ContextIndexer is an optional capability of an Indexer whose indexing
// of a long text can be cancelled: IndexContext is Index, except that it
// returns ctx's error (and no index) soon after ctx is done. Chunkers use
// it through IndexContext. CL100K and Runes implement it.
type ContextIndexer interface {
	Indexer
	IndexContext(ctx context.Context, text string) (ends []int32, count func(s, e int) int, err error)
}

var cl100k = sync.OnceValues(func() (*bpeTokenizer, error) { return newBPE("cl100k_base.tiktoken", cl100kSpecial) })

// CL100K returns the cl100k_base tokenizer used by OpenAI's embedding
// models (text-embedding-3-small and -large, ada-002). It is built once per
// process, from data compiled into the binary, and shared. It implements
// Indexer and ContextIndexer.
//
// Its Encode gives exactly the tokens of tiktoken's EncodeOrdinary (special
// tokens such as "<|endoftext|>" are encoded as ordinary text). Invalid
// UTF-8 is encoded as if each invalid byte were U+FFFD.
func CL100K() Tokenizer {
	t, err := cl100k()
	if err != nil {
		// The BPE ranks are embedded in the binary; failing to parse them
		// is a build defect, not a run-time condition.
		panic("tokenizer: loading embedded cl100k_base: " + err.Error())
	}
	return t
}
