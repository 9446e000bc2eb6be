package llm

import (
	"context"
	"errors"
	"iter"

	"github.com/ragkit-go/rag/provider"
)

// RetryOptions configure Retry: they are the module's one retry policy,
// provider.RetryPolicy (MaxRetries, MinBackoff, MaxBackoff,
// RequestTimeout, MaxRetryAfter, OnRetry). The zero value works.
type RetryOptions = provider.RetryPolicy

// Retrier is a Model that retries the calls of another. See Retry.
type Retrier struct {
	m Model
	o provider.RetryPolicy
}

var (
	_ Model = (*Retrier)(nil)
	_ Namer = (*Retrier)(nil)
)

// Retry returns a Model that makes the calls of m again when they fail
// with a retryable error (see provider.Retryable; a stream cut short,
// ErrIncomplete, is one), as o.Do does: up to o.MaxRetries times, waiting
// an exponential backoff with full jitter, or the provider's Retry-After
// when that is longer.
//
// o.RequestTimeout bounds each Generate attempt. It does not bound a
// Stream, whose length is the caller's: the model bounds its own waits
// (OpenAIOptions.Timeout). A stream is retried only while it has yielded
// nothing: once a chunk has reached the caller, a failure is returned as
// it is, since the caller has already used part of the reply. Cancelling
// ctx stops the waits too.
func Retry(m Model, o RetryOptions) *Retrier {
	return &Retrier{m: m, o: o}
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
	var resp *Response
	err := r.o.Do(ctx, func(ctx context.Context, _ int) error {
		var err error
		resp, err = r.m.Generate(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// errStreamed stops the retries of a stream that failed after yielding:
// it is not retryable.
var errStreamed = errors.New("llm: stream failed after yielding text")

// Stream calls the model's Stream, with retries until the first chunk.
func (r *Retrier) Stream(ctx context.Context, req Request) iter.Seq2[Delta, error] {
	return func(yield func(Delta, error) bool) {
		p := r.o
		p.RequestTimeout = -1 // see Retry
		var (
			delivered bool
			late      error // the failure after a chunk was yielded
		)
		err := p.Do(ctx, func(ctx context.Context, _ int) error {
			for c, err := range r.m.Stream(ctx, req) {
				if err != nil {
					if delivered {
						late = err
						return errStreamed
					}
					return err
				}
				delivered = true
				if !yield(c, nil) {
					return nil
				}
			}
			return nil
		})
		switch {
		case late != nil:
			yield(Delta{}, late)
		case err != nil:
			yield(Delta{}, err)
		}
	}
}
