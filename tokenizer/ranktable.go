package tokenizer

import "hash/maphash"

// rankTable maps token bytes to ids, as bpeTokenizer.ranks does, for the
// lookups of encoding. A Go map of 100,000 strings spreads each lookup
// over a group of slots and a key stored elsewhere, several cache misses;
// here a lookup reads one 8-byte slot (rarely two) and the token's bytes
// in one string of all tokens: lookups were a quarter of the client's CPU
// time in bench/ingest's abstracts row.
//
// A slot packs, from the low bits: the token's length (8 bits, never 0, so
// a zero slot is empty), its offset in blob (22 bits), its id (17 bits)
// and the top 17 bits of the key's hash. Linear probing, at most half
// full. Read-only once built, so safe for concurrent use.
type rankTable struct {
	slots []uint64
	blob  string
	mask  uint64
	seed  maphash.Seed
}

const (
	slotLenBits = 8
	slotOffBits = 22
	slotIDBits  = 17
	slotTagBits = 64 - slotLenBits - slotOffBits - slotIDBits
)

// newRankTable builds the table of ranks, or returns false if a token
// does not fit a slot.
func newRankTable(ranks map[string]int) (*rankTable, bool) {
	size := 0
	for tok, id := range ranks {
		size += len(tok)
		if len(tok) == 0 || len(tok) >= 1<<slotLenBits || id < 0 || id >= 1<<slotIDBits {
			return nil, false
		}
	}
	if size > 1<<slotOffBits {
		return nil, false
	}
	c := 1
	for c < 2*len(ranks) {
		c <<= 1
	}
	rt := &rankTable{slots: make([]uint64, c), mask: uint64(c - 1), seed: maphash.MakeSeed()}
	blob := make([]byte, 0, size)
	for tok, id := range ranks {
		h := maphash.String(rt.seed, tok)
		slot := uint64(len(tok)) | uint64(len(blob))<<slotLenBits | uint64(id)<<(slotLenBits+slotOffBits) | (h>>(64-slotTagBits))<<(64-slotTagBits)
		blob = append(blob, tok...)
		i := h & rt.mask
		for rt.slots[i] != 0 {
			i = (i + 1) & rt.mask
		}
		rt.slots[i] = slot
	}
	rt.blob = string(blob)
	return rt, true
}

// get returns the id of token p.
func (rt *rankTable) get(p string) (int, bool) {
	h := maphash.String(rt.seed, p)
	tag := h >> (64 - slotTagBits)
	for i := h & rt.mask; ; i = (i + 1) & rt.mask {
		s := rt.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>(64-slotTagBits) == tag && int(s&(1<<slotLenBits-1)) == len(p) {
			off := int(s>>slotLenBits) & (1<<slotOffBits - 1)
			if rt.blob[off:off+len(p)] == p {
				return int(s>>(slotLenBits+slotOffBits)) & (1<<slotIDBits - 1), true
			}
		}
	}
}
