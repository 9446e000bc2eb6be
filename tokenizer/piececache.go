package tokenizer

import (
	"math/bits"
	"sync/atomic"
)

// pieceCache remembers where the tokens of short pre-tokens start, for
// IndexContext: most pre-tokens of prose are a short word and a space,
// and the same few thousand of them come back again and again. A hit is
// one 8-byte load from a 64 KiB table that stays in the cache, where the
// rank table's lookup (hash, slot, token bytes) misses it: those lookups
// were most of the tokenizer's time in bench/ingest's rows.
//
// A slot is one word, so it is read and written whole, without locks: the
// piece's bytes packed little-endian in the low 56 bits (pieces of 1 to
// pieceCacheBytes bytes, none of them 0, so the bytes give the length and
// an empty slot matches nothing) and, above them, a bit for each offset
// 1..6 where a token starts. The value depends only on the piece, so a
// slot overwritten by another goroutine is still right for its piece.
// Direct-mapped by a multiplicative hash of the packed bytes; a miss
// overwrites the slot.
type pieceCache []atomic.Uint64

const (
	pieceCacheBytes = 7         // longest piece cached
	pieceCacheBits  = 13        // log2 of the slots
	pieceKeyMask    = 1<<56 - 1 // the packed bytes of a slot
)

func newPieceCache() pieceCache { return make(pieceCache, 1<<pieceCacheBits) }

// packPiece returns p's bytes packed little-endian, or 0 if p cannot be
// cached (longer than pieceCacheBytes, or holding a zero byte).
func packPiece(p string) uint64 {
	if len(p) > pieceCacheBytes {
		return 0
	}
	var k uint64
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == 0 {
			return 0
		}
		k |= uint64(c) << (8 * i)
	}
	return k
}

func (c pieceCache) slot(k uint64) *atomic.Uint64 {
	return &c[(k*0x9e3779b97f4a7c15)>>(64-pieceCacheBits)]
}

// ends appends the end offset (plus off) of each token of the piece of
// packed bytes k and length n, if it is cached.
func (c pieceCache) ends(k uint64, n, off int, out []int32) ([]int32, bool) {
	v := c.slot(k).Load()
	if v&pieceKeyMask != k {
		return out, false
	}
	for m := v >> 56; m != 0; m &= m - 1 {
		out = append(out, int32(off+bits.TrailingZeros64(m)+1))
	}
	return append(out, int32(off+n)), true
}

// put caches the piece of packed bytes k whose token ends (plus off) are
// ends, the last being the piece's end.
func (c pieceCache) put(k uint64, off int, ends []int32) {
	var m uint64
	for _, e := range ends[:len(ends)-1] {
		m |= 1 << (int(e) - off - 1)
	}
	c.slot(k).Store(k | m<<56)
}
