package rag

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/provider"
)

// retryable reports whether a failed provider call may succeed if made
// again: a retryable *provider.Error (429, 5xx, timeouts), or a network
// error. Validation errors and other 4xx answers are permanent.
func retryable(err error) bool {
	var ae *provider.Error
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// retry calls call until it succeeds, fails with an error that is not
// retryable, or has been retried o.MaxRetries times. Each attempt gets its
// own o.RequestTimeout; one that runs out counts as a retryable timeout.
// Between attempts it waits an exponential backoff with full jitter, or the
// provider's Retry-After when that is longer, after passing the provider's error to onAPIError
// (if not nil).
func retry(ctx context.Context, o *IngestOptions, call func(ctx context.Context, attempt int) error, onAPIError func(*provider.Error)) error {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
		err := call(actx, attempt)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if timedOut {
			err = &provider.Error{Message: "request timed out after " + o.RequestTimeout.String(), Err: err}
		}
		if !retryable(err) || attempt >= o.MaxRetries {
			return err
		}
		delay := backoff.Delay(attempt, o.MinBackoff, o.MaxBackoff)
		var ae *provider.Error
		if errors.As(err, &ae) {
			if onAPIError != nil {
				onAPIError(ae)
			}
			delay = max(delay, ae.RetryAfter)
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// limiter is a token bucket refilled continuously at perMinute/60 tokens a
// second, holding at most a tenth of a minute's worth (and at least one
// request's worth). A caller takes what it needs and waits while the bucket
// is in debt, so large requests are not starved by small ones.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(perMinute, largest int) *limiter {
	burst := max(float64(perMinute)/10, float64(largest), 1)
	return &limiter{rate: float64(perMinute) / 60, burst: burst, tokens: burst, last: time.Now()}
}

func (l *limiter) wait(ctx context.Context, n int) error {
	l.mu.Lock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens -= float64(n)
	var d time.Duration
	if l.tokens < 0 {
		d = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	return backoff.Sleep(ctx, d)
}

// dimension is the vector dimension a pipeline has seen, learned from the
// embedder or its first answer.
type dimension struct{ n atomic.Int64 }

func (d *dimension) get() int { return int(d.n.Load()) }

// set records n if no dimension is known yet, and reports whether n is the
// dimension now known.
func (d *dimension) set(n int) bool {
	if n <= 0 {
		return true
	}
	d.n.CompareAndSwap(0, int64(n))
	return d.n.Load() == int64(n)
}

// ok reports whether a vector of n dimensions fits.
func (d *dimension) ok(n int) bool {
	k := d.n.Load()
	return k == 0 || k == int64(n)
}
