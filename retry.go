package rag

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag/provider"
)

// retry calls call with the pipeline's retry policy (o's MaxRetries,
// MinBackoff, MaxBackoff and RequestTimeout; see provider.RetryPolicy.Do):
// each attempt has its own timeout, retryable failures are made again
// after a backoff with full jitter or the provider's longer Retry-After.
// Before each wait, the provider's error of the failed attempt is passed
// to onAPIError (if not nil), so that a 429 can pause other requests.
func retry(ctx context.Context, o *IngestOptions, call func(ctx context.Context, attempt int) error, onAPIError func(*provider.Error)) error {
	p := provider.RetryPolicy{
		MaxRetries:     o.MaxRetries,
		MinBackoff:     o.MinBackoff,
		MaxBackoff:     o.MaxBackoff,
		RequestTimeout: o.RequestTimeout,
	}
	if onAPIError != nil {
		p.OnRetry = func(_ int, err error, _ time.Duration) {
			var pe *provider.Error
			if errors.As(err, &pe) {
				onAPIError(pe)
			}
		}
	}
	return p.Do(ctx, call)
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
