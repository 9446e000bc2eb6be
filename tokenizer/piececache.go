package tokenizer

import "sync/atomic"

// pieceCache remembers where the tokens of short pre-tokens start, for
// IndexContext and Count: most pre-tokens of prose are a word and a space,
// and the same few thousand of them come back again and again. A hit reads
// one 64-byte line of a table, where the rank table's lookup (hash, slot,
// token bytes: two lines of a 2 MB table and a string comparison) and the
// merge cache miss it: those were most of the tokenizer's time on prose.
//
// It holds pieces of pieceCacheMin to pieceCacheMax bytes (99% of the
// pre-tokens of SciFact's abstracts that are not looked up in arrays), in
// two tables of sets, each set one cache line. Results never depend on
// them: a hit gives what the slow path computed, a miss computes it again.
//
//   - short: pieces of up to 7 bytes, none of them 0 (most of the look-ups,
//     and the most frequent pieces), one word a piece, eight ways a set: the
//     bytes in the low 56 bits (the bytes give the length; an empty way, 0,
//     matches nothing) and a bit for each offset 1..6 where a token starts.
//     A word is read and written whole, so needs no lock.
//   - long: the others, three ways a set: a sequence word, a word of three
//     metas (a way's piece length, 0 for an empty way, and a bit for each
//     offset 1..15 where a token starts) and each piece's bytes packed
//     little-endian in two words. A set is written under a sequence lock
//     (seq odd while a writer is at it, advanced after), and a reader that
//     sees seq change or odd takes a miss, so a reader never mixes two
//     pieces' words; a writer that finds the set being written skips
//     caching.
//
// A new piece takes an empty way, else the last way of its set: the first
// pieces to reach a set keep the others, and the frequent pieces of a
// corpus are mostly among the first seen (on SciFact this kept more than
// random or direct-mapped replacement did).
type pieceCache struct {
	short []pieceLine
	long  []pieceSet
}

type pieceLine [shortWays]atomic.Uint64

type pieceSet struct {
	seq, meta atomic.Uint64
	key       [pieceWays][2]atomic.Uint64 // bytes 0-7, 8-15 of each way's piece
}

const (
	pieceCacheMin  = 3  // shorter pieces are looked up in arrays, no faster from here
	pieceCacheMax  = 16 // longest piece cached: two words of bytes
	shortMax       = 7  // longest piece of the short table
	shortWays      = 8  // ways a short set
	shortBits      = 12 // log2 of the short sets: 4,096 of 64 bytes, 256 KiB
	shortKey       = 1<<(8*shortMax) - 1
	pieceWays      = 3  // ways a long set
	pieceMetaBits  = 20 // bits of a way's meta: 5 of length, 15 of token starts
	pieceMetaMask  = 1<<pieceMetaBits - 1
	pieceCacheBits = 14 // log2 of the long sets: 16,384 of 64 bytes, 1 MiB
)

func newPieceCache() *pieceCache {
	return &pieceCache{short: make([]pieceLine, 1<<shortBits), long: make([]pieceSet, 1<<pieceCacheBits)}
}

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

// isShort reports whether the piece of n bytes packed in lo belongs to
// the short table: at most shortMax bytes, none of them 0.
func isShort(lo uint64, n int) bool {
	if n > shortMax {
		return false
	}
	x := lo | ^uint64(0)<<(8*n) // the bytes past the piece are not 0
	return (x-0x0101010101010101)&^x&0x8080808080808080 == 0
}

