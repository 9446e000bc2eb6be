package tokenizer

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// startsOf returns the token starts of a piece encoded as pieceStarts
// encodes them (bit k-1 for a token at offset k) as a list, with offset 0.
func startsOf(m uint64) []int {
	out := []int{0}
	for ; m != 0; m &= m - 1 {
		out = append(out, bits.TrailingZeros64(m)+1)
	}
	return out
}

// TestMergeStartsMatchesMergeHeap compares mergeStarts with the heap merge
// loop on pieces of every length it takes that are not tokens: random
// lower-case words after a space, mixed-case letters and digits, and
// bytes of any value.
func TestMergeStartsMatchesMergeHeap(t *testing.T) {
	fast := fastCL100K(t)
	rng := rand.New(rand.NewPCG(11, 12))
	alphabets := []string{" abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "aaab"}
	checked := 0
	for n := 2; n <= pieceCacheMax; n++ {
		for k := range 3000 {
			b := make([]byte, n)
			for i := range b {
				switch k % 4 {
				case 3:
					b[i] = byte(rng.UintN(256))
				default:
					a := alphabets[k%4]
					b[i] = a[rng.IntN(len(a))]
				}
			}
			if k%4 == 0 {
				b[0] = ' '
			}
			p := string(b)
			if fast.isToken(p) {
				continue
			}
			checked++
			if got, want := startsOf(fast.mergeStarts(p)), fast.mergeHeap(p, nil); !slices.Equal(got, want) {
				t.Fatalf("token starts of %q: got %v, want %v", p, got, want)
			}
		}
	}
	if checked < 10_000 {
		t.Fatalf("only %d pieces were not tokens", checked)
	}
}

func FuzzMergeStarts(f *testing.F) {
	f.Add(" qzxvqzx")
	f.Add("aB3cD4eF5gH6iJ7k")
	f.Add("\x00\xff\x80abc")
	fast := fastCL100K(f)
	f.Fuzz(func(t *testing.T, p string) {
		if len(p) < 2 || len(p) > pieceCacheMax || fast.isToken(p) {
			return
		}
		if got, want := startsOf(fast.mergeStarts(p)), fast.mergeHeap(p, nil); !slices.Equal(got, want) {
			t.Fatalf("token starts of %q: got %v, want %v", p, got, want)
		}
	})
}

// BenchmarkMergeStarts: mergeStarts alone on the pre-tokens of 3 to 16
// bytes of 1 MB of unknownText that are not tokens, per byte.
//
//	go test ./tokenizer -run '^$' -bench BenchmarkMergeStarts -count 5
func BenchmarkMergeStarts(b *testing.B) {
	tok := CL100K().(*bpeTokenizer)
	for _, kind := range []string{"random-words", "random-alnum"} {
		text := unknownText(kind, 1<<20)
		var pieces []string
		n := 0
		for i := 0; i < len(text); {
			j := cl100kNext(text, i)
			if p := text[i:j]; len(p) >= pieceCacheMin && len(p) <= pieceCacheMax && !tok.isToken(p) {
				pieces = append(pieces, p)
				n += len(p)
			}
			i = j
		}
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(n))
			var m uint64
			for b.Loop() {
				for _, p := range pieces {
					m ^= tok.mergeStarts(p)
				}
			}
			if m == 1<<63 {
				b.Log(m) // keep m
			}
		})
	}
}
