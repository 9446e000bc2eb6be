package tokenizer

// pairRanks maps two token ids to the id of the token their bytes make,
// for every pair of tokens whose bytes make a token (about 233,000 for
// cl100k): the merge loop keeps the id of each part and asks for the rank
// of two neighbours by their ids, one multiplication and a word of a
// filter that stays in cache (256 KB for cl100k) for most pairs, which
// are not in the table, instead of hashing their bytes and reading the
// rank table's slot and the token's bytes. The backtracking encoder keeps
// another, of the pairs BPE merges (newPairTable and put, while it
// builds).
//
// A slot packs, from the low bits: the left id (17 bits), the right id (17
// bits) and the merged token's id plus one (17 bits, never 0, so a zero
// slot is empty). Linear probing, at most half full. Read-only once built,
// so safe for concurrent use.
type pairRanks struct {
	slots []uint64 // len is a power of two
	shift uint     // 64 - log2(len(slots))
	// filter is a blocked Bloom filter of the keys: a key's hash h sets
	// three bits (pairFilterMask) of word h>>fshift.
	filter []uint64
	fshift uint // 64 - log2(len(filter))
	// prefix[id] is the longest token that is a proper prefix of token
	// id, or -1: found on the way, and the backtracking encoder's
	// shorter candidates.
	prefix []int32
}

const (
	pairIDBits  = 17
	pairKeyMask = 1<<(2*pairIDBits) - 1
	// pairFilterSlots is log2 of the slots a word of the filter: 8 to
	// 16 bits a pair, three of them set in one word, a false positive for
	// about 2% of the pairs not in the table (in half the room a bit a
	// pair took for 3 to 6%).
	pairFilterSlots = 4
)

// pairRankKey is the key of the pair of tokens a, b (both < 1<<pairIDBits).
func pairRankKey(a, b int32) uint64 { return uint64(a) | uint64(b)<<pairIDBits }

func pairRankHash(k uint64) uint64 { return k * 0x9e3779b97f4a7c15 }

// pairFilterMask returns the bits of a filter word that the key of hash h
// sets: from its middle bits, as its top bits choose the word and slot.
func pairFilterMask(h uint64) uint64 {
	return 1<<(h>>20&63) | 1<<(h>>26&63) | 1<<(h>>32&63)
}

// newPairRanks builds the table of every pair of tokens whose bytes make a
// token, from ranks (token bytes -> id), decoder (id -> token bytes, ""
// for unused ids and special tokens' text for theirs) and id (ranks, a
// faster look-up), or returns false if an id does not fit a slot.
//
// A token's splits are found from the tokens that are its prefixes and
// those that are its suffixes, each a chain of longest proper prefixes
// (suffixes) computed once per token: far fewer look-ups (about 400,000
// for cl100k, most of this table's cost) than asking for both halves at
// every offset of every token.
func newPairRanks(ranks map[string]int, decoder []string, id func(string) (int, bool)) (*pairRanks, bool) {
	if len(decoder) >= 1<<pairIDBits-1 {
		return nil, false
	}
	token := make([]bool, len(decoder)) // not unused, not special
	for _, c := range ranks {
		token[c] = true
	}
	const unknown = -2
	prefix := make([]int32, len(decoder)) // id -> longest token that is a proper prefix of it, or -1
	suffix := make([]int32, len(decoder)) // id -> longest token that is a proper suffix of it, or -1
	for c := range decoder {
		prefix[c], suffix[c] = unknown, unknown
	}
	longestPrefix := func(c int32) int32 {
		if prefix[c] == unknown {
			prefix[c] = -1
			s := decoder[c]
			for k := len(s) - 1; k > 0; k-- {
				if a, ok := id(s[:k]); ok {
					prefix[c] = int32(a)
					break
				}
			}
		}
		return prefix[c]
	}
	longestSuffix := func(c int32) int32 {
		if suffix[c] == unknown {
			suffix[c] = -1
			s := decoder[c]
			for k := 1; k < len(s); k++ {
				if b, ok := id(s[k:]); ok {
					suffix[c] = int32(b)
					break
				}
			}
		}
		return suffix[c]
	}
	type entry struct {
		key uint64
		c   int32
	}
	all := make([]entry, 0, 3*len(decoder))
	var sufs []int32 // the suffix tokens of a token, longest first
	for c, s := range decoder {
		if !token[c] || len(s) < 2 {
			continue // unused, a special token (which no merge makes) or a byte
		}
		sufs = sufs[:0]
		for b := longestSuffix(int32(c)); b >= 0; b = longestSuffix(b) {
			sufs = append(sufs, b)
		}
		// Prefixes longest first, so their suffixes come shortest first.
		j := len(sufs) - 1
		for a := longestPrefix(int32(c)); a >= 0 && j >= 0; a = longestPrefix(a) {
			rest := len(s) - len(decoder[a])
			for j >= 0 && len(decoder[sufs[j]]) < rest {
				j--
			}
			if j >= 0 && len(decoder[sufs[j]]) == rest {
				all = append(all, entry{pairRankKey(a, sufs[j]), int32(c)})
			}
		}
	}
	t := newPairTable(len(all))
	for _, e := range all {
		t.put(e.key, e.c)
	}
	for c := range prefix {
		if prefix[c] == unknown {
			prefix[c] = -1 // a byte, unused or special
		}
	}
	t.prefix = prefix
	return t, true
}

// newPairTable returns an empty table with room for n pairs.
func newPairTable(n int) *pairRanks {
	bits := uint(1)
	for 1<<bits < 2*n {
		bits++
	}
	fbits := max(bits, pairFilterSlots) - pairFilterSlots
	return &pairRanks{slots: make([]uint64, 1<<bits), shift: 64 - bits, filter: make([]uint64, 1<<fbits), fshift: 64 - fbits}
}

// put sets the token of the pair of key k to c (0 <= c < 1<<pairIDBits - 1).
func (t *pairRanks) put(k uint64, c int32) {
	val := uint64(c+1) << (2 * pairIDBits)
	h := pairRankHash(k)
	t.filter[h>>t.fshift] |= pairFilterMask(h)
	mask := len(t.slots) - 1
	i := int(h >> t.shift)
	for t.slots[i] != 0 && t.slots[i]&pairKeyMask != k {
		i = (i + 1) & mask
	}
	t.slots[i] = k | val
}

// slot returns the slot of key k, or 0.
func (t *pairRanks) slot(k uint64) uint64 {
	h := pairRankHash(k)
	if m := pairFilterMask(h); t.filter[h>>t.fshift]&m != m {
		return 0
	}
	mask := uint64(len(t.slots) - 1)
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 || s&pairKeyMask == k {
			return s
		}
	}
}

// get returns the id of the token that the bytes of tokens a and b make,
// or -1.
func (t *pairRanks) get(a, b int32) int32 {
	return int32(t.slot(pairRankKey(a, b))>>(2*pairIDBits)&(1<<pairIDBits-1)) - 1
}
