package tokenizer

// tokenFilter is a Bloom filter of the tokens of pieceCacheMin to
// pieceCacheMax bytes, by their packed bytes (packPiece): most pieces of
// text that never repeats (random words of five letters or more) are not
// tokens, and the filter says so from one word of a 256 KiB table, where
// the rank table hashes the piece and reads a slot of its 2 MiB, most
// likely a miss of the processor's cache. A piece it lets through is
// looked up in the rank table as before (about 0.5% of the pieces that are
// not tokens). Blocked: a key sets filterHashes bits of one word. Read-only
// once built, so safe for concurrent use.
type tokenFilter struct {
	words []uint64
}

const (
	filterBits   = 15 // log2 of the words: 32Ki words, 256 KiB, about 3 of cl100k's tokens a word
	filterHashes = 3  // bits a key sets in its word
)

// newTokenFilter returns an empty filter.
func newTokenFilter() *tokenFilter {
	return &tokenFilter{words: make([]uint64, 1<<filterBits)}
}

// add adds tok, a token of pieceCacheMin to pieceCacheMax bytes.
func (f *tokenFilter) add(tok string) {
	lo, hi := packPiece(tok)
	w, m := filterKey(lo, hi, len(tok))
	f.words[w] |= m
}

// filterKey returns the word and the bits of the piece of n bytes packed
// in lo, hi: the word from the top bits of a multiplicative hash, the bits
// from the middle ones (the low bits of a product mix little).
func filterKey(lo, hi uint64, n int) (int, uint64) {
	h := (lo*0xc2b2ae3d27d4eb4f ^ (hi+uint64(n))*0xff51afd7ed558ccd) * 0x9e3779b97f4a7c15
	m := uint64(1)<<(h>>20&63) | uint64(1)<<(h>>26&63) | uint64(1)<<(h>>32&63)
	return int(h >> (64 - filterBits)), m
}

// mayBeToken reports whether the piece of n bytes (pieceCacheMin to
// pieceCacheMax) packed in lo, hi may be a token: false means it is not.
func (f *tokenFilter) mayBeToken(lo, hi uint64, n int) bool {
	w, m := filterKey(lo, hi, n)
	return f.words[w]&m == m
}