// starts returns the token starts (bit k-1 for offset k) of the piece of
// n bytes packed in lo, hi, if it is cached.
func (c *pieceCache) starts(lo, hi uint64, n int) (uint64, bool) {
	if isShort(lo, n) {
		l := c.line(lo)
		for w := range l {
			v := l[w].Load()
			if v&shortKey == lo {
				return v >> (8 * shortMax), true
			}
			if v == 0 {
				break // ways fill in order and are never emptied
			}
		}
		return 0, false
	}
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

func (c *pieceCache) line(lo uint64) *pieceLine {
	return &c.short[(lo*0x9e3779b97f4a7c15)>>(64-shortBits)]
}

func (c *pieceCache) set(lo, hi uint64, n int) *pieceSet {
	h := (lo ^ (hi+uint64(n))*0xff51afd7ed558ccd) * 0x9e3779b97f4a7c15
	return &c.long[h>>(64-pieceCacheBits)]
}

// put caches the token starts of the piece of n bytes packed in lo, hi,
// and reports whether it took an empty way: a miss that did was the cache
// still filling, not a sign that the text does not repeat (see cacheGate).
func (c *pieceCache) put(lo, hi uint64, n int, starts uint64) bool {
	if isShort(lo, n) {
		l := c.line(lo)
		e := lo | starts<<(8*shortMax)
		for w := range l {
			v := l[w].Load()
			if v == 0 {
				if l[w].CompareAndSwap(0, e) {
					return true
				}
				v = l[w].Load() // another goroutine filled the way
			}
			if v&shortKey == lo {
				return true // cached meanwhile by another goroutine
			}
		}
		l[shortWays-1].Store(e)
		return false
	}
	s := c.set(lo, hi, n)
	seq := s.seq.Load()
	if seq&1 != 0 || !s.seq.CompareAndSwap(seq, seq+1) {
		return true // another writer is at it
	}
	meta := s.meta.Load()
	w, fresh := pieceWays-1, false
	for k := range pieceWays {
		m := meta >> (k * pieceMetaBits) & pieceMetaMask
		if int(m&31) == n && s.key[k][0].Load() == lo && s.key[k][1].Load() == hi {
			w, fresh = -1, true // cached meanwhile by another goroutine
			break
		}
		if m == 0 {
			w, fresh = k, true
			break
		}
	}
	if w >= 0 {
		s.key[w][0].Store(lo)
		s.key[w][1].Store(hi)
		shift := w * pieceMetaBits
		s.meta.Store(meta&^(pieceMetaMask<<shift) | (uint64(n)|starts<<5)<<shift)
	}
	s.seq.Store(seq + 2)
	return fresh
}

// cacheGate turns the piece cache off, for one text, for the lengths of
// piece that keep missing it: text that never repeats (random words,
// letters mixed with digits) would otherwise pay a look-up of a line of
// the cache, likely a miss of the processor's own cache, and a fill that
// never pays off, for nearly every piece. After gateMisses misses in a row
// at one length (misses that found their set full: those that fill an
// empty way are a cache warming up) the next pieces of that length skip
// the cache, 1,024 of them, then twice as many each time (at most 64Ki),
// with a probe of the cache between. Only speed depends on it: a skipped
// piece is merged, as a miss is. The zero value is a gate that is open at
// every length, and so is nil; a gate belongs to one goroutine.
type cacheGate struct {
	skip   [pieceCacheMax + 1]int32 // pieces of the length left to skip
	misses [pieceCacheMax + 1]uint8 // misses in a row since the last hit or skip
	shift  [pieceCacheMax + 1]uint8 // log2 of the next skip over gateSkipMin
}

const (
	gateMisses     = 32
	gateSkipMin    = 1 << 10
	gateShiftLimit = 6 // the longest skip is gateSkipMin << gateShiftLimit, 64Ki pieces
)

// open reports whether a piece of n bytes should use the cache, counting
// it against a skip.
func (g *cacheGate) open(n int) bool {
	if g == nil {
		return true
	}
	if g.skip[n] > 0 {
		g.skip[n]--
		return false
	}
	return true
}

// hit records a hit of a piece of n bytes.
func (g *cacheGate) hit(n int) {
	if g != nil {
		g.misses[n] = 0
	}
}

// miss records a miss of a piece of n bytes.
func (g *cacheGate) miss(n int) {
	if g == nil {
		return
	}
	if g.misses[n]++; g.misses[n] < gateMisses {
		return
	}
	g.misses[n] = 0
	g.skip[n] = gateSkipMin << g.shift[n]
	if g.shift[n] < gateShiftLimit {
		g.shift[n]++
	}
}
