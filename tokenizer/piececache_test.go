package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// referenceEnds returns where each of tiktoken's tokens of text ends.
func referenceEnds(ref Tokenizer, text string) []int32 {
	var ends []int32
	off := 0
	for _, id := range ref.Encode(text) {
		off += len(ref.Decode([]int{id}))
		ends = append(ends, int32(off))
	}
	return ends
}

// TestIndexEndsMatchTiktokenThroughPieceCache indexes each text twice,
// the second time mostly from the piece cache, and compares every token
// end with tiktoken's, on prose (short words, repeated), pieces of up to
// 12 bytes that merge into several tokens, zero bytes and random text.
func TestIndexEndsMatchTiktokenThroughPieceCache(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	rng := rand.New(rand.NewPCG(5, 6))
	texts := []string{
		strings.Repeat("The cat's hat isn't red, and the dog's is blue. ", 30),
		strings.Repeat(" qzxv zzqj xqkw jjjjjjj bbbbbbb qqqqqqq 1234567 qzxvqzxvqzx xqkwzzqjxqk ", 20),
		"a\x00b \x00\x00 zz\x00qq \x00",
		strings.Repeat("étéét ßßß 中文中 😀😀 ", 10),
	}
	for range 100 {
		texts = append(texts, randomText(rng, 20+rng.IntN(200)))
	}
	for pass := range 2 {
		for _, text := range texts {
			got, _ := fast.Index(text)
			if want := referenceEnds(ref, text); !slices.Equal(got, want) {
				t.Fatalf("pass %d: %q: ends %v, tiktoken's %v", pass, text, got, want)
			}
		}
	}
}

// TestPackPiece compares packPiece's overlapping loads with packing byte
// by byte, on every length it takes and bytes of every value.
func TestPackPiece(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 1; n <= pieceCacheMax; n++ {
		for range 200 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			var lo, hi uint64
			for i, c := range b {
				if i < 8 {
					lo |= uint64(c) << (8 * i)
				} else {
					hi |= uint64(c) << (8 * (i - 8))
				}
			}
			if glo, ghi := packPiece(string(b)); glo != lo || ghi != hi {
				t.Fatalf("packPiece(%q) = %#x, %#x; want %#x, %#x", b, glo, ghi, lo, hi)
			}
		}
	}
}

