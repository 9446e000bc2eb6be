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
	trie       *tokenTrie
	size       []int32    // id -> length in bytes (0 for unused ids)
	nextPrefix []int32    // id -> longest token that is a proper prefix of it, or -1
	split      [][2]int32 // id -> the two tokens BPE merges into it ({id, id} for a byte)
	pairs      *pairRanks // left, right -> the token they merge into, for every split
	memo       *pairMemo  // validPair's answers for short tokens
}

// newBacktrack builds the encoder of the tokens ranks (bytes -> id, and
// id, the same look-up faster) whose bytes decoder gives (id -> bytes)
// and longest proper prefix token prefix gives (id -> id or -1).
func newBacktrack(ranks map[string]int, decoder []string, prefix []int32, id func(string) (int, bool)) *backtrack {
	n := len(decoder)
	b := &backtrack{
		size:       make([]int32, n),
		nextPrefix: prefix,
		split:      make([][2]int32, n),
		pairs:      newPairTable(len(ranks)),
		trie:       newTokenTrie(ranks),
	}
	for s, id := range ranks {
		b.size[id] = int32(len(s))
	}
	// Reverse engineer BPE's merges, in rank order: a token is the merge
	// of its longest prefix token and the rest, if that pair is valid,
	// else of the next shorter prefix, and so on.
	for c := range b.split {
		b.split[c] = [2]int32{int32(c), int32(c)}
		if b.size[c] == 0 {
			continue
		}
		s := decoder[c]
		for t1 := b.nextPrefix[c]; t1 >= 0; t1 = b.nextPrefix[t1] {
			r, ok := id(s[b.size[t1]:])
			t2 := int32(r)
			if ok && t1 < int32(c) && t2 < int32(c) && b.validPair(t1, t2) {
				b.pairs.put(pairRankKey(t1, t2), int32(c))
				b.split[c] = [2]int32{t1, t2}
				break
			}
		}
	}
	b.memo = newPairMemo(decoder, b.size)
	return b
}

// validPair reports whether BPE, given the bytes of t1 followed by those
// of t2, gives t1, t2: it undoes the merges that built the two tokens,
// latest first, and checks that no merge across the boundary would have
// come earlier.
func (b *backtrack) validPair(t1, t2 int32) bool {
	limit := int32(1<<31 - 1)
	for {
		if c := b.pairs.get(t1, t2); c >= 0 && c < limit {
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
	next, size := b.trie.longest(p)
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
			end := pos + size
			if dead[end/64]&(1<<(end%64)) == 0 && (last < 0 || b.validMemo(last, tok)) {
				tokens = append(tokens, tok)
				pos = end
				next = -1
				if pos < len(p) {
					next, size = b.trie.longest(p[pos:])
				}
				break
			}
			if shorter := b.nextPrefix[tok]; shorter >= 0 {
				tok, size = shorter, int(b.size[shorter])
				continue
			}
			// No token fits here after last: take last back.
			dead[pos/64] |= 1 << (pos % 64)
			tokens = tokens[:len(tokens)-1]
			size = int(b.size[last])
			pos -= size
			next = last
			break
		}
	}
	return tokens, nil
}
