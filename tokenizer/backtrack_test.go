package tokenizer

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// mergeHeap is BPE's merge loop with a heap, in O(n log n): the merge of
// long pieces before the backtracking encoder, kept as a reference that
// can check pieces too long for tiktoken-go's quadratic loop.
func (t *bpeTokenizer) mergeHeap(p string, starts []int) []int {
	n := len(p)
	next := make([]int, n) // next[i] = start of the part after the part starting at i, or n
	prev := make([]int, n)
	rank := make([]int, n) // rank of the pair starting at i (valid for live parts)
	alive := make([]bool, n)
	h := make(pairHeap, 0, n)
	for i := 0; i < n; i++ {
		next[i], prev[i], alive[i] = i+1, i-1, true
	}
	pairRank := func(i int) int {
		j := next[i]
		if j >= n {
			return noRank
		}
		if r, ok := t.ranks[p[i:next[j]]]; ok {
			return r
		}
		return noRank
	}
	for i := 0; i < n; i++ {
		rank[i] = pairRank(i)
		if rank[i] != noRank {
			h = append(h, pair{rank[i], i})
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		top := heap.Pop(&h).(pair)
		i := top.start
		if !alive[i] || rank[i] != top.rank {
			continue // stale
		}
		j := next[i]
		alive[j] = false
		next[i] = next[j]
		if next[j] < n {
			prev[next[j]] = i
		}
		rank[i] = pairRank(i)
		if rank[i] != noRank {
			heap.Push(&h, pair{rank[i], i})
		}
		if q := prev[i]; q >= 0 {
			rank[q] = pairRank(q)
			if rank[q] != noRank {
				heap.Push(&h, pair{rank[q], q})
			}
		}
	}
	for i := 0; i < n; i = next[i] {
		starts = append(starts, i)
	}
	return starts
}

type pair struct{ rank, start int }

type pairHeap []pair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].start < h[b].start
}
func (h pairHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TestBacktrackTokensEncodeToThemselves checks the premise of the
// backtracking encoder: the bytes of every token encode to that token.
func TestBacktrackTokensEncodeToThemselves(t *testing.T) {
	fast := fastCL100K(t)
	bt := fast.long()
	for s, id := range fast.ranks {
		if got, err := bt.encode(context.Background(), s, nil); err != nil || len(got) != 1 || int(got[0]) != id {
			t.Fatalf("token %d %q encodes to %d tokens %v", id, s, len(got), got)
		}
	}
}

// longPieces are long pre-tokens of the kinds that reach the backtracking
// encoder: runs of one letter, of random letters, of random symbols and of
// random runes without white space, and of letters of several scripts.
func longPieces(rng *rand.Rand, n int) []string {
	letters := func(alpha string) string {
		r := []rune(alpha)
		var b strings.Builder
		for b.Len() < n {
			b.WriteRune(r[rng.IntN(len(r))])
		}
		return b.String()
	}
	other := func() string { // runes of no class: not letters, numbers or space
		var b strings.Builder
		for b.Len() < n {
			r := rune(rng.IntN(0x3000))
			if utf8.ValidRune(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsSpace(r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return []string{
		strings.Repeat("a", n), strings.Repeat("ab", n/2), strings.Repeat("=", n), strings.Repeat("-", n),
		letters("abcdefghijklmnopqrstuvwxyz"), letters("aeiouAEIOUxyz"), letters("ab"),
		letters("абвгдежзийклмнопрстуфхцчшщъыьэюя"), letters("中文日本語한국어"), letters("éèêëàâäôöûüç"),
		letters("!\"#$%&()*+,-./:;<=>?@[]^_`{|}~"), other(),
	}
}

// TestBacktrackMatchesTiktoken compares the encoding of long pieces with
// tiktoken-go's.
func TestBacktrackMatchesTiktoken(t *testing.T) {
	ref, fast := reference(t), fastCL100K(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{129, 200, 1000, 3000} {
		for _, p := range longPieces(rng, n) {
			if got, want := fast.Encode(p), ref.Encode(p); !slices.Equal(got, want) {
				t.Fatalf("Encode of %d bytes %.60q...:\n got %v\nwant %v", len(p), p, got, want)
			}
		}
	}
}

// TestBacktrackMatchesMergeLoop compares the backtracking encoder with the
// heap merge loop on pieces too long for tiktoken-go.
func TestBacktrackMatchesMergeLoop(t *testing.T) {
	fast := fastCL100K(t)
	rng := rand.New(rand.NewPCG(7, 8))
	sizes := []int{129, 5000, 100_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		for _, p := range longPieces(rng, n) {
			if got, want := starts(fast.long(), p), fast.mergeHeap(p, nil); !slices.Equal(got, want) {
				t.Fatalf("token starts of %d bytes %.60q... differ: %d tokens, want %d", len(p), p, len(got), len(want))
			}
		}
	}
}

func FuzzBacktrack(f *testing.F) {
	f.Add(strings.Repeat("a", 200))
	f.Add(strings.Repeat("ab", 100) + "c")
	f.Add(strings.Repeat("==-", 50))
	fast := fastCL100K(f)
	f.Fuzz(func(t *testing.T, p string) {
		if len(p) < 2 {
			return
		}
		if got, want := starts(fast.long(), p), fast.mergeHeap(p, nil); !slices.Equal(got, want) {
			t.Fatalf("token starts of %q: got %v, want %v", p, got, want)
		}
	})
}

// starts is the start offset of each token of p by the backtracking
// encoder, as mergeHeap gives them.
func starts(b *backtrack, p string) []int {
	ids, err := b.encode(context.Background(), p, nil)
	if err != nil {
		panic(err)
	}
	out := make([]int, len(ids))
	off := 0
	for i, id := range ids {
		out[i] = off
		off += int(b.size[id])
	}
	return out
}

// TestSpliceCount checks the range counter on ranges inside and across
// long pre-tokens, where it joins the whole text's tokens to short
// encodings of the range's edges, against counting each range on its own.
func TestSpliceCount(t *testing.T) {
	fast := fastCL100K(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, p := range longPieces(rng, 3000) {
		for _, text := range []string{p, "The start. " + p + " and the end", p + "\n\n" + p} {
			_, count := fast.Index(text)
			for range 300 {
				s, e := runeRange(text, rng.IntN(len(text)+1), rng.IntN(len(text)+1))
				if got, want := count(s, e), fast.Count(text[s:e]); got != want {
					t.Fatalf("count(%d,%d) = %d, want %d; range %.80q...", s, e, got, want, text[s:e])
				}
			}
		}
	}
}
