package tokenizer

import (
	"context"
	"slices"
)

// backtrack is a linear-time encoder for long pre-tokens that gives exactly
// the tokens of BPE's merge loop, after github/rust-gems' bpe crate (MIT):
// an encoding is BPE's own if and only if every pair of neighbouring
// tokens is one BPE would leave as it is when given the pair's bytes alone
// (validPair), so the encoder takes the longest token at each position
// and backs off to shorter ones when the pair with the previous token is
// not valid, remembering the positions from which no valid encoding
// continues. Its cost is about linear in the piece, where the merge loop
// on one huge pre-token (a line of letters without white space, which
// cl100k's pre-tokenizer keeps in one piece) runs a heap of its length.
//
// Token ids are BPE ranks: a token of lower rank was merged earlier.
type backtrack struct {
	trie       []trieNode
	edges      []trieEdge
	dense      [][256]int32 // children by byte of the trie nodes with many
	size       []int32      // id -> length in bytes (0 for unused ids)
	nextPrefix []int32      // id -> longest token that is a proper prefix of it, or -1
	split      [][2]int32   // id -> the two tokens BPE merges into it ({id, id} for a byte)
	pairs      pairTable    // left, right -> the token they merge into, for every split
}

// trieNode is a node of the trie of all tokens: token is the id of the
// token spelled by the path to it, or -1; its edges are
// backtrack.edges[first:first+n], sorted by byte, and a node with more
// than denseEdges of them has a row of backtrack.dense instead.
type trieNode struct {
	token int32
	dense int32 // index in backtrack.dense, or -1
	first int32
	n     int32
}

type trieEdge struct {
	b     byte
	child int32
}

// denseEdges is the most edges a trie node has without a dense row: the
// few nodes with more (about 4,400 for cl100k, 4 MB) are the ones near
// the root, visited for every token.
const denseEdges = 4

// child returns the child of node n by byte c, or -1.
func (b *backtrack) child(n int32, c byte) int32 {
	node := &b.trie[n]
	if node.dense >= 0 {
		return b.dense[node.dense][c]
	}
	for _, x := range b.edges[node.first : node.first+node.n] {
		if x.b == c {
			return x.child
		}
	}
	return -1
}

// pairTable maps a pair of token ids to an id: an open-addressing hash
// table, several times faster than a Go map on the encoder's hot path,
// behind a one-bit-per-key filter small enough to stay in cache (256 KB),
// since most pairs asked for are not in it.
type pairTable struct {
	slots  []pairSlot // len is a power of two
	shift  uint
	filter []uint64 // bit h>>(64-filterBits) set for every key's hash h
}

const filterBits = 21

type pairSlot struct {
	key uint64 // pairKey, or emptyPair
	val int32
}

const emptyPair = ^uint64(0)

func newPairTable(n int) pairTable {
	bits := uint(1)
	for 1<<bits < 2*n {
		bits++
	}
	t := pairTable{slots: make([]pairSlot, 1<<bits), shift: 64 - bits, filter: make([]uint64, 1<<filterBits/64)}
	for i := range t.slots {
		t.slots[i].key = emptyPair
	}
	return t
}

func hashPair(k uint64) uint64 { return k * 0x9e3779b97f4a7c15 }

func (t *pairTable) slot(k uint64) int { return int(hashPair(k) >> t.shift) }

func (t *pairTable) get(k uint64) (int32, bool) {
	if f := hashPair(k) >> (64 - filterBits); t.filter[f/64]&(1<<(f%64)) == 0 {
		return 0, false
	}
	mask := len(t.slots) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.slots[i].key {
		case k:
			return t.slots[i].val, true
		case emptyPair:
			return 0, false
		}
	}
}

func (t *pairTable) put(k uint64, v int32) {
	f := hashPair(k) >> (64 - filterBits)
	t.filter[f/64] |= 1 << (f % 64)
	mask := len(t.slots) - 1
	i := t.slot(k)
	for t.slots[i].key != emptyPair && t.slots[i].key != k {
		i = (i + 1) & mask
	}
	t.slots[i] = pairSlot{k, v}
}

