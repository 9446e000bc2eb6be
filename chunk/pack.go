package chunk

import (
	"cmp"
	"context"
	"slices"
	"unicode/utf8"

	"github.com/ragkit-go/rag/tokenizer"
)

// span is a byte range [s, e) of the text.
type span struct{ s, e int }

// packer holds the state of one Chunk call shared by the chunkers that
// split and pack: Recursive, Markdown, Sentence (and Semantic, which
// splits and packs in steps of its own).
//
// Splitting and packing stream: split hands each piece to the packer as
// it makes it, and the packer turns pieces into chunks as soon as no
// later piece can change them, forgetting the pieces behind the last
// chunk. So the memory of a Chunk call is its chunks and a window of
// pieces, not one piece per word of the text (a line of a million words
// has a million pieces).
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
	levels    []level // where split cuts oversized pieces, coarsest first
	cutLevels []level // where emit cuts a chunk over size, coarsest first
	// cutAtPieces makes emit cut a chunk over size between the pieces
	// first.
	cutAtPieces bool
	// overlapLevels are where an overlap may start, preferred first; with
	// none, overlaps start at piece starts. tokenOverlap allows starting
	// between tokens when no level has a cut.
	overlapLevels []level
	tokenOverlap  bool
	cuts          []int   // scratch
	levelCuts     [][]int // scratch of split, one a level
	counts        []int   // exact token count of each chunk in out

	// The packing state. leaves are the pieces split has made that packing
	// may still look at; leaves[next:] are not yet in a chunk. start is
	// where the next chunk starts (-1: at leaves[next].s). pending says that
	// the overlap of last (after floor, the end of the chunk before it)
	// is still to be found. out are the chunks so far.
	stream bool // split feeds the packer (else it only collects leaves)
	// join makes split join each piece to the one before, from
	// leaves[joinFrom] on, while the two fit the plan by approx.
	join        bool
	joinFrom    int
	leaves      []span
	next        int
	start       int
	pending     bool
	last        span
	floor       int
	out         []span
	packAgainAt int // len(leaves) at which split packs again
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

// cutBatch is how many cuts of one level split takes at a time.
const cutBatch = 256

// packBatch is how many unpacked pieces split collects before it packs.
const packBatch = 1024

// split adds pieces covering text[s:e] in order, each at most size tokens
// by approx, cut at the coarsest level from lvl on that has cuts, and
// between tokens as a last resort. It stops early, leaving p.err set,
// when the context is done.
func (p *packer) split(s, e, lvl int) {
	if p.stopped() {
		return
	}
	if p.m.approx(s, e) <= p.plan() {
		p.addLeaf(span{s, e})
		return
	}
	if len(p.levelCuts) < len(p.levels) {
		p.levelCuts = make([][]int, len(p.levels))
	}
	for ; lvl < len(p.levels); lvl++ {
		// The level's cuts, a batch at a time (a deeper level, splitting a
		// piece between them, uses its own buffer).
		cuts := p.levels[lvl](p.m.text, s, s, e, p.levelCuts[lvl][:0], cutBatch)
		if len(cuts) == 0 {
			continue
		}
		prev := s
		for len(cuts) > 0 {
			for _, c := range cuts {
				p.split(prev, c, lvl+1)
				prev = c
			}
			if len(cuts) < cutBatch || p.err != nil {
				break
			}
			cuts = p.levels[lvl](p.m.text, s, prev, e, cuts[:0], cutBatch)
		}
		p.levelCuts[lvl] = cuts[:0]
		p.split(prev, e, lvl+1)
		return
	}
	p.tokenPieces(s, e)
}

// tokenPieces cuts text[s:e] between tokens (at character boundaries) into
// pieces of a few tokens each, fine enough for overlap.
func (p *packer) tokenPieces(s, e int) {
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
			return
		}
		n++
		if n < g {
			continue
		}
		c := runeStart(m.text, int(m.ends[t]))
		if c > prev {
			p.addLeaf(span{prev, c})
			prev = c
			n = 0
		}
	}
	p.addLeaf(span{prev, e})
}

// addLeaf adds a piece; when streaming, it packs once enough pieces wait.
func (p *packer) addLeaf(l span) {
	if n := len(p.leaves); p.join && n > p.joinFrom && (l.e <= p.leaves[n-1].s || l.e <= p.m.reach(p.leaves[n-1].s, p.plan())) {
		p.leaves[n-1].e = l.e
		return
	}
	p.leaves = append(p.leaves, l)
	if p.stream && len(p.leaves) >= p.packAgainAt && p.err == nil {
		p.packSome(false)
		// Pack again after another batch, or after as many pieces as wait
		// now if more (a chunk not yet decided spans them all), so that
		// packing looks at each piece a bounded number of times.
		p.packAgainAt = len(p.leaves) + max(packBatch, len(p.leaves)-p.next)
	}
}

// packStream splits text[s:e] and packs its pieces into chunk spans as
// it goes; see pack for what the spans are.
func (p *packer) packStream(s, e int) ([]span, error) {
	p.begin(true)
	p.split(s, e, 0)
	return p.finish()
}

