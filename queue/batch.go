package queue

import (
	"context"
	"slices"
	"sync"
)

// batcher runs the requests that many goroutines make at the same time
// in a few statements instead of one each (group commit): a request that
// finds a lane free runs at once, in a batch with whatever else is
// waiting; requests made while every lane is busy wait, and the next
// batch takes all of them (up to max). Under light load a request runs
// alone and waits for nothing; under heavy load a batch holds the jobs
// that arrived during the previous statement, so the statements per job
// fall as the load rises.
//
// A batch runs in the goroutine of one of its own callers (its first
// request), never in a goroutine of the batcher's: when do returns, the
// caller's request has run or been withdrawn, and no goroutine is left.
// do may be called from any number of goroutines.
type batcher[Q, R any] struct {
	// exec runs one batch and returns the result of each request, in the
	// order of reqs; reqs is the batcher's and must not be kept.
	exec  func(ctx context.Context, reqs []Q) []R
	max   int // requests in one batch
	lanes int // batches running at once

	mu      sync.Mutex
	queue   []*call[Q, R] // waiting for a lane
	running int
}

type call[Q, R any] struct {
	req    Q
	res    R
	queued bool               // in b.queue; guarded by b.mu
	lead   chan []*call[Q, R] // the batch this call is to run (it is its first request)
	done   chan struct{}      // closed once res is set
}

// do runs req in the next batch and returns its result. If ctx is done
// while req still waits for a lane, it is withdrawn and do returns
// ctx's cause; once in a batch, it runs to the end (a batch's statement
// is bounded by exec, not by the context of any one of its callers).
func (b *batcher[Q, R]) do(ctx context.Context, req Q) (R, error) {
	c := &call[Q, R]{req: req, queued: true, lead: make(chan []*call[Q, R], 1), done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	var batch []*call[Q, R]
	if b.running < b.lanes {
		b.running++
		batch = b.takeLocked()
	}
	b.mu.Unlock()
	if batch != nil {
		b.run(ctx, batch)
	}
	cancelled := ctx.Done()
	for {
		select {
		case <-c.done:
			return c.res, nil
		case batch := <-c.lead:
			b.run(ctx, batch)
		case <-cancelled:
			b.mu.Lock()
			if c.queued {
				i := slices.Index(b.queue, c)
				b.queue = slices.Delete(b.queue, i, i+1)
				b.mu.Unlock()
				var zero R
				return zero, context.Cause(ctx)
			}
			b.mu.Unlock()
			cancelled = nil // taken into a batch: its result comes soon
		}
	}
}

// takeLocked takes the next batch off the queue.
func (b *batcher[Q, R]) takeLocked() []*call[Q, R] {
	n := min(len(b.queue), b.max)
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	for _, c := range batch {
		c.queued = false
	}
	return batch
}

// run runs batch, hands each call its result, and passes the lane on to
// the next batch, if any, whose first request runs it.
func (b *batcher[Q, R]) run(ctx context.Context, batch []*call[Q, R]) {
	reqs := make([]Q, len(batch))
	for i, c := range batch {
		reqs[i] = c.req
	}
	res := b.exec(context.WithoutCancel(ctx), reqs)
	for i, c := range batch {
		c.res = res[i]
		close(c.done)
	}
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.running--
		b.mu.Unlock()
		return
	}
	next := b.takeLocked()
	b.mu.Unlock()
	next[0].lead <- next // buffered, and sent to each call at most once
}
