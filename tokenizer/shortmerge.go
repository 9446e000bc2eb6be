package tokenizer

import "math/bits"

// mergeStarts is merge for a piece of 2 to pieceCacheMax bytes that is not
// itself a token, giving its token starts as pieceStarts does (bit k-1 set
// when a token starts at offset k). The parts are the set bits of a word,
// each part's id and the rank of merging it with the next part kept at its
// start offset, so that a merge clears one bit and updates two ranks where
// mergeParts moves the tails of three arrays; the least rank is still
// found by scanning every offset (a merged-away offset keeps noPair).
// Random words of 5 to 13 letters, which the piece cache cannot help,
// spend about half their time here.
func (t *bpeTokenizer) mergeStarts(p string) uint64 {
	n := len(p)
	if n < 2 || n > pieceCacheMax {
		panic("tokenizer: mergeStarts of a piece out of its lengths")
	}
	// key[i] is the rank of the pair starting at offset i, shifted left
	// by four and or-ed with i, so that the least key is the lowest rank,
	// the leftmost on ties; offsets that start no pair hold noKey.
	const noKey = ^uint32(0)
	var id [pieceCacheMax]int32
	var key [pieceCacheMax]uint32
	for i := range key {
		key[i] = noKey
	}
	for i := 0; i < n; i++ {
		id[i&(pieceCacheMax-1)] = t.bytes[p[i]]
	}
	for i := 0; i+1 < n; i++ {
		if r := t.pairs[int(p[i])<<8|int(p[i+1])]; r >= 0 {
			key[i&(pieceCacheMax-1)] = uint32(r)<<4 | uint32(i)
		}
	}
	live := uint64(1)<<n - 1 // bit i set: a part starts at offset i
	for {
		least := noKey
		for i := 0; i < n; i++ {
			least = min(least, key[i&(pieceCacheMax-1)])
		}
		if least == noKey {
			break
		}
		at := int(least & 15)
		above := live &^ (uint64(2)<<at - 1) // parts after the one at at
		next := bits.TrailingZeros64(above)  // the part merged into it
		live &^= 1 << next
		key[next&(pieceCacheMax-1)] = noKey
		id[at] = int32(least >> 4)
		key[at] = noKey
		if above &= above - 1; above != 0 {
			after := bits.TrailingZeros64(above) & (pieceCacheMax - 1)
			if r := t.pairRank.get(id[at], id[after]); r >= 0 {
				key[at] = uint32(r)<<4 | uint32(at)
			}
		}
		if below := live & (uint64(1)<<at - 1); below != 0 {
			prev := (63 - bits.LeadingZeros64(below)) & (pieceCacheMax - 1)
			key[prev] = noKey
			if r := t.pairRank.get(id[prev], id[at]); r >= 0 {
				key[prev] = uint32(r)<<4 | uint32(prev)
			}
		}
	}
	return live >> 1
}
