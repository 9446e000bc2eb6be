// Package backoff holds the waiting between retries shared by the
// pipeline and the provider clients.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Delay returns the wait before retry attempt+1 (attempt counts from 0):
// full jitter over an exponential ceiling lo·2^attempt capped at hi, and
// at least lo/2.
func Delay(attempt int, lo, hi time.Duration) time.Duration {
	ceil := lo << min(attempt, 30)
	if ceil <= 0 || ceil > hi {
		ceil = hi
	}
	return lo/2 + rand.N(ceil-lo/2+1)
}

// A SleepFunc waits for d or until ctx is done, as Sleep does.
type SleepFunc func(ctx context.Context, d time.Duration) error

type sleepKey struct{}

// WithSleep returns a context under which Sleep calls f instead of
// waiting. It is the module's seam for tests that record or skip the waits
// of retries and rate budgets without sleeping; f may be called from
// several goroutines at once.
func WithSleep(ctx context.Context, f SleepFunc) context.Context {
	return context.WithValue(ctx, sleepKey{}, f)
}

// Sleep waits for d or until ctx is done, and then returns ctx's cause;
// with nothing to wait for, it returns nil at once. Under WithSleep it
// calls that function instead.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if f, ok := ctx.Value(sleepKey{}).(SleepFunc); ok {
		return f(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
