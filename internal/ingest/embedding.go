package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/internal/telemetry"
	"github.com/ragkit-go/rag/provider"
)

// Embedding makes a pipeline's embedding requests, for ingestion and
// queries alike: each within the one rate budget, retried by the one
// policy, its answer checked against the one dimension. The provider's
// rate-limit headers adjust the budget, and a 429 pauses every request
// that shares it. An attempt that runs far past the latencies seen (see
// Latency; one tracker for ingestion, one for queries) is cut as hung and
// retried, long before Retry.RequestTimeout; a negative RequestTimeout
// turns that off with the timeout. Each call is an "embeddings {model}"
// span (retries included) with the conventions' metrics, and each retry
// is logged once. Safe for concurrent use.
type Embedding struct {
	Embedder embed.Embedder
	Retry    provider.RetryPolicy
	Budget   *provider.Budget // nil: no limits
	// Shared, if not nil, is waited on before Budget before every
	// attempt: a budget shared with other processes.
	Shared    provider.Limiter
	Dimension *Dimension
	Telemetry *telemetry.Telemetry // nil: no spans nor metrics
	Logger    *slog.Logger         // nil: no logs
	// Provider and Model name the embedder in spans and metrics.
	Provider, Model string

	docs, queries Latency
}

// errHung is the cause of an attempt cut as hung.
var errHung = errors.New("ingest: embedding request hung")

// Embed embeds texts (tokens in all, for the budget), in query mode when
// query is set and the embedder has one (embed.QueryEmbedder). It returns
// the vectors, the requests made (retries included) and the last error.
// It suits Config.Embed.
func (e *Embedding) Embed(ctx context.Context, texts []string, tokens int, query bool) (vecs [][]float32, requests int, err error) {
	sctx, op := e.Telemetry.Start(ctx, telemetry.OpEmbeddings, e.Provider, e.Model, trace.SpanKindClient, true,
		telemetry.Inputs.Int(len(texts)))
	op.InputTokens(tokens)
	defer func() {
		op.Set(telemetry.Requests.Int(requests))
		if err == nil && len(vecs) > 0 {
			op.Set(telemetry.EmbeddingsDimension.Int(len(vecs[0])))
		}
		if err != nil && ctx.Err() != nil && e.Logger != nil {
			e.Logger.Debug("rag: embedding request abandoned", telemetry.KeyOp, telemetry.OpEmbeddings, telemetry.KeyErr, context.Cause(ctx))
		}
		op.End(ctx, err)
	}()
	ctx = sctx
	policy := e.Retry
	onRetry := policy.OnRetry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		pause := wait
		var pe *provider.Error
		if errors.As(err, &pe) && pe.StatusCode == 429 {
			// A rate limit holds for every request, not only this one.
			pause = max(pe.RetryAfter, wait)
			e.Budget.Pause(pause)
		}
		telemetry.LogRetry(e.Logger, telemetry.OpEmbeddings, attempt, pause, err)
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
	err = policy.Do(ctx, func(ctx context.Context, _ int) error {
		// The shared budget first: a pause of the local one that began
		// meanwhile (a 429, low x-ratelimit headers) still holds the
		// request, but the two waits overlap rather than add up.
		if e.Shared != nil {
			if err := e.Shared.Wait(ctx, tokens); err != nil {
				return err
			}
		}
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
