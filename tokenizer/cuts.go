package tokenizer

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

// cutEnds appends the token ends (plus off) of p, a pre-token of 2 to
// longPiece bytes, encoding the parts between its cuts one by one, and
// returns true; or, if p has no cut, returns out as it is and false. A
// part of one byte is a token, one of two is a token or two bytes, and a
// longer one goes where a pre-token of its length would.
func (t *bpeTokenizer) cutEnds(p string, off int, out []int32) ([]int32, bool) {
	k := 1
	for k < len(p) && t.joins.joins(p[k-1], p[k]) {
		k++
	}
	if k == len(p) {
		return out, false
	}
	s := 0 // the part p[s:k] ends at a cut or at the end
	for {
		switch n := k - s; {
		case n == 1:
			out = append(out, int32(off+k))
		case n == 2:
			if t.pairs[int(p[s])<<8|int(p[s+1])] < 0 {
				out = append(out, int32(off+s+1))
			}
			out = append(out, int32(off+k))
		case n <= pieceCacheMax:
			out = appendEnds(out, t.pieceStarts(p[s:k]), off+s, n)
		default:
			out = t.pieceEnds(p[s:k], off+s, out)
		}
		if k == len(p) {
			return out, true
		}
		s, k = k, k+1
		for k < len(p) && t.joins.joins(p[k-1], p[k]) {
			k++
		}
	}
}
