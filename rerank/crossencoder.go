package rerank

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/internal/jsonapi"
	"github.com/ragkit-go/rag/provider"
	"golang.org/x/sync/errgroup"
)

// DefaultConcurrency is the number of provider requests one Rerank call
// keeps in flight when an Options' Concurrency is 0.
const DefaultConcurrency = 4

// maxResponseBody bounds a successful response body.
const maxResponseBody = 32 << 20

// crossEncoder is what the Cohere, Voyage and Jina rerankers share: one
// POST of a query and a batch of documents, answered with a relevance
// score for each document's index.
//
// Splitting a large candidate set into several requests is valid because
// these are cross-encoders: each (query, document) pair is scored on its
// own, so a document's score does not depend on which other documents
// share its request, and scores from separate requests are comparable.
type crossEncoder struct {
	provider    string
	api         *jsonapi.Endpoint
	maxDocs     int
	concurrency int
	retry       provider.RetryPolicy
	// sleep, if set, replaces the waits between retries (tests).
	sleep backoff.SleepFunc
	// body builds the request for one batch.
	body func(query string, docs []string) any
	// results extracts (index, score) pairs from a successful response.
	results func(data []byte) ([]indexScore, error)
}

type indexScore struct {
	Index int     `json:"index"`
	Score float64 `json:"relevance_score"`
}

func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// newEndpoint returns the JSON endpoint baseURL (or def when empty) +
// path of a provider.
func newEndpoint(prov, baseURL, def, path, apiKey string, client *http.Client) *jsonapi.Endpoint {
	if baseURL == "" {
		baseURL = def
	}
	var timeout time.Duration
	if client == nil || client.Timeout == 0 {
		timeout = defaultTimeout
	}
	return jsonapi.New(jsonapi.Options{
		Provider: prov,
		Label:    "rerank: " + prov,
		URL:      strings.TrimRight(baseURL, "/") + path,
		APIKey:   apiKey,
		Client:   client,
		Timeout:  timeout,
	})
}

// rerank scores passages in batches of at most maxDocs, at most
// concurrency requests at a time, and returns the scores in input order.
func (c *crossEncoder) rerank(ctx context.Context, query string, passages []string) ([]float64, error) {
	if c.sleep != nil {
		ctx = backoff.WithSleep(ctx, c.sleep)
	}
	return inBatches(ctx, c.provider, query, passages, c.maxDocs, c.concurrency, c.batch)
}

// inBatches scores passages with batch, size passages a call, at most
// concurrency calls at a time, and returns the scores in input order. The
// first failure cancels the other calls and is returned; the caller's
// cancellation is reported as such rather than as the error of the first
// call it interrupted.
func inBatches(ctx context.Context, provider, query string, passages []string, size, concurrency int,
	batch func(ctx context.Context, query string, docs []string, out []float64) error) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scores := make([]float64, len(passages))
	if len(passages) == 0 {
		return scores, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for start := 0; start < len(passages); start += size {
		end := min(start+size, len(passages))
		g.Go(func() error {
			return batch(gctx, query, passages[start:end], scores[start:end])
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rerank: %s: %w", provider, ctx.Err())
		}
		return nil, err
	}
	return scores, nil
}

// batch makes one request for docs, with retries, and writes their
// scores into out.
func (c *crossEncoder) batch(ctx context.Context, query string, docs []string, out []float64) error {
	body := c.body(query, docs)
	var data []byte
	err := c.retry.Do(ctx, func(ctx context.Context, _ int) error {
		var err error
		data, err = c.api.Raw(ctx, body, maxResponseBody)
		return err
	})
	if err != nil {
		return err
	}
	results, err := c.results(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadResponse, c.provider, err)
	}
	return fill(c.provider, results, out)
}

// fill writes each result's score at its index, checking that every
// document gets exactly one finite score.
func fill(provider string, results []indexScore, out []float64) error {
	if len(results) != len(out) {
		return fmt.Errorf("%w: %s: %d results for %d documents", ErrBadResponse, provider, len(results), len(out))
	}
	seen := make([]bool, len(out))
	for _, r := range results {
		if r.Index < 0 || r.Index >= len(out) || seen[r.Index] {
			return fmt.Errorf("%w: %s: result index %d out of range or repeated", ErrBadResponse, provider, r.Index)
		}
		if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
			return fmt.Errorf("%w: %s: score %v for document %d", ErrBadResponse, provider, r.Score, r.Index)
		}
		seen[r.Index] = true
		out[r.Index] = r.Score
	}
	return nil
}
