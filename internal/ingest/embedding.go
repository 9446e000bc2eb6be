package ingest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
)

// Embedding makes a pipeline's embedding requests, for ingestion and
// queries alike: each within the one rate budget, retried by the one
// policy, its answer checked against the one dimension. The provider's
// rate-limit headers adjust the budget, and a 429 pauses every request
// that shares it. An attempt that runs far past the latencies seen (see
// Latency; one tracker for ingestion, one for queries) is cut as hung and
// retried, long before Retry.RequestTimeout; a negative RequestTimeout
// turns that off with the timeout. Safe for concurrent use.
type Embedding struct {
	Embedder  embed.Embedder
	Retry     provider.RetryPolicy
	Budget    *provider.Budget // nil: no limits
	Dimension *Dimension

	docs, queries Latency
}

// errHung is the cause of an attempt cut as hung.
var errHung = errors.New("ingest: embedding request hung")

// Embed embeds texts (tokens in all, for the budget), in query mode when
// query is set and the embedder has one (embed.QueryEmbedder). It returns
// the vectors, the requests made (retries included) and the last error.
// It suits Config.Embed.
func (e *Embedding) Embed(ctx context.Context, texts []string, tokens int, query bool) ([][]float32, int, error) {
	var vecs [][]float32
	requests := 0
	policy := e.Retry
	onRetry := policy.OnRetry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		var pe *provider.Error
		if errors.As(err, &pe) && pe.StatusCode == 429 {
			// A rate limit holds for every request, not only this one.
			e.Budget.Pause(max(pe.RetryAfter, wait))
		}
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
	}
	if e.Budget != nil {
		ctx = provider.WithHeaderObserver(ctx, e.Budget.Observe)
	}
	lat := &e.docs
	if query {
		lat = &e.queries
	}
	err := policy.Do(ctx, func(ctx context.Context, _ int) error {
		if err := e.Budget.Wait(ctx, tokens); err != nil {
			return err
		}
		requests++
		return e.attempt(ctx, lat, func(ctx context.Context) error {
			var err error
			if qe, ok := e.Embedder.(embed.QueryEmbedder); ok && query {
				vecs, err = qe.EmbedQueries(ctx, texts)
			} else {
				vecs, err = e.Embedder.Embed(ctx, texts)
			}
			if err != nil {
				return err
			}
			return e.Dimension.Check(vecs, len(texts))
		})
	})
	return vecs, requests, err
}

// attempt makes one attempt of call, cut as hung when lat says so, and
// records its latency in lat when it is answered or cut. A cut attempt
// fails with a retryable *provider.Error.
func (e *Embedding) attempt(ctx context.Context, lat *Latency, call func(context.Context) error) error {
	limit := e.Retry.RequestTimeout
	if limit < 0 {
		return call(ctx)
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	var (
		mu    sync.Mutex
		done  bool
		timer *time.Timer
	)
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		hung, wait := lat.Next(time.Since(start), limit)
		if hung {
			cancel(errHung)
			return
		}
		timer.Reset(wait)
	}
	_, wait := lat.Next(0, limit)
	mu.Lock()
	timer = time.AfterFunc(wait, check)
	mu.Unlock()

	err := call(actx)

	mu.Lock()
	done = true
	timer.Stop()
	mu.Unlock()
	elapsed := time.Since(start)
	switch {
	case err == nil:
		lat.Observe(elapsed)
	case ctx.Err() == nil && errors.Is(context.Cause(actx), errHung):
		lat.Observe(elapsed)
		// Retryable, and no longer matching the context errors: the
		// caller's context is fine.
		return &provider.Error{
			Message: "request hung: no answer after " + elapsed.Round(time.Millisecond).String() + ", far longer than recent answers took",
			Err:     errors.New(err.Error()),
		}
	}
	return err
}
