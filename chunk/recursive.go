package chunk

import (
	"context"

	"github.com/ragkit-go/rag/tokenizer"
)

// Defaults shared by the chunkers.
const (
	// DefaultSize is the default chunk size, 512 tokens: small enough that
	// a chunk is about one topic (retrieval precision drops as chunks grow)
	// and that a handful fit in a prompt, large enough to hold a paragraph
	// or two of context; far below every common embedding model's input
	// limit (8,191 for OpenAI's, 512 for most BERT-sized local models).
	DefaultSize = 512
	// DefaultOverlap is the default overlap between neighbouring chunks,
	// 64 tokens (1/8 of DefaultSize): about one or two sentences, enough that
	// a fact stated across a cut is whole in at least one chunk, while
	// indexing only about 12% more text.
	DefaultOverlap = 64
)

// RecursiveOptions configures a Recursive chunker. The zero value is
// ready to use.
type RecursiveOptions struct {
	// Size is the most tokens a chunk may hold (Chunk.Tokens <= Size).
	// Zero means DefaultSize. A chunk that is a single character is never
	// split, so with a Size below that character's token count (at most 4
	// under cl100k) such a chunk exceeds Size.
	Size int
	// Overlap is the most tokens a chunk may share with the chunk before
	// it. Zero means DefaultOverlap; a negative value means no overlap.
	// It is capped at Size/2.
	Overlap int
	// Tokenizer measures sizes. Nil means tokenizer.CL100K(); use tokenizer.Runes() to size
	// chunks in characters.
	Tokenizer tokenizer.Tokenizer
	// Separators, when not nil, replaces the default separator levels
	// (blank lines, line breaks, sentence ends, white space) with cuts
	// after each of these strings, coarsest first. Cutting between tokens
	// always remains the last resort.
	Separators []string
}

// Recursive splits text at the coarsest separators that make pieces fit —
// blank lines, then line breaks, then sentence ends (". ", "! ", "? " and
// the CJK 。！？), then white space, then between tokens — and packs
// neighbouring pieces into chunks of up to Size tokens, each starting with
// up to Overlap tokens from the end of the one before, cut at a sentence
// or word boundary.
//
// Every chunk has Text == content[Start:End] with no leading or trailing
// white space (unicode.IsSpace) and Tokens == Tokenizer.Count(Text); only
// white space between chunks is left out. Cuts never fall inside a UTF-8
// character.
//
// The text is tokenized once: pieces are planned with the whole text's
// token offsets, then each chunk's own token count is taken exactly — from
// prefix sums for CL100K and Runes, re-tokenizing only the pre-tokens at
// the chunk's edges, or with Tokenizer.Count for other tokenizers — and a
// chunk that comes out over Size (tokens can merge differently at a cut)
// is split again.
//
// A Recursive is safe for concurrent use.
type Recursive struct {
	size, overlap int
	tok           tokenizer.Tokenizer
	levels        []level
}

var _ Chunker = (*Recursive)(nil)

// NewRecursive returns a Recursive chunker with the given options.
func NewRecursive(opts RecursiveOptions) *Recursive {
	r := &Recursive{size: opts.Size, overlap: opts.Overlap, tok: opts.Tokenizer}
	if r.size <= 0 {
		r.size = DefaultSize
	}
	switch {
	case r.overlap == 0:
		r.overlap = DefaultOverlap
	case r.overlap < 0:
		r.overlap = 0
	}
	if r.overlap > r.size/2 {
		r.overlap = r.size / 2
	}
	if r.tok == nil {
		r.tok = tokenizer.CL100K()
	}
	if opts.Separators != nil {
		for _, s := range opts.Separators {
			r.levels = append(r.levels, literal(s))
		}
	} else {
		r.levels = []level{paragraphs, lines, sentenceEnds, words}
	}
	return r
}

// Chunk splits text. See Chunker for the contract.
func (r *Recursive) Chunk(ctx context.Context, text string) ([]Chunk, error) {
	s, e, err := start(ctx, text)
	if err != nil || s == e {
		return nil, err
	}
	m, err := newMeasure(ctx, r.tok, text)
	if err != nil {
		return nil, err
	}
	p := &packer{ctx: ctx, m: m, size: r.size, overlap: r.overlap, levels: r.levels, cutLevels: r.levels, overlapLevels: r.levels, tokenOverlap: true}
	spans, err := p.packStream(s, e)
	if err != nil {
		return nil, err
	}
	return p.chunks(spans, nil), nil
}
