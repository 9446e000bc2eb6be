package llm

import (
	"context"
	"errors"
	"github.com/ragkit-go/rag/internal/backoff"
	"io"
	"iter"
	"net"
	"time"
)

// RetryOptions configure Retry. The zero value works.
type RetryOptions struct {
	// MaxRetries is how many times a failed call is made again. Default:
	// 6. Negative means no retry.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// attempts, with full jitter; a longer Retry-After from the provider
	// wins. Defaults: 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// OnRetry, if set, is called before each wait with the attempt that
	// failed (0 for the first), its error and the wait. It may be called
	// from several goroutines at once.
	OnRetry func(attempt int, err error, wait time.Duration)
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.MaxRetries == 0 {
		o.MaxRetries = 6
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	return o
}

// Retrier is a Model that retries the calls of another. See Retry.
type Retrier struct {
	m Model
	o RetryOptions
}

var (
	_ Model = (*Retrier)(nil)
	_ Namer = (*Retrier)(nil)
)

// Retry returns a Model that makes the calls of m again when they fail
// with a retryable error (see Retryable), up to o.MaxRetries times, waiting
// an exponential backoff with full jitter, or the provider's Retry-After
// when that is longer.
//
// A stream is retried only while it has yielded nothing: once a chunk has
// reached the caller, a failure is returned as it is, since the caller has
// already used part of the reply. Cancelling ctx stops the waits too.
func Retry(m Model, o RetryOptions) *Retrier {
	return &Retrier{m: m, o: o.withDefaults()}
}

// Unwrap returns the model whose calls r retries.
func (r *Retrier) Unwrap() Model { return r.m }

// Name returns the name of the model underneath, if it has one.
func (r *Retrier) Name() string {
	if n, ok := r.m.(Namer); ok {
		return n.Name()
	}
	return ""
}

// Generate calls the model's Generate, with retries.
func (r *Retrier) Generate(ctx context.Context, req Request) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := r.m.Generate(ctx, req)
		if err == nil {
			return resp, nil
		}
		if err := r.wait(ctx, attempt, err); err != nil {
			return nil, err
		}
	}
}

// Stream calls the model's Stream, with retries until the first chunk.
func (r *Retrier) Stream(ctx context.Context, req Request) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		for attempt := 0; ; attempt++ {
			delivered := false
			var failure error
			for c, err := range r.m.Stream(ctx, req) {
				if err != nil {
					failure = err
					break
				}
				delivered = true
				if !yield(c, nil) {
					return
				}
			}
			if failure == nil {
				return
			}
			if delivered {
				yield(Chunk{}, failure)
				return
			}
			if err := r.wait(ctx, attempt, failure); err != nil {
				yield(Chunk{}, err)
				return
			}
		}
	}
}

// wait decides whether a failed attempt is retried: it returns nil after
// the backoff, or the error to give up with.
func (r *Retrier) wait(ctx context.Context, attempt int, err error) error {
	if ctx.Err() != nil {
		if errors.Is(err, ctx.Err()) {
			return err
		}
		return context.Cause(ctx)
	}
	if !Retryable(err) || attempt >= r.o.MaxRetries {
		return err
	}
	d := backoff.Delay(attempt, r.o.MinBackoff, r.o.MaxBackoff)
	var ae *APIError
	if errors.As(err, &ae) {
		d = max(d, ae.RetryAfter)
	}
	if r.o.OnRetry != nil {
		r.o.OnRetry(attempt, err, d)
	}
	return backoff.Sleep(ctx, d)
}

// Retryable reports whether a failed call may succeed if made again: a
// retryable *APIError (429, 5xx, timeouts, lost connections), a network
// error, or a reply cut short (ErrIncomplete, io.ErrUnexpectedEOF).
// Invalid requests and other 4xx answers are permanent; so are context
// errors.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, ErrIncomplete) || errors.Is(err, io.ErrUnexpectedEOF)
}
