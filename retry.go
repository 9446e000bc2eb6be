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

	"github.com/ragkit-go/rag/embed"
)

// retryable reports whether a failed provider call may succeed if made
// again: a retryable *embed.APIError (429, 5xx, timeouts), or a network
// error. Validation errors and other 4xx answers are permanent.
func retryable(err error) bool {
	var ae *embed.APIError
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
func retry(ctx context.Context, o *IngestOptions, call func(ctx context.Context, attempt int) error, onAPIError func(*embed.APIError)) error {
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
			err = &embed.APIError{Message: "request timed out after " + o.RequestTimeout.String(), Err: err}
		}
		if !retryable(err) || attempt >= o.MaxRetries {
			return err
		}
		delay := backoff.Delay(attempt, o.MinBackoff, o.MaxBackoff)
		var ae *embed.APIError
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

// budget is the pipeline's rate budget, shared by every Ingest and by
// query embeddings: requests and tokens per minute, and a pause after a
// 429 that holds for every request.
type budget struct {
	rpm, tpm *limiter     // nil when unlimited
	pause    atomic.Int64 // unix nanos before which no request is sent
}

func newBudget(o *IngestOptions) *budget {
	b := &budget{}
	if o.RequestsPerMinute > 0 {
		b.rpm = newLimiter(o.RequestsPerMinute, 1)
	}
	if o.TokensPerMinute > 0 {
		b.tpm = newLimiter(o.TokensPerMinute, o.BatchTokens)
	}
	return b
}

// wait waits for a 429 pause to pass and for the limiters.
func (b *budget) wait(ctx context.Context, tokens int) error {
	if until := b.pause.Load(); until > 0 {
		if d := time.Until(time.Unix(0, until)); d > 0 {
			if err := backoff.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	if b.rpm != nil {
		if err := b.rpm.wait(ctx, 1); err != nil {
			return err
		}
	}
	if b.tpm != nil {
		if err := b.tpm.wait(ctx, tokens); err != nil {
			return err
		}
	}
	return nil
}

// onAPIError pauses every request after a 429 for its Retry-After: a rate
// limit holds for every request, not only the one that met it.
func (b *budget) onAPIError(ae *embed.APIError) {
	if ae.StatusCode != 429 || ae.RetryAfter <= 0 {
		return
	}
	until := time.Now().Add(ae.RetryAfter).UnixNano()
	for {
		cur := b.pause.Load()
		if cur >= until || b.pause.CompareAndSwap(cur, until) {
			return
		}
	}
}

// embedCall makes one embedding request (of queries when query is set)
// within the pipeline's budget, retried by its policy, and checks the
// vectors. It returns the number of requests made, retries included.
func (p *Pipeline) embedCall(ctx context.Context, texts []string, tokens int, query bool) ([][]float32, int, error) {
	var vecs [][]float32
	requests := 0
	err := retry(ctx, &p.ingest, func(ctx context.Context, attempt int) error {
		if err := p.budget.wait(ctx, tokens); err != nil {
			return err
		}
		requests++
		var err error
		if qe, ok := p.embedder.(embed.QueryEmbedder); ok && query {
			vecs, err = qe.EmbedQueries(ctx, texts)
		} else {
			vecs, err = p.embedder.Embed(ctx, texts)
		}
		if err != nil {
			return err
		}
		return p.dims.Check(vecs, len(texts))
	}, p.budget.onAPIError)
	return vecs, requests, err
}
