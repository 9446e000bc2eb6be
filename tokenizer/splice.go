package tokenizer

import (
	"context"
	"math/bits"
)

// longRun is a long pre-token text[s:e] of an indexed text whose n
// tokens end at ends[first:first+n] of the index.
type longRun struct {
	s, e, first, n int
}

// id returns the id of r's token k, whose ends are re (the run's part of
// the index): the token's bytes are a token, so a look-up finds it, and
// the index need not keep the ids of the run beside their ends.
func (t *bpeTokenizer) runID(text string, r *longRun, re []int32, k int) int32 {
	s := r.s
	if k > 0 {
		s = int(re[k-1])
	}
	id, _ := t.tokenID(text[s:re[k]])
	return int32(id)
}

// spliceMargin is how far from a range's edges splice looks for a token
// boundary of the whole text's encoding to join at. Short: the edges are
// encoded on their own (by the merge loop, which costs about the square of
// their length, and text that never repeats misses its cache), and the
// joins are checked whatever the margin. 8 bytes rejoin as often as 32 on
// random letters and CJK, and a count of 500 to 2,000 bytes of random
// letters took 8 µs of CPU instead of 17 to 20.
const spliceMargin = 8

// spliceTries is how many boundaries splice tries at each edge before it
// gives up and encodes the range whole.
const spliceTries = 8

// splice returns the number of tokens of text[a:b], a range inside the
// long pre-token r, without encoding all of it: it encodes a short head
// text[a:x] and a short tail text[y:b], where x and y are token ends of
// r's encoding, and counts r's tokens between them. By the property the
// backtracking encoder rests on (an encoding is BPE's if and only if every
// pair of neighbouring tokens is valid) the joined encoding is exactly
// BPE's when the two pairs across the joins are valid; when no join within
// spliceTries boundaries is, it encodes text[a:b] whole.
func (t *bpeTokenizer) splice(text string, r *longRun, ends []int32, a, b int) int {
	bt := t.long()
	whole := func() int { return t.countPiece(text[a:b], nil) }
	re := ends[r.first : r.first+r.n] // token ends of r, absolute
	// kx: the token of r ending at x; r's tokens from kx+1 on are kept.
	kx := searchInt32(re, a+spliceMargin)
	// ky: the token of r ending at y; r's tokens up to ky are kept.
	ky := searchInt32(re, b-spliceMargin+1) - 1
	var hbuf, tbuf [2 * spliceMargin]int32
	var head, tail []int32
	for try := 0; ; try++ {
		if try == spliceTries || kx+1 > ky {
			return whole()
		}
		head = t.pieceIDs(text[a:re[kx]], hbuf[:0])
		if bt.validMemo(head[len(head)-1], t.runID(text, r, re, kx+1)) {
			break
		}
		kx++
	}
	for try := 0; ; try++ {
		if try == spliceTries || kx+1 > ky {
			return whole()
		}
		tail = t.pieceIDs(text[re[ky]:b], tbuf[:0])
		if bt.validMemo(t.runID(text, r, re, ky), tail[0]) {
			break
		}
		ky--
	}
	return len(head) + (ky - kx) + len(tail)
}

// pieceIDs appends the ids of the tokens of p (a pre-token or part of
// one) to ids, part by part between its cuts if it has any (cutIDs).
func (t *bpeTokenizer) pieceIDs(p string, ids []int32) []int32 {
	if mayCut(p) {
		if out, ok := t.cutIDs(p, ids); ok {
			return out
		}
	}
	return t.wholeIDs(p, ids)
}

// wholeIDs is pieceIDs without looking for cuts.
func (t *bpeTokenizer) wholeIDs(p string, ids []int32) []int32 {
	if id, ok := t.tokenID(p); ok {
		return append(ids, int32(id))
	}
	if len(p) > longPiece {
		ids, _ = t.long().encode(context.Background(), p, ids)
		return ids
	}
	if len(p) <= pieceCacheMax {
		// The starts IndexContext and Count find, through the same cache.
		s := 0
		for m := t.pieceStarts(p, nil); ; m &= m - 1 {
			e := len(p)
			if m != 0 {
				e = bits.TrailingZeros64(m) + 1
			}
			id, _ := t.tokenID(p[s:e])
			ids = append(ids, int32(id))
			if m == 0 {
				return ids
			}
			s = e
		}
	}
	var buf [64]int
	starts := t.mergeCached(p, buf[:0])
	for k, s := range starts {
		e := len(p)
		if k+1 < len(starts) {
			e = starts[k+1]
		}
		id, _ := t.table.get(p[s:e])
		ids = append(ids, int32(id))
	}
	return ids
}

// countAt returns the number of tokens of the pre-token text[a:b] of a
// range of text (a piece of the range's own pre-tokenization), through
// splice when it lies in one of the long pre-tokens runs of text.
//
// Splice pays from ranges a few margins long: a chunker's overlap of 64
// tokens, about 120 bytes of random letters, merged whole by the quadratic
// loop cost about 37 µs a count, and was most of Recursive's and Tokens'
// own time on such lines.
func (t *bpeTokenizer) countAt(text string, runs []longRun, ends []int32, a, b int) int {
	if b-a > 4*spliceMargin {
		lo, hi := 0, len(runs) // first run starting after a
		for lo < hi {
			h := int(uint(lo+hi) >> 1)
			if runs[h].s <= a {
				lo = h + 1
			} else {
				hi = h
			}
		}
		if lo > 0 && b <= runs[lo-1].e {
			return t.splice(text, &runs[lo-1], ends, a, b)
		}
	}
	if mayCut(text[a:b]) {
		if n, ok := t.cutCount(text[a:b], nil); ok {
			return n
		}
	}
	return t.countPiece(text[a:b], nil)
}
