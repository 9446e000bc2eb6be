package chunk

import (
	"cmp"
	"context"
	"slices"
	"unicode/utf8"

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

// span is a byte range [s, e) of the text.
type span struct{ s, e int }

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
	p := &packer{ctx: ctx, m: m, size: r.size, overlap: r.overlap, levels: r.levels, overlapLevels: r.levels, tokenOverlap: true}
	spans, err := p.pack(p.split(s, e, 0, nil))
	if err != nil {
		return nil, err
	}
	return p.chunks(spans, nil), nil
}

// packer holds the state of one Chunk call shared by the chunkers that
// split and pack: Recursive, Markdown and Sentence.
type packer struct {
	// ctx is the Chunk call's context; err is its error once seen, after
	// which split and emit return at once and pack fails with it.
	ctx           context.Context
	err           error
	ticks         int
	m             *measure
	size, overlap int
	// budget is the size pieces are planned to (size when 0); prefix,
	// counted with tok, is prepended to every chunk's text (Markdown's
	// heading path) and counts towards size.
	budget    int
	prefix    string
	tok       tokenizer.Tokenizer
	pieceCuts []span  // when set, a chunk over size is cut between these first
	levels    []level // where oversized pieces are cut, coarsest first
	// overlapLevels are where an overlap may start, preferred first; with
	// none, overlaps start at piece starts. tokenOverlap allows starting
	// between tokens when no level has a cut.
	overlapLevels []level
	tokenOverlap  bool
	cuts          []int // scratch
	counts        []int // exact token count of each span returned by pack
}

// checkEvery is how many calls of stopped pass between looks at the
// context: each call stands for a piece or a few thousand tokens of work.
const checkEvery = 64

// stopped reports whether the Chunk call's context is done (setting
// p.err), looking at it every checkEvery calls: chunkers call it for every
// piece they make, so that a cancelled call returns within milliseconds
// even on a text that is one huge piece.
func (p *packer) stopped() bool {
	if p.err != nil {
		return true
	}
	if p.ticks++; p.ticks%checkEvery != 0 {
		return false
	}
	p.err = p.ctx.Err()
	return p.err != nil
}

// split appends to out pieces covering text[s:e] in order, each at most
// size tokens by approx, cut at the coarsest level from lvl on that has
// cuts, and between tokens as a last resort. It stops early, leaving
// p.err set, when the context is done.
func (p *packer) split(s, e, lvl int, out []span) []span {
	if p.stopped() {
		return out
	}
	if p.m.approx(s, e) <= p.plan() {
		return append(out, span{s, e})
	}
	for ; lvl < len(p.levels); lvl++ {
		cuts := p.levels[lvl](p.m.text, s, e, nil)
		if len(cuts) == 0 {
			continue
		}
		prev := s
		for _, c := range cuts {
			out = p.split(prev, c, lvl+1, out)
			prev = c
		}
		return p.split(prev, e, lvl+1, out)
	}
	return p.tokenPieces(s, e, out)
}

// tokenPieces cuts text[s:e] between tokens (at character boundaries) into
// pieces of a few tokens each, fine enough for overlap.
func (p *packer) tokenPieces(s, e int, out []span) []span {
	g := p.overlap / 4
	if g < 1 {
		g = p.plan()
	}
	if g > p.plan() {
		g = p.plan()
	}
	m := p.m
	t := m.tokenIndex(s)
	prev := s
	n := 0
	for ; t < len(m.ends) && int(m.ends[t]) < e; t++ {
		if t%checkEvery == 0 && p.stopped() {
			return out
		}
		n++
		if n < g {
			continue
		}
		c := runeStart(m.text, int(m.ends[t]))
		if c > prev {
			out = append(out, span{prev, c})
			prev = c
			n = 0
		}
	}
	return append(out, span{prev, e})
}

// pack merges pieces into chunk spans (trimmed, non-empty, each at most
// size tokens by exact count), with overlap. It sets p.counts. It fails
// with the context's error when the context is done (or was found done
// by split).
func (p *packer) pack(leaves []span) ([]span, error) {
	if p.err != nil {
		return nil, p.err
	}
	m, text := p.m, p.m.text
	var out []span
	p.counts = p.counts[:0]
	i := 0
	start := -1
	for i < len(leaves) {
		if err := p.ctx.Err(); err != nil {
			return nil, err
		}
		if start < 0 {
			start = leaves[i].s
		}
		j := i
		ts, te := trim(text, start, leaves[i].e)
		for j+1 < len(leaves) {
			_, ne := trim(text, start, leaves[j+1].e)
			if m.approx(ts, ne) > p.plan() {
				break
			}
			j++
			te = ne
		}
		i = j + 1
		if ts == te {
			start = -1
			continue
		}
		before := len(out)
		out = p.emit(ts, te, out)
		if p.err != nil {
			return nil, p.err
		}
		if len(out) == before {
			start = -1
			continue
		}
		last := out[len(out)-1]
		floor := 0 // end of the chunk before last
		if len(out) > 1 {
			floor = out[len(out)-2].e
		}
		start = -1
		if i < len(leaves) && p.overlap > 0 {
			if o := p.overlapStart(last, floor, leaves[:i], leaves[i].e); o >= 0 {
				start = o
			}
		}
	}
	return out, nil
}

