package tokenizer

import (
	"math/bits"
	"slices"
)

// tokenTrie is the trie of all tokens, for the longest token that is a
// prefix of a text: the backtracking encoder's step. A walk reads one
// 16-byte node a byte: a node holds the labels of its children (up to
// inlineLabels of them, compared all at once, without a branch a label),
// or for the few nodes with more (about 2,000 of cl100k's 217,000, near
// the root) the index of a bitmap of them; children are numbered
// consecutively, so the child of label l is the node's first child plus
// l's index among the labels. Random text makes the walk's branches and
// memory reads unpredictable: the dense rows of 256 children and separate
// edge lists this replaces read two or three places a byte, in 9 MB
// instead of 3.5.
type tokenTrie struct {
	nodes []trieNode
	wide  [][4]uint64 // label bitmaps of the nodes with more than inlineLabels children
}

const (
	inlineLabels = 7
	wideNode     = 0xff // trieNode.labels's top byte for a node with a bitmap
)

type trieNode struct {
	token int32 // id of the token spelled by the path to the node, or -1
	first int32 // index of the first child
	// labels holds the children's labels, sorted, in its low bytes and
	// their number in its top byte; or wideNode in its top byte and the
	// index of the node's bitmap in tokenTrie.wide in its low 32 bits.
	labels uint64
}

// newTokenTrie builds the trie of the tokens of ranks (bytes -> id).
func newTokenTrie(ranks map[string]int) *tokenTrie {
	// A first trie with a list of edges a node, from the tokens in byte
	// order so that every node's edges come sorted.
	toks := make([]string, 0, len(ranks))
	for s := range ranks {
		toks = append(toks, s)
	}
	slices.Sort(toks)
	type edge struct {
		b     byte
		child int32
	}
	edges := [][]edge{nil}
	tokens := []int32{-1}
	for _, s := range toks {
		node := int32(0)
		for i := 0; i < len(s); i++ {
			c := int32(-1)
			if es := edges[node]; len(es) > 0 && es[len(es)-1].b == s[i] {
				c = es[len(es)-1].child // sorted input: a new edge is the last
			}
			if c < 0 {
				c = int32(len(edges))
				edges = append(edges, nil)
				tokens = append(tokens, -1)
				edges[node] = append(edges[node], edge{s[i], c})
			}
			node = c
		}
		tokens[node] = int32(ranks[s])
	}
	// Renumbered breadth first, so that a node's children are consecutive.
	t := &tokenTrie{nodes: make([]trieNode, len(edges))}
	order := make([]int32, 1, len(edges)) // new index -> old
	for k := 0; k < len(order); k++ {
		old := order[k]
		node := trieNode{token: tokens[old], first: int32(len(order))}
		if len(edges[old]) > inlineLabels {
			var w [4]uint64
			for _, e := range edges[old] {
				w[e.b/64] |= 1 << (e.b % 64)
			}
			node.labels = wideNode<<56 | uint64(len(t.wide))
			t.wide = append(t.wide, w)
		} else {
			node.labels = uint64(len(edges[old])) << 56
			for i, e := range edges[old] {
				node.labels |= uint64(e.b) << (8 * i)
			}
		}
		for _, e := range edges[old] {
			order = append(order, e.child)
		}
		t.nodes[k] = node
	}
	return t
}

// child returns the child of node n by byte c, or -1.
func (t *tokenTrie) child(n *trieNode, c byte) int32 {
	l := n.labels
	if count := int32(l >> 56); count != wideNode {
		// The index of the first byte of l equal to c: x has a zero byte
		// there, and the lowest byte flagged by the borrow trick is the
		// first zero byte (higher ones may be false). Bytes from count
		// on, padding and the count, match nothing.
		const ones, highs = 0x0101010101010101, 0x8080808080808080
		x := l ^ ones*uint64(c)
		if m := (x - ones) &^ x & highs; m != 0 {
			if i := int32(bits.TrailingZeros64(m) / 8); i < count {
				return n.first + i
			}
		}
		return -1
	}
	w := &t.wide[uint32(l)]
	word, bit := c/64, c%64
	if w[word]&(1<<bit) == 0 {
		return -1
	}
	i := bits.OnesCount64(w[word] & (1<<bit - 1))
	for _, x := range w[:word] {
		i += bits.OnesCount64(x)
	}
	return n.first + int32(i)
}

// longest returns the longest token that is a prefix of s and its length,
// or -1, 0 when none is (never, for a byte-level BPE and s != "").
func (t *tokenTrie) longest(s string) (int32, int) {
	best, size := int32(-1), 0
	n := &t.nodes[0]
	for i := 0; i < len(s); i++ {
		c := t.child(n, s[i])
		if c < 0 {
			break
		}
		n = &t.nodes[c]
		if n.token >= 0 {
			best, size = n.token, i+1
		}
	}
	return best, size
}