func newBacktrack(ranks map[string]int, decoder []string) *backtrack {
	n := len(decoder)
	b := &backtrack{
		size:       make([]int32, n),
		nextPrefix: make([]int32, n),
		split:      make([][2]int32, n),
		pairs:      newPairTable(len(ranks)),
	}
	// The trie, built from the tokens in byte order so that every node's
	// edges come sorted.
	toks := make([]string, 0, len(ranks))
	for s := range ranks {
		toks = append(toks, s)
	}
	slices.Sort(toks)
	edges := [][]trieEdge{nil} // node -> its edges, while building
	tokens := []int32{-1}
	for _, s := range toks {
		node := int32(0)
		for i := 0; i < len(s); i++ {
			c := int32(-1)
			for _, x := range edges[node] {
				if x.b == s[i] {
					c = x.child
				}
			}
			if c < 0 {
				c = int32(len(edges))
				edges = append(edges, nil)
				tokens = append(tokens, -1)
				edges[node] = append(edges[node], trieEdge{s[i], c})
			}
			node = c
		}
		id := int32(ranks[s])
		tokens[node] = id
		b.size[id] = int32(len(s))
	}
	b.trie = make([]trieNode, len(edges))
	for n, es := range edges {
		node := trieNode{token: tokens[n], dense: -1, first: int32(len(b.edges)), n: int32(len(es))}
		if len(es) > denseEdges {
			var row [256]int32
			for c := range row {
				row[c] = -1
			}
			for _, x := range es {
				row[x.b] = x.child
			}
			node.dense = int32(len(b.dense))
			b.dense = append(b.dense, row)
		} else {
			b.edges = append(b.edges, es...)
		}
		b.trie[n] = node
	}
	for id := range b.nextPrefix {
		b.nextPrefix[id] = -1
		if s := decoder[id]; b.size[id] > 1 {
			b.nextPrefix[id] = b.longest(s[:len(s)-1])
		}
	}
	// Reverse engineer BPE's merges, in rank order: a token is the merge
	// of its longest prefix token and the rest, if that pair is valid,
	// else of the next shorter prefix, and so on.
	for id := range b.split {
		b.split[id] = [2]int32{int32(id), int32(id)}
		if b.size[id] == 0 {
			continue
		}
		s := decoder[id]
		for t1 := b.nextPrefix[id]; t1 >= 0; t1 = b.nextPrefix[t1] {
			r, ok := ranks[s[b.size[t1]:]]
			t2 := int32(r)
			if ok && t1 < int32(id) && t2 < int32(id) && b.validPair(t1, t2) {
				b.pairs.put(pairKey(t1, t2), int32(id))
				b.split[id] = [2]int32{t1, t2}
				break
			}
		}
	}
	return b
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// longest returns the longest token that is a prefix of s (s != ""), or -1
// when none is (never, for a byte-level BPE).
func (b *backtrack) longest(s string) int32 {
	best, node := int32(-1), int32(0)
	for i := 0; i < len(s); i++ {
		node = b.child(node, s[i])
		if node < 0 {
			break
		}
		if t := b.trie[node].token; t >= 0 {
			best = t
		}
	}
	return best
}

// validPair reports whether BPE, given the bytes of t1 followed by those
// of t2, gives t1, t2: it undoes the merges that built the two tokens,
// latest first, and checks that no merge across the boundary would have
// come earlier.
func (b *backtrack) validPair(t1, t2 int32) bool {
	limit := int32(1<<31 - 1)
	for {
		if c, ok := b.pairs.get(pairKey(t1, t2)); ok && c < limit {
			return false
		}
		if t1 > t2 {
			limit = t1
			t1 = b.split[t1][1]
			if t1 == limit {
				limit = t2 + 1
				t2 = b.split[t2][0]
				if t2+1 == limit {
					return true
				}
			}
		} else {
			limit = t2 + 1
			t2 = b.split[t2][0]
			if t2+1 == limit {
				limit = t1
				t1 = b.split[t1][1]
				if t1 == limit {
					return true
				}
			}
		}
	}
}

// checkTokens is how many tokens encode takes between looks at its
// context: a few hundred microseconds of work.
const checkTokens = 1 << 12

// encode appends the ids of the tokens of p (len(p) >= 1) to tokens. It
// stops with ctx's error when ctx is done, looking every checkTokens steps.
func (b *backtrack) encode(ctx context.Context, p string, tokens []int32) ([]int32, error) {
	base := len(tokens)
	// Room for tokens of two bytes on average, up to 16,384 of them, then
	// for as many as the part encoded predicts for the rest (see room):
	// growing a huge slice by append's steps would allocate several times
	// its size.
	tokens = slices.Grow(tokens, min(len(p)/2+1, 1<<14))
	// dead marks the offsets from which no valid encoding continues.
	var deadBuf [64]uint64 // pieces up to 4 KB: a chunk's count
	dead := deadBuf[:]
	if n := len(p)/64 + 1; n > len(deadBuf) {
		dead = make([]uint64, n)
	}
	pos := 0
	next := b.longest(p)
	for steps := 1; next >= 0; steps++ {
		if steps%checkTokens == 0 {
			if err := ctx.Err(); err != nil {
				return tokens, err
			}
		}
		if len(tokens) == cap(tokens) {
			tokens = slices.Grow(tokens, room(len(tokens)-base, pos, len(p), 64))
		}
		tok := next
		last := int32(-1)
		if len(tokens) > base {
			last = tokens[len(tokens)-1]
		}
		for {
			end := pos + int(b.size[tok])
			if dead[end/64]&(1<<(end%64)) == 0 && (last < 0 || b.validPair(last, tok)) {
				tokens = append(tokens, tok)
				pos = end
				next = -1
				if pos < len(p) {
					next = b.longest(p[pos:])
				}
				break
			}
			if shorter := b.nextPrefix[tok]; shorter >= 0 {
				tok = shorter
				continue
			}
			// No token fits here after last: take last back.
			dead[pos/64] |= 1 << (pos % 64)
			tokens = tokens[:len(tokens)-1]
			pos -= int(b.size[last])
			next = last
			break
		}
	}
	return tokens, nil
}
