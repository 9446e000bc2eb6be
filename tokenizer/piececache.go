package tokenizer

import "sync/atomic"

// pieceCache remembers where the tokens of short pre-tokens start, for
// IndexContext and Count: most pre-tokens of prose are a word and a space,
// and the same few thousand of them come back again and again. A hit reads
// one 64-byte line of a table that stays in the CPU's cache, where the
// rank table's lookup (hash, slot, token bytes: two lines of a 2 MB table
// and a string comparison) and the merge cache miss it: those were most of
// the tokenizer's time on prose.
//
// It holds pieces of pieceCacheMin to pieceCacheMax bytes (99% of the
// pre-tokens of SciFact's abstracts that are not looked up in arrays), in
// sets of three ways; a set is one cache line: a sequence word, a word of
// three metas (a way's piece length, 0 for an empty way, and a bit for each
// offset 1..15 where a token starts) and the three pieces' bytes, packed
// little-endian in two words. A set is written under a sequence lock (seq
// odd while a writer is at it, advanced after), and a reader that sees seq
// change or odd takes a miss, so a reader never mixes two pieces' words; a
// writer that finds the set being written skips caching. Results never
// depend on it: a hit gives what the slow path computed, a miss computes
// it again.
//
// A new piece takes an empty way, else the last way of its set: the first
// two pieces to reach a set keep it, and the frequent pieces of a corpus
// are mostly among the first seen (on SciFact this kept more than random
// or direct-mapped replacement did: 95% of those pieces hit in one pass of
// the whole corpus, 93% and 91%).
type pieceCache []pieceSet

type pieceSet struct {
	seq, meta atomic.Uint64
	key       [pieceWays][2]atomic.Uint64 // bytes 0-7, 8-15 of each way's piece
}

const (
	pieceCacheMin  = 3  // shorter pieces are looked up in arrays, no faster from here
	pieceCacheMax  = 16 // longest piece cached: two words of bytes
	pieceWays      = 3  // ways a set
	pieceMetaBits  = 20 // bits of a way's meta: 5 of length, 15 of token starts
	pieceMetaMask  = 1<<pieceMetaBits - 1
	pieceCacheBits = 13 // log2 of the sets: 8,192 sets of 64 bytes, 512 KiB
)

func newPieceCache() pieceCache { return make(pieceCache, 1<<pieceCacheBits) }

// packPiece returns p's bytes (1 <= len(p) <= 16) packed little-endian in
// two words, with overlapping loads of 4 or 8 bytes rather than byte by
// byte.
func packPiece(p string) (lo, hi uint64) {
	switch n := len(p); {
	case n >= 8:
		return le64(p), le64(p[n-8:]) >> (8 * (16 - n)) // Go: a shift by 64 gives 0
	case n >= 4:
		return uint64(le32(p)) | uint64(le32(p[n-4:]))<<(8*(n-4)), 0
	}
	for i := len(p) - 1; i >= 0; i-- {
		lo = lo<<8 | uint64(p[i])
	}
	return lo, 0
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func (c pieceCache) set(lo, hi uint64, n int) *pieceSet {
	h := (lo ^ (hi+uint64(n))*0xff51afd7ed558ccd) * 0x9e3779b97f4a7c15
	return &c[h>>(64-pieceCacheBits)]
}

// starts returns the token starts (bit k-1 for offset k) of the piece of
// n bytes packed in lo, hi, if it is cached.
func (c pieceCache) starts(lo, hi uint64, n int) (uint64, bool) {
	s := c.set(lo, hi, n)
	seq := s.seq.Load()
	meta := s.meta.Load()
	for w := range pieceWays {
		m := meta >> (w * pieceMetaBits) & pieceMetaMask
		if int(m&31) == n && s.key[w][0].Load() == lo && s.key[w][1].Load() == hi {
			if seq&1 != 0 || s.seq.Load() != seq {
				return 0, false // written meanwhile
			}
			return m >> 5, true
		}
	}
	return 0, false
}

// put caches the token starts of the piece of n bytes packed in lo, hi.
func (c pieceCache) put(lo, hi uint64, n int, starts uint64) {
	s := c.set(lo, hi, n)
	seq := s.seq.Load()
	if seq&1 != 0 || !s.seq.CompareAndSwap(seq, seq+1) {
		return // another writer is at it
	}
	meta := s.meta.Load()
	w := pieceWays - 1
	for k := range pieceWays {
		m := meta >> (k * pieceMetaBits) & pieceMetaMask
		if int(m&31) == n && s.key[k][0].Load() == lo && s.key[k][1].Load() == hi {
			w = -1 // cached meanwhile by another goroutine
			break
		}
		if m == 0 {
			w = k
			break
		}
	}
	if w < 0 {
		s.seq.Store(seq + 2)
		return
	}
	s.key[w][0].Store(lo)
	s.key[w][1].Store(hi)
	shift := w * pieceMetaBits
	s.meta.Store(meta&^(pieceMetaMask<<shift) | (uint64(n)|starts<<5)<<shift)
	s.seq.Store(seq + 2)
}