// begin starts packing a new run of pieces, with no chunk yet.
func (p *packer) begin(stream bool) {
	p.stream, p.leaves, p.next, p.start, p.pending = stream, p.leaves[:0], 0, -1, false
	p.out, p.counts = nil, nil
	p.packAgainAt = packBatch
}

// finish packs the pieces that are left and returns the chunk spans.
func (p *packer) finish() ([]span, error) {
	if p.err == nil {
		p.packSome(true)
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.out, nil
}

// pack merges pieces into chunk spans (trimmed, non-empty, each at most
// size tokens by exact count), with overlap. It sets p.counts. It fails
// with the context's error when the context is done (or was found done
// by split). It does not modify leaves.
func (p *packer) pack(leaves []span) ([]span, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.begin(false)
	p.leaves = leaves
	spans, err := p.finish()
	p.leaves = nil // not ours to reuse
	return spans, err
}

// packSome packs p.leaves[p.next:] into chunks, appended to p.out, as far
// as the pieces go: until the end when final, else until the chunk that
// later pieces could still make longer. Each chunk takes the pieces from
// its start while they fit the plan by approx; the next chunk starts
// where overlapStart says, or at the next piece. When streaming it then
// drops the pieces before the last chunk, which nothing looks at again.
func (p *packer) packSome(final bool) {
	m, text := p.m, p.m.text
	for p.next < len(p.leaves) {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			return
		}
		i := p.next
		if p.pending {
			// The overlap of the chunk before, now that the piece after it
			// is known.
			p.pending, p.start = false, -1
			if o := p.overlapStart(p.last, p.floor, p.leaves[:i], p.leaves[i].e); o >= 0 {
				p.start = o
			}
		}
		start := p.start
		if start < 0 {
			start = p.leaves[i].s
		}
		j := i
		ts, te := trim(text, start, p.leaves[i].e)
		reach := m.reach(ts, p.plan()) // the pieces ending by reach fit
		for j+1 < len(p.leaves) {
			_, ne := trim(text, start, p.leaves[j+1].e)
			if ne > ts && ne > reach {
				break
			}
			j++
			te = ne
		}
		if j+1 == len(p.leaves) && !final {
			return // pieces to come may join this chunk
		}
		p.next = j + 1
		p.start = -1
		if ts == te {
			continue
		}
		before := len(p.out)
		p.emit(ts, te)
		if p.err != nil {
			return
		}
		if len(p.out) == before {
			continue
		}
		p.last = p.out[len(p.out)-1]
		p.floor = 0 // end of the chunk before last
		if len(p.out) > 1 {
			p.floor = p.out[len(p.out)-2].e
		}
		p.pending = p.overlap > 0
		if p.stream {
			p.forget()
		}
	}
}

// forget drops the pieces that end at or before the last chunk's start,
// when they are at least half of those held: overlapStart looks back only
// at pieces of the last chunk, and emit cuts between pieces of the chunk
// it emits.
func (p *packer) forget() {
	k, _ := slices.BinarySearchFunc(p.leaves[:p.next], p.last.s+1, func(l span, t int) int { return cmp.Compare(l.e, t) })
	if 2*k < len(p.leaves) {
		return
	}
	n := copy(p.leaves, p.leaves[k:])
	p.leaves = p.leaves[:n]
	p.next -= k
}

// emit appends text[s:e] to p.out if its exact count fits, or else splits
// it in two at the best cut near its middle and emits both halves. It
// stops early, leaving p.err set, when the context is done.
func (p *packer) emit(s, e int) {
	if p.stopped() {
		return
	}
	s, e = trim(p.m.text, s, e)
	if s == e {
		return
	}
	n := p.count(s, e)
	if n <= p.size {
		p.counts = append(p.counts, n)
		p.out = append(p.out, span{s, e})
		return
	}
	c := p.middleCut(s, e)
	if c <= s || c >= e {
		// A single character: nothing to cut.
		p.counts = append(p.counts, n)
		p.out = append(p.out, span{s, e})
		return
	}
	p.emit(s, c)
	p.emit(c, e)
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
// piece boundaries (with cutAtPieces), then coarse levels, when they fall
// in the middle half.
func (p *packer) middleCut(s, e int) int {
	mid := s + (e-s)/2
	lo, hi := s+(e-s)/4, e-(e-s)/4
	best := -1
	if p.cutAtPieces {
		k, _ := slices.BinarySearchFunc(p.leaves, s+1, func(a span, t int) int { return cmp.Compare(a.s, t) })
		for ; k < len(p.leaves) && p.leaves[k].s < e; k++ {
			if c := p.leaves[k].s; best < 0 || abs(c-mid) < abs(best-mid) {
				best = c
			}
		}
		if best >= lo && best <= hi {
			return best
		}
	}
	for _, lv := range p.cutLevels {
		p.cuts = allCuts(lv, p.m.text, s, e, p.cuts[:0])
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
		p.cuts = allCuts(lv, m.text, from, last.e, p.cuts[:0])
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
	// The cheap test first: the next piece must still fit by approx.
	if ns, ne := trim(m.text, o, next); m.approx(ns, ne) > p.plan() {
		return -1
	}
	if os, oe := trim(m.text, o, last.e); os == oe || m.exact(os, oe) > p.overlap {
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
