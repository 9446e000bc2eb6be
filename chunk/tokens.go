package chunk

import (
	"context"

	"github.com/ragkit-go/rag/tokenizer"
)

// TokensOptions configures a Tokens chunker. The zero value is ready to
// use.
type TokensOptions struct {
	// Size is the most tokens a chunk may hold. Zero means DefaultSize.
	Size int
	// Overlap is the number of tokens each window shares with the one
	// before. Zero means DefaultOverlap; negative means none. It is capped
	// at Size/2.
	Overlap int
	// Tokenizer measures sizes. Nil means tokenizer.CL100K().
	Tokenizer tokenizer.Tokenizer
}

// Tokens cuts text into fixed windows of Size tokens, each starting
// Overlap tokens before the end of the one before, with no regard for
// words or sentences. It is the baseline the other chunkers improve on,
// and the right choice for text without structure (logs, code, unspaced
// scripts) when every chunk should be as full as possible.
//
// Windows are cut between tokens of the whole text's encoding, moved back
// to a character boundary when a token ends inside a UTF-8 character. A
// window whose text, encoded on its own, holds more than Size tokens is
// shortened by a token until it fits. Chunks are trimmed of surrounding
// white space (unicode.IsSpace), so Text == content[Start:End] and a
// window of only white space gives no chunk; Tokens == Tokenizer.Count(Text).
//
// A Tokens is safe for concurrent use.
type Tokens struct {
	size, overlap int
	tok           tokenizer.Tokenizer
}

var _ Chunker = (*Tokens)(nil)

// NewTokens returns a Tokens chunker with the given options.
func NewTokens(opts TokensOptions) *Tokens {
	size, overlap := sizes(opts.Size, opts.Overlap, DefaultOverlap)
	t := &Tokens{size: size, overlap: overlap, tok: opts.Tokenizer}
	if t.tok == nil {
		t.tok = tokenizer.CL100K()
	}
	return t
}

// sizes applies the defaults and caps shared by the chunkers' options.
func sizes(size, overlap, defOverlap int) (int, int) {
	if size <= 0 {
		size = DefaultSize
	}
	switch {
	case overlap == 0:
		overlap = defOverlap
	case overlap < 0:
		overlap = 0
	}
	return size, min(overlap, size/2)
}

// Chunk splits text. See Chunker for the contract.
func (t *Tokens) Chunk(ctx context.Context, text string) ([]Chunk, error) {
	if s, e, err := start(ctx, text); err != nil || s == e {
		return nil, err
	}
	m, err := newMeasure(ctx, t.tok, text)
	if err != nil {
		return nil, err
	}
	p := &packer{ctx: ctx, m: m, size: t.size}
	n := len(m.ends)
	// bound returns the cut before token k, at a character boundary.
	bound := func(k int) int {
		switch {
		case k <= 0:
			return 0
		case k >= n:
			return len(text)
		}
		return runeStart(text, int(m.ends[k-1]))
	}
	prevStart, prevEnd := -1, -1
	for i := 0; i < n; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i < n-1 && bound(i) <= prevStart {
			i++ // each chunk starts after the one before
		}
		j := min(i+t.size, n)
		s := bound(i)
		for j < n && bound(j) <= s {
			j++ // the window ends inside the character it starts in
		}
		var ts, te int
		for {
			ts, te = trim(text, s, bound(j))
			if m.exact(ts, te) <= t.size || j <= i+1 || bound(j-1) <= s {
				break
			}
			j--
		}
		if ts < te && prevEnd > ts && m.exact(ts, prevEnd) > t.overlap {
			// Rounding to characters made the overlap too long: drop it.
			ts, te = trim(text, prevEnd, te)
		}
		if ts < te {
			p.emit(ts, te) // splits only a one-token window that is still too long
			if p.err != nil {
				return nil, p.err
			}
			prevStart, prevEnd = p.out[len(p.out)-1].s, p.out[len(p.out)-1].e
		}
		if j >= n {
			break
		}
		i = max(i+1, j-t.overlap)
	}
	return p.chunks(p.out, nil), nil
}