// emit appends text[s:e] to out if its exact count fits, or else splits it
// in two at the best cut near its middle and emits both halves. It stops
// early, leaving p.err set, when the context is done.
func (p *packer) emit(s, e int, out []span) []span {
	if p.stopped() {
		return out
	}
	s, e = trim(p.m.text, s, e)
	if s == e {
		return out
	}
	n := p.count(s, e)
	if n <= p.size {
		p.counts = append(p.counts, n)
		return append(out, span{s, e})
	}
	c := p.middleCut(s, e)
	if c <= s || c >= e {
		// A single character: nothing to cut.
		p.counts = append(p.counts, n)
		return append(out, span{s, e})
	}
	out = p.emit(s, c, out)
	return p.emit(c, e, out)
}

// plan is the size pieces are planned to.
func (p *packer) plan() int {
	if p.budget > 0 {
		return p.budget
	}
	return p.size
}

// count is the exact token count of a chunk of text[s:e], prefix included.
func (p *packer) count(s, e int) int {
	if p.prefix != "" {
		return p.tok.Count(p.prefix + p.m.text[s:e])
	}
	return p.m.exact(s, e)
}

// middleCut returns the cut of text[s:e] nearest its middle, preferring
// piece boundaries, then coarse levels, when they fall in the middle half.
func (p *packer) middleCut(s, e int) int {
	mid := s + (e-s)/2
	lo, hi := s+(e-s)/4, e-(e-s)/4
	best := -1
	k, _ := slices.BinarySearchFunc(p.pieceCuts, s+1, func(a span, t int) int { return cmp.Compare(a.s, t) })
	for ; k < len(p.pieceCuts) && p.pieceCuts[k].s < e; k++ {
		if c := p.pieceCuts[k].s; best < 0 || abs(c-mid) < abs(best-mid) {
			best = c
		}
	}
	if best >= lo && best <= hi {
		return best
	}
	for _, lv := range p.levels {
		p.cuts = lv(p.m.text, s, e, p.cuts[:0])
		for _, c := range p.cuts {
			if best < 0 || abs(c-mid) < abs(best-mid) {
				best = c
			}
		}
		if best >= lo && best <= hi {
			return best
		}
	}
	if best > s {
		return best
	}
	// Between tokens, at a character boundary.
	m := p.m
	t := m.tokenIndex(mid)
	for _, d := range []int{0, -1, 1, -2, 2} {
		if k := t + d; k >= 0 && k < len(m.ends) {
			if c := runeStart(m.text, int(m.ends[k])); c > s && c < e {
				return c
			}
		}
	}
	c := runeStart(m.text, mid)
	if c <= s {
		_, n := utf8.DecodeRuneInString(m.text[s:])
		c = s + n
	}
	return c
}

// overlapStart returns where the next chunk should start so that it
// repeats at most overlap tokens of the end of last, cut at the coarsest
// boundary available, or -1 for no overlap. The overlap never reaches
// back before floor (the end of the chunk before last), so no text is in
// more than two chunks, and next (the end of the next piece) must still fit.
// done are the pieces packed so far.
func (p *packer) overlapStart(last span, floor int, done []span, next int) int {
	m := p.m
	t := m.tokenIndex(last.e) - p.overlap
	if t < 0 {
		t = 0
	}
	lb := last.s + 1
	if t < len(m.ends) && int(m.ends[t]) > lb {
		lb = int(m.ends[t])
	}
	if floor > lb {
		lb = floor
	}
	if lb >= last.e {
		return -1
	}
	o := -1
	// Scan from a little before lb: a cut depends on what precedes it
	// (the white space before a word, the period before a space).
	from := max(last.s, lb-64)
	for _, lv := range p.overlapLevels {
		p.cuts = lv(m.text, from, last.e, p.cuts[:0])
		for _, c := range p.cuts {
			if c >= lb {
				o = c
				break
			}
		}
		if o >= 0 {
			break
		}
	}
	if p.overlapLevels == nil {
		// The first piece start in [lb, last.e).
		k := len(done)
		for k > 0 && done[k-1].s >= lb {
			k--
		}
		if k < len(done) {
			o = done[k].s
		}
	}
	if o < 0 && p.tokenOverlap {
		// No separator: between tokens (long words, unspaced scripts).
		o = lb
		for o < last.e && !utf8.RuneStart(m.text[o]) {
			o++
		}
	}
	if o <= last.s || o >= last.e {
		return -1
	}
	os, oe := trim(m.text, o, last.e)
	if os == oe || m.exact(os, oe) > p.overlap {
		return -1
	}
	if ns, ne := trim(m.text, o, next); m.approx(ns, ne) > p.plan() {
		return -1
	}
	return o
}

// chunks turns spans with their counts (p.counts) into Chunks.
func (p *packer) chunks(spans []span, headings []string) []Chunk {
	out := make([]Chunk, len(spans))
	for i, sp := range spans {
		out[i] = Chunk{Text: p.m.text[sp.s:sp.e], Index: i, Start: sp.s, End: sp.e, Tokens: p.counts[i], Headings: headings}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
