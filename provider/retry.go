package provider

import (
	"context"
	"errors"
	"time"

	"github.com/ragkit-go/rag/internal/backoff"
)

// Defaults of RetryPolicy.
const (
	DefaultMaxRetries     = 6
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultRequestTimeout = 2 * time.Minute
)

// RetryPolicy says how a failed provider call is made again. It is the
// one policy of the module: the pipeline's embedding requests, llm.Retry
// and the rerankers all retry through Do. The zero value works; every zero
// field means its default.
type RetryPolicy struct {
	// MaxRetries is how many times a failed call is made again. Default
	// DefaultMaxRetries (6); negative means no retry.
	MaxRetries int

	// MinBackoff and MaxBackoff bound the wait between attempts: full
	// jitter over MinBackoff·2^attempt, capped at MaxBackoff, and at least
	// MinBackoff/2. A longer RetryAfter of the provider's *Error wins.
	// Defaults DefaultMinBackoff (500ms) and DefaultMaxBackoff (30s).
	MinBackoff, MaxBackoff time.Duration

	// RequestTimeout bounds each attempt: the context given to the call
	// is cancelled after it, and an attempt that runs out counts as a
	// retryable timeout (an *Error with StatusCode 0). Default
	// DefaultRequestTimeout (2 minutes, the default request timeout of
	// the module's clients); negative means none.
	RequestTimeout time.Duration

	// MaxRetryAfter, if positive, is the longest wait Do makes: when the
	// provider asks to wait longer, Do returns its error at once (its
	// RetryAfter says how long) rather than hold the caller. 0 means no
	// bound.
	MaxRetryAfter time.Duration

	// OnRetry, if set, is called before each wait with the attempt that
	// failed (0 for the first), its error and the wait. Do calls it on
	// the calling goroutine; a policy shared by concurrent callers has
	// it called concurrently.
	OnRetry func(attempt int, err error, wait time.Duration)
}

// withDefaults fills in the zero fields.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = DefaultMaxRetries
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	p.MaxBackoff = max(p.MaxBackoff, p.MinBackoff)
	if p.RequestTimeout == 0 {
		p.RequestTimeout = DefaultRequestTimeout
	}
	return p
}

// Do calls call until it succeeds, fails with an error that is not
// retryable (see Retryable), or has been made again p.MaxRetries times,
// and returns call's last error. attempt counts from 0. Each attempt gets
// a context bounded by p.RequestTimeout.
//
// Between attempts Do waits the backoff or the provider's RetryAfter,
// whichever is longer. It does not wait when the wait would end after
// ctx's deadline, or is longer than p.MaxRetryAfter: it returns the error
// at once. When ctx is done, Do stops, waits included, and returns an
// error matching context.Cause(ctx) (call's own error when it already
// does). Do leaves no goroutine behind.
func (p RetryPolicy) Do(ctx context.Context, call func(ctx context.Context, attempt int) error) error {
	p = p.withDefaults()
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		actx, cancel := ctx, context.CancelFunc(func() {})
		if p.RequestTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, p.RequestTimeout)
		}
		err := call(actx, attempt)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if cause := context.Cause(ctx); !errors.Is(err, cause) {
				return cause
			}
			return err
		}
		if timedOut && !Retryable(err) {
			// Only this attempt ran out: the cause keeps its text but no
			// longer matches the context errors.
			err = &Error{Message: "request timed out after " + p.RequestTimeout.String(), Err: errors.New(err.Error())}
		}
		if !Retryable(err) || attempt >= p.MaxRetries {
			return err
		}
		wait := backoff.Delay(attempt, p.MinBackoff, p.MaxBackoff)
		var pe *Error
		if errors.As(err, &pe) && pe.RetryAfter > wait {
			if p.MaxRetryAfter > 0 && pe.RetryAfter > p.MaxRetryAfter {
				return err
			}
			wait = pe.RetryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err // the next answer would come too late: report this one
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, wait)
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}
