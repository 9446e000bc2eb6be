package tokenizer

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestPairMemoConcurrent encodes long pieces from several goroutines at
// once with one fresh tokenizer, whose memo of valid pairs they all fill,
// and checks every encoding against the heap merge loop (run with -race,
// it also checks that sharing the memo is safe).
func TestPairMemoConcurrent(t *testing.T) {
	tok := fastCL100K(t)
	pieces := longPieces(rand.New(rand.NewPCG(11, 12)), 2000)
	want := make([][]int, len(pieces))
	for i, p := range pieces {
		want[i] = tok.mergeHeap(p, nil)
	}
	bt := tok.long()
	const workers = 4
	errs := make(chan string, workers*len(pieces))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := range pieces {
				i := (k + w*len(pieces)/workers) % len(pieces) // each worker in its own order
				if got := starts(bt, pieces[i]); !slices.Equal(got, want[i]) {
					errs <- pieces[i]
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for p := range errs {
		t.Errorf("token starts of %.60q... differ from the merge loop's", p)
	}
	known := 0
	for i := range bt.memo.bits {
		for v := bt.memo.bits[i].Load(); v != 0; v &= v - 1 {
			known++
		}
	}
	if known == 0 {
		t.Error("no pair remembered after encoding random letters")
	}
}
