package tokenizer

import "unicode/utf8"

// Cuts: where no token can span.
//
// Two neighbouring bytes x y of a piece that are next to each other in no
// token of the vocabulary are a cut: no part the merge loop makes (each a
// token) can hold both, so no merge ever joins the parts either side, and
// BPE of the piece is BPE of the text before the cut followed by BPE of
// the text after it (the loop's picks on one side never change the pairs
// of the other, and its leftmost-on-ties rule orders each side's picks as
// that side alone would). Of the 65,536 byte pairs only about 6,600 are
// in a token of cl100k, nearly all the pairs of ASCII text among them, but
// in text of random characters most neighbouring bytes are cuts: 77% of
// the bytes of chunk's random-utf8 line are tokens by themselves that way,
// and the pieces of such text, which never repeat, would otherwise miss
// every cache and go through the merge loop.

// byteJoins is a set of byte pairs, bit x<<8|y for the pair x y.
type byteJoins [1 << 16 / 64]uint64

// newByteJoins returns the byte pairs that are neighbours in some token
// (decoder: id -> token bytes; a special token's text counts too, which
// only makes fewer cuts).
func newByteJoins(decoder []string) *byteJoins {
	j := new(byteJoins)
	for _, s := range decoder {
		for k := 0; k+1 < len(s); k++ {
			p := uint(s[k])<<8 | uint(s[k+1])
			j[p/64] |= 1 << (p % 64)
		}
	}
	return j
}

// joins reports whether some token holds the bytes x y next to each other.
func (j *byteJoins) joins(x, y byte) bool {
	p := uint(x)<<8 | uint(y)
	return j[p/64]&(1<<(p%64)) != 0
}

// mayCut reports whether p (not empty) is worth looking for cuts in: 2 to
// longPiece bytes with a multi-byte rune at an edge. Random characters'
// pieces mostly have cuts; pieces of ASCII prose (whose pairs are nearly
// all joins) are not looked at, at the cost of one test.
func mayCut(p string) bool {
	return (p[0]|p[len(p)-1]) >= utf8.RuneSelf && len(p) >= 2 && len(p) <= longPiece
}

// cutCount returns the number of tokens of p, a pre-token of 2 to
// longPiece bytes, counting the parts between its cuts one by one, and
// true; or, if p has no cut, false. Parts go through the piece cache as
// g (the caller's gate; nil: always open) allows.
func (t *bpeTokenizer) cutCount(p string, g *cacheGate) (int, bool) {
	k := t.joins.nextCut(p, 1)
	if k == len(p) {
		return 0, false
	}
	n := 0
	for s := 0; s < len(p); s, k = k, t.joins.nextCut(p, k+1) {
		switch part := p[s:k]; len(part) {
		case 1:
			n++
		case 2:
			n += 1 + int(uint32(t.pairs[int(part[0])<<8|int(part[1])])>>31) // 2 if no token
		default:
			n += t.countPiece(part, g)
		}
	}
	return n, true
}

// cutEnds appends the token ends (plus off) of p, a pre-token of 2 to
// longPiece bytes, encoding the parts between its cuts one by one, and
// returns true; or, if p has no cut, returns out as it is and false. A
// part of one byte is a token, one of two is a token or two bytes, and a
// longer one goes where a pre-token of its length would, through the
// piece cache as g (nil: always open) allows.
func (t *bpeTokenizer) cutEnds(p string, off int, out []int32, g *cacheGate) ([]int32, bool) {
	k := t.joins.nextCut(p, 1)
	if k == len(p) {
		return out, false
	}
	for s := 0; s < len(p); s, k = k, t.joins.nextCut(p, k+1) {
		switch n := k - s; {
		case n == 1:
		case n == 2:
			if t.pairs[int(p[s])<<8|int(p[s+1])] < 0 {
				out = append(out, int32(off+s+1))
			}
		case n <= pieceCacheMax:
			out = appendEnds(out, t.pieceStarts(p[s:k], g), off+s, n)
			continue
		default:
			out = t.pieceEnds(p[s:k], off+s, out)
			continue
		}
		out = append(out, int32(off+k))
	}
	return out, true
}

// cutIDs appends the ids of the tokens of p, a pre-token of 2 to
// longPiece bytes, encoding the parts between its cuts one by one, and
// returns true; or, if p has no cut, returns ids as it is and false.
func (t *bpeTokenizer) cutIDs(p string, ids []int32) ([]int32, bool) {
	k := t.joins.nextCut(p, 1)
	if k == len(p) {
		return ids, false
	}
	for s := 0; s < len(p); s, k = k, t.joins.nextCut(p, k+1) {
		switch k - s {
		case 1:
			ids = append(ids, t.bytes[p[s]])
		case 2:
			if id := t.pairs[int(p[s])<<8|int(p[s+1])]; id >= 0 {
				ids = append(ids, id)
			} else {
				ids = append(ids, t.bytes[p[s]], t.bytes[p[s+1]])
			}
		default:
			ids = t.wholeIDs(p[s:k], ids)
		}
	}
	return ids, true
}

// nextCut returns the first cut of p at k or after (between p[k-1] and
// p[k]), or len(p) if there is none.
func (j *byteJoins) nextCut(p string, k int) int {
	for k < len(p) && j.joins(p[k-1], p[k]) {
		k++
	}
	return k
}
