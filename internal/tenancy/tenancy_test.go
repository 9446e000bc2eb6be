package tenancy

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// Concurrent Gets of one tenant open it once and share it; a failed open
// is not kept; after Close every partition was closed once and Get fails.
func TestPartitions(t *testing.T) {
	var p Partitions[*int]
	var opens atomic.Int32
	open := func() (*int, error) {
		opens.Add(1)
		return new(int), nil
	}
	var wg sync.WaitGroup
	got := make([]*int, 16)
	for i := range got {
		wg.Go(func() {
			v, err := p.Get("a", open)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	if opens.Load() != 1 {
		t.Errorf("tenant a opened %d times, want once", opens.Load())
	}
	for _, v := range got {
		if v != got[0] {
			t.Fatal("two Gets of tenant a returned different partitions")
		}
	}
	bad := errors.New("disk full")
	if _, err := p.Get("b", func() (*int, error) { return nil, bad }); !errors.Is(err, bad) {
		t.Errorf("a failed open: %v, want its error", err)
	}
	if _, err := p.Get("b", open); err != nil || opens.Load() != 2 {
		t.Errorf("b after a failed open: %v, %d opens; want opened anew", err, opens.Load())
	}
	closed := map[*int]int{}
	if err := p.Close(func(v *int) error { closed[v]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(closed) != 2 || closed[got[0]] != 1 {
		t.Errorf("Close closed %v, want a and b once each", closed)
	}
	if err := p.Close(func(*int) error { t.Error("second Close closed a partition"); return nil }); err != nil {
		t.Error(err)
	}
	if _, err := p.Get("a", open); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}
