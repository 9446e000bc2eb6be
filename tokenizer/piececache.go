package tokenizer

import (
	"math/bits"
	"sync/atomic"
)

// pieceCache remembers where the tokens of short pre-tokens start, for
// IndexContext: most pre-tokens of prose are a word and a space, and the
// same few thousand of them come back again and again. A hit reads one
// slot of a 384 KiB table that stays in the CPU cache, where the rank
// table's lookup (hash, slot, token bytes) and the merge cache miss it:
// those were most of the tokenizer's time in bench/ingest's rows.
//
// A slot holds the piece's bytes packed little-endian (pieces of
// pieceCacheMin to pieceCacheMax bytes, none of them 0, so the bytes give
// the length and an empty slot matches nothing): bytes 0-7 in lo, bytes
// 8-11 in hi's low 32 bits, and above them a bit for each offset 1..11
// where a token starts. A slot is written under a sequence lock, seq odd
// while a writer is at it and advanced after, and a reader that sees seq
// change or odd takes a miss, so a reader never mixes two pieces' words;
// a writer that finds the slot being written skips caching. Direct-mapped
// by a multiplicative hash of the packed bytes; a miss overwrites the slot.
type pieceCache []pieceSlot

type pieceSlot struct{ seq, lo, hi atomic.Uint64 }

const (
	pieceCacheMin  = 3  // shorter pieces are looked up in arrays, no faster from here
	pieceCacheMax  = 12 // longest piece cached
	pieceCacheBits = 14 // log2 of the slots
	pieceHiKey     = 1<<32 - 1
)

func newPieceCache() pieceCache { return make(pieceCache, 1<<pieceCacheBits) }

// packPiece returns p's bytes packed little-endian in two words, or
// ok false if p is not cached (its length out of range, or a zero byte).
func packPiece(p string) (lo, hi uint64, ok bool) {
	if len(p) < pieceCacheMin || len(p) > pieceCacheMax {
		return 0, 0, false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == 0 {
			return 0, 0, false
		}
		if i < 8 {
			lo |= uint64(c) << (8 * i)
		} else {
			hi |= uint64(c) << (8 * (i - 8))
		}
	}
	return lo, hi, true
}

func (c pieceCache) slot(lo, hi uint64) *pieceSlot {
	return &c[((lo^hi*0xff51afd7ed558ccd)*0x9e3779b97f4a7c15)>>(64-pieceCacheBits)]
}

// ends appends the end offset (plus off) of each token of the piece of
// packed bytes lo, hi and length n, if it is cached.
func (c pieceCache) ends(lo, hi uint64, n, off int, out []int32) ([]int32, bool) {
	s := c.slot(lo, hi)
	seq := s.seq.Load()
	if seq&1 != 0 {
		return out, false
	}
	slo, shi := s.lo.Load(), s.hi.Load()
	if s.seq.Load() != seq || slo != lo || shi&pieceHiKey != hi {
		return out, false
	}
	for m := shi >> 32; m != 0; m &= m - 1 {
		out = append(out, int32(off+bits.TrailingZeros64(m)+1))
	}
	return append(out, int32(off+n)), true
}

// put caches the piece of packed bytes lo, hi whose token ends (plus off)
// are ends, the last being the piece's end.
func (c pieceCache) put(lo, hi uint64, off int, ends []int32) {
	var m uint64
	for _, e := range ends[:len(ends)-1] {
		m |= 1 << (int(e) - off - 1)
	}
	s := c.slot(lo, hi)
	seq := s.seq.Load()
	if seq&1 != 0 || !s.seq.CompareAndSwap(seq, seq+1) {
		return // another writer is at it
	}
	s.lo.Store(lo)
	s.hi.Store(hi | m<<32)
	s.seq.Store(seq + 2)
}
