package provider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/provider"
)

// fast retries with waits of a few milliseconds at most.
var fast = provider.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}

func TestDoRetriesRetryable(t *testing.T) {
	var attempts []int
	err := fast.Do(context.Background(), func(_ context.Context, attempt int) error {
		attempts = append(attempts, attempt)
		if attempt < 3 {
			return &provider.Error{StatusCode: 503}
		}
		return nil
	})
	if err != nil || len(attempts) != 4 || attempts[3] != 3 {
		t.Fatalf("err %v after attempts %v, want success at attempt 3", err, attempts)
	}
}

func TestDoStopsOnPermanent(t *testing.T) {
	calls := 0
	perm := &provider.Error{StatusCode: 400, Message: "bad input"}
	err := fast.Do(context.Background(), func(context.Context, int) error { calls++; return perm })
	if err != perm || calls != 1 {
		t.Fatalf("err %v after %d calls, want the 400 after 1", err, calls)
	}
}

func TestDoGivesUpAfterMaxRetries(t *testing.T) {
	for _, tc := range []struct{ max, calls int }{{2, 3}, {-1, 1}, {0, provider.DefaultMaxRetries + 1}} {
		p := fast
		p.MaxRetries = tc.max
		calls := 0
		err := p.Do(context.Background(), func(context.Context, int) error { calls++; return &provider.Error{StatusCode: 429} })
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.StatusCode != 429 || calls != tc.calls {
			t.Errorf("MaxRetries %d: err %v after %d calls, want %d", tc.max, err, calls, tc.calls)
		}
	}
}

func TestDoHonoursRetryAfter(t *testing.T) {
	var waits []time.Duration
	p := provider.RetryPolicy{
		MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond,
		OnRetry: func(_ int, _ error, wait time.Duration) { waits = append(waits, wait) },
	}
	err := p.Do(context.Background(), func(_ context.Context, attempt int) error {
		if attempt == 0 {
			return &provider.Error{StatusCode: 429, RetryAfter: 3 * time.Millisecond}
		}
		return nil
	})
	if err != nil || len(waits) != 1 || waits[0] != 3*time.Millisecond {
		t.Fatalf("err %v, waits %v; want one wait of the 3ms Retry-After", err, waits)
	}
	// A Retry-After longer than MaxRetryAfter is not waited for.
	p.MaxRetryAfter = time.Millisecond
	calls := 0
	err = p.Do(context.Background(), func(context.Context, int) error {
		calls++
		return &provider.Error{StatusCode: 429, RetryAfter: time.Hour}
	})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.RetryAfter != time.Hour || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	// Nor is one that ends after the context's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	p.MaxRetryAfter = 0
	calls = 0
	err = p.Do(ctx, func(context.Context, int) error {
		calls++
		return &provider.Error{StatusCode: 503, RetryAfter: 2 * time.Hour}
	})
	if !errors.As(err, &pe) || pe.StatusCode != 503 || calls != 1 {
		t.Fatalf("past the deadline: err %v after %d calls", err, calls)
	}
}

func TestDoStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := provider.RetryPolicy{
		MinBackoff: time.Hour, MaxBackoff: time.Hour,
		OnRetry: func(int, error, time.Duration) { cancel() }, // cancel during the wait
	}
	calls := 0
	err := p.Do(ctx, func(context.Context, int) error { calls++; return &provider.Error{StatusCode: 500} })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err %v after %d calls, want context.Canceled after 1", err, calls)
	}
	// Already cancelled: no call at all.
	calls = 0
	if err := p.Do(ctx, func(context.Context, int) error { calls++; return nil }); !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("cancelled context: err %v, %d calls", err, calls)
	}
	// A custom cause is reported.
	cause := errors.New("shutting down")
	cctx, ccancel := context.WithCancelCause(context.Background())
	err = fast.Do(cctx, func(context.Context, int) error { ccancel(cause); return context.Canceled })
	if !errors.Is(err, cause) {
		t.Fatalf("err %v, want the cause", err)
	}
}

func TestDoPerAttemptTimeout(t *testing.T) {
	p := fast
	p.RequestTimeout = time.Millisecond
	var mu sync.Mutex
	calls := 0
	err := p.Do(context.Background(), func(ctx context.Context, attempt int) error {
		mu.Lock()
		calls++
		mu.Unlock()
		if attempt == 0 {
			<-ctx.Done() // the attempt's own timeout
			return ctx.Err()
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("attempt without a deadline")
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls, want success after a timed-out attempt", err, calls)
	}
	// When every attempt times out, the error is a retryable *Error that
	// does not claim the caller's context expired.
	p.MaxRetries = 1
	err = p.Do(context.Background(), func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() })
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.StatusCode != 0 || !pe.Retryable() || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %#v", err)
	}
}
