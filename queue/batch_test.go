package queue

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// recorder is an exec that records its batches and answers each request
// with its double; while gate is non-nil, the first batch waits for it.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	started chan struct{} // closed when the first batch starts
	gate    chan struct{}
}

func (r *recorder) exec(_ context.Context, reqs []int) []int {
	r.mu.Lock()
	first := len(r.batches) == 0
	r.batches = append(r.batches, slices.Clone(reqs))
	r.mu.Unlock()
	if first && r.gate != nil {
		close(r.started)
		<-r.gate
	}
	out := make([]int, len(reqs))
	for i, q := range reqs {
		out[i] = 2 * q
	}
	return out
}

// waitQueued waits until n requests wait for a lane.
func waitQueued[Q, R any](b *batcher[Q, R], n int) {
	for {
		b.mu.Lock()
		l := len(b.queue)
		b.mu.Unlock()
		if l == n {
			return
		}
		runtime.Gosched()
	}
}

// Requests made while the one lane is busy wait, and run together in the
// next batch; each caller gets its own result.
func TestBatcherGroupsRequestsMadeWhileBusy(t *testing.T) {
	r := &recorder{started: make(chan struct{}), gate: make(chan struct{})}
	b := &batcher[int, int]{exec: r.exec, max: 100, lanes: 1}
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]int, 11)
	wg.Go(func() { got[0], _ = b.do(ctx, 0) })
	<-r.started
	for i := 1; i <= 10; i++ {
		wg.Go(func() { got[i], _ = b.do(ctx, i) })
	}
	waitQueued(b, 10)
	close(r.gate)
	wg.Wait()
	for i, g := range got {
		if g != 2*i {
			t.Errorf("request %d got %d; want %d", i, g, 2*i)
		}
	}
	if len(r.batches) != 2 || len(r.batches[0]) != 1 || len(r.batches[1]) != 10 {
		t.Errorf("batches %v; want [0] then the 10 that waited", r.batches)
	}
	if b.running != 0 || len(b.queue) != 0 {
		t.Errorf("after the calls: %d running, %d queued; want none", b.running, len(b.queue))
	}
}

// A batch takes at most max requests; the rest run in the batches after.
func TestBatcherBoundsTheBatch(t *testing.T) {
	r := &recorder{started: make(chan struct{}), gate: make(chan struct{})}
	b := &batcher[int, int]{exec: r.exec, max: 4, lanes: 1}
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() { b.do(ctx, 0) }) //nolint:errcheck // never withdrawn
	<-r.started
	for i := 1; i <= 10; i++ {
		wg.Go(func() { b.do(ctx, i) }) //nolint:errcheck // never withdrawn
	}
	waitQueued(b, 10)
	close(r.gate)
	wg.Wait()
	var sizes []int
	seen := map[int]bool{}
	for _, batch := range r.batches {
		sizes = append(sizes, len(batch))
		for _, q := range batch {
			if seen[q] {
				t.Errorf("request %d ran twice", q)
			}
			seen[q] = true
		}
	}
	if !slices.Equal(sizes, []int{1, 4, 4, 2}) || len(seen) != 11 {
		t.Errorf("batch sizes %v covering %d requests; want [1 4 4 2] covering 11", sizes, len(seen))
	}
}

// A request whose context ends while it waits for a lane is withdrawn:
// it never runs and its caller gets the context's cause, while the others
// run as usual.
func TestBatcherWithdrawsACancelledWaitingRequest(t *testing.T) {
	r := &recorder{started: make(chan struct{}), gate: make(chan struct{})}
	b := &batcher[int, int]{exec: r.exec, max: 100, lanes: 1}
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() { b.do(ctx, 0) }) //nolint:errcheck // never withdrawn
	<-r.started
	cause := errors.New("job stopped")
	cctx, cancel := context.WithCancelCause(ctx)
	var withdrawn error
	wg.Go(func() { _, withdrawn = b.do(cctx, 1) })
	waitQueued(b, 1)
	var got2 int
	wg.Go(func() { got2, _ = b.do(ctx, 2) })
	waitQueued(b, 2)
	cancel(cause)
	waitQueued(b, 1)
	close(r.gate)
	wg.Wait()
	if !errors.Is(withdrawn, cause) {
		t.Errorf("withdrawn request returned %v; want its context's cause", withdrawn)
	}
	if got2 != 4 {
		t.Errorf("request 2 got %d; want 4", got2)
	}
	if len(r.batches) != 2 || !slices.Equal(r.batches[1], []int{2}) {
		t.Errorf("batches %v; want [0] then [2], without the withdrawn 1", r.batches)
	}
}

// With several lanes, as many batches run at once.
func TestBatcherRunsLanesAtOnce(t *testing.T) {
	var mu sync.Mutex
	running, most := 0, 0
	all := make(chan struct{})
	b := &batcher[int, int]{max: 100, lanes: 3}
	b.exec = func(_ context.Context, reqs []int) []int {
		mu.Lock()
		running++
		most = max(most, running)
		if running == 3 {
			close(all)
		}
		mu.Unlock()
		<-all
		mu.Lock()
		running--
		mu.Unlock()
		return make([]int, len(reqs))
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { b.do(context.Background(), i) }) //nolint:errcheck // never withdrawn
	}
	wg.Wait()
	if most != 3 {
		t.Errorf("at most %d batches ran at once; want 3", most)
	}
}
