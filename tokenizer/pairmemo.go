package tokenizer

import (
	"slices"
	"sync/atomic"
)

// pairMemo remembers validPair's answers for pairs of short tokens (of
// one or two bytes, about 4,100 for cl100k): on random text most of the
// backtracking encoder's pairs are such (three quarters on lower-case
// letters, nearly all on mixed case), and an answer remembered is one
// read of a bitmap instead of a walk of the two tokens' merges, a few
// reads of the pair table. Two bits a pair, known and valid, set at most
// once each by whichever encoder first asks (atomically, so encoders may
// share it); 4 MB for cl100k, touched only where text asks.
type pairMemo struct {
	index []int16         // id -> index among the short tokens, or -1
	n     int             // number of short tokens
	bits  []atomic.Uint64 // pair i, j at bit 2*(i*n+j): known; the next: valid
}

// newPairMemo indexes the tokens of decoder of one or two bytes, in byte
// order, so that the pairs of a script's letters lie near each other.
func newPairMemo(decoder []string, size []int32) *pairMemo {
	var short []int32
	for id, n := range size {
		if n == 1 || n == 2 {
			short = append(short, int32(id))
		}
	}
	slices.SortFunc(short, func(a, b int32) int {
		switch {
		case decoder[a] < decoder[b]:
			return -1
		case decoder[a] > decoder[b]:
			return 1
		}
		return 0
	})
	m := &pairMemo{index: make([]int16, len(decoder)), n: len(short)}
	for id := range m.index {
		m.index[id] = -1
	}
	if len(short) >= 1<<15 {
		return m // no index fits: nothing is remembered
	}
	for i, id := range short {
		m.index[id] = int16(i)
	}
	m.bits = make([]atomic.Uint64, (2*len(short)*len(short)+63)/64)
	return m
}

// validMemo returns validPair(t1, t2), remembered when both are short.
func (b *backtrack) validMemo(t1, t2 int32) bool {
	m := b.memo
	i, j := m.index[t1], m.index[t2]
	if i < 0 || j < 0 {
		return b.validPair(t1, t2)
	}
	k := 2 * (int(i)*m.n + int(j))
	w := &m.bits[k/64]
	if v := w.Load() >> (k % 64); v&1 != 0 {
		return v&2 != 0
	}
	ok := b.validPair(t1, t2)
	set := uint64(1)
	if ok {
		set |= 2
	}
	w.Or(set << (k % 64))
	return ok
}