// TestIndexConcurrentThroughPieceCache: goroutines indexing and counting
// at once, each piece's set read and written by several of them, all get
// tiktoken's ends and counts (run with -race).
func TestIndexConcurrentThroughPieceCache(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	rng := rand.New(rand.NewPCG(7, 8))
	texts := make([]string, 40)
	want := make([][]int32, len(texts))
	for i := range texts {
		texts[i] = randomText(rng, 50+rng.IntN(100)) + strings.Repeat(" protein disease patients cells ", 5)
		want[i] = referenceEnds(ref, texts[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range 5 * len(texts) {
				i := (k + g*7) % len(texts)
				if got, _ := fast.Index(texts[i]); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d: %q: ends %v, tiktoken's %v", g, texts[i], got, want[i])
					return
				}
				if n := fast.Count(texts[i]); n != len(want[i]) {
					errs <- fmt.Sprintf("goroutine %d: Count(%q) = %d, tiktoken's %d", g, texts[i], n, len(want[i]))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// FuzzIndex compares IndexContext's token ends and Count with tiktoken's
// tokens, twice on the same tokenizer: the second time through the piece
// cache the first filled (Encode, which FuzzCL100K checks, does not use it).
func FuzzIndex(f *testing.F) {
	for _, s := range []string{"hello world", "The cat's hat isn't red, and the dog's is blue.", " qzxv zzqj xqkwzzqjxqk 1234567",
		"a\x00b \x00\x00 zz\x00qq", "étéét ßßß 中文中 😀😀", " internationalization counterrevolutionary"} {
		f.Add(s)
	}
	ref, fast := reference(f), fastCL100K(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want := referenceEnds(ref, s)
		for pass := range 2 {
			if got, _ := fast.Index(s); !slices.Equal(got, want) {
				t.Fatalf("pass %d: %q: ends %v, tiktoken's %v", pass, s, got, want)
			}
			if n := fast.Count(s); n != len(want) {
				t.Fatalf("pass %d: Count(%q) = %d, tiktoken's %d", pass, s, n, len(want))
			}
		}
	})
}

// TestPieceCacheSetsKeepTheirFirstPieces fills one set of each table with
// more pieces than it has ways: every look-up gives the starts put for
// that piece or a miss, never another piece's, the first ways keep the
// first pieces, and put reports an empty way taken for those only.
func TestPieceCacheSetsKeepTheirFirstPieces(t *testing.T) {
	c := newPieceCache()
	rng := rand.New(rand.NewPCG(13, 14))
	type piece struct{ lo, hi, starts uint64 }
	for _, n := range []int{5, 12} {
		ways, sameSet := shortWays, func(p piece, lo, hi uint64) bool { return c.line(p.lo) == c.line(lo) }
		if n > shortMax {
			ways, sameSet = pieceWays, func(p piece, lo, hi uint64) bool { return c.set(p.lo, p.hi, n) == c.set(lo, hi, n) }
		}
		var ps []piece
		seen := map[[2]uint64]bool{}
		for len(ps) < 3*ways {
			b := make([]byte, n)
			for i := range b {
				b[i] = 'a' + byte(rng.IntN(26))
			}
			lo, hi := packPiece(string(b))
			if seen[[2]uint64{lo, hi}] || len(ps) > 0 && !sameSet(ps[0], lo, hi) {
				continue
			}
			seen[[2]uint64{lo, hi}] = true
			ps = append(ps, piece{lo, hi, rng.Uint64N(1 << (n - 1))})
		}
		for k, p := range ps {
			if fresh := c.put(p.lo, p.hi, n, p.starts); fresh != (k < ways) {
				t.Fatalf("%d bytes: put of piece %d of a set of %d ways reports an empty way taken: %v", n, k, ways, fresh)
			}
			for j, q := range ps[:k+1] {
				got, ok := c.starts(q.lo, q.hi, n)
				if ok && got != q.starts {
					t.Fatalf("%d bytes: piece %d: starts %#x, put %#x", n, j, got, q.starts)
				}
				if !ok && (j < ways-1 || j == k) {
					t.Fatalf("%d bytes: piece %d of %d put: a miss", n, j, k+1)
				}
			}
		}
	}
}

// TestCacheGateSkipsAfterMisses: a run of gateMisses misses at one length
// closes the gate there for gateSkipMin pieces, then for twice as many
// after the next run, up to the limit; a hit restarts the run, and other
// lengths stay open.
func TestCacheGateSkipsAfterMisses(t *testing.T) {
	var g cacheGate
	skipped := func(n int) int {
		k := 0
		for !g.open(n) {
			k++
		}
		return k
	}
	for range gateMisses - 1 {
		g.miss(5)
	}
	g.hit(5)
	for range gateMisses - 1 {
		g.miss(5)
	}
	if k := skipped(5); k != 0 {
		t.Fatalf("after a hit and %d misses: %d pieces skipped, want none", gateMisses-1, k)
	}
	for round := range gateShiftLimit + 2 {
		if round > 0 {
			for range gateMisses - 1 {
				g.miss(5)
			}
		}
		g.miss(5)
		if !g.open(9) {
			t.Fatal("pieces of 9 bytes skipped after misses of 5")
		}
		want := gateSkipMin << min(round, gateShiftLimit)
		if k := skipped(5); k != want {
			t.Fatalf("run %d of misses: %d pieces skipped, want %d", round, k, want)
		}
	}
	var closed *cacheGate
	closed.miss(5)
	closed.hit(5)
	if !closed.open(5) {
		t.Fatal("the nil gate is closed")
	}
}

// TestIndexRandomWordsThroughCacheGate fills the piece cache with the
// pieces of a megabyte of random words, then indexes other random words,
// long enough for the gate to close and open again at several lengths,
// twice, and compares every token end and the count with tiktoken's.
func TestIndexRandomWordsThroughCacheGate(t *testing.T) {
	fast, ref := fastCL100K(t), reference(t)
	rng := rand.New(rand.NewPCG(15, 16))
	words := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteByte(' ')
			for range 1 + rng.IntN(15) {
				b.WriteByte("abcdefghijklmnopqrstuvwxyzABC0123"[rng.IntN(33)])
			}
			if rng.IntN(8) == 0 {
				b.WriteString(" the protein of")
			}
		}
		return b.String()
	}
	fast.Index(words(1 << 20))
	text := words(200_000)
	want := referenceEnds(ref, text)
	for pass := range 2 {
		if got, _ := fast.Index(text); !slices.Equal(got, want) {
			t.Fatalf("pass %d: ends differ from tiktoken's", pass)
		}
		if n := fast.Count(text); n != len(want) {
			t.Fatalf("pass %d: Count = %d, tiktoken's %d", pass, n, len(want))
		}
	}
}
