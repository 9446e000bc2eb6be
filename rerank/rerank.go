// Package rerank defines the Reranker contract: given a query and candidate
// passages, score how well each passage answers the query. Rerankers (cross
// encoders, provider APIs, LLM judges) are slower and better than vector
// similarity, so the pipeline uses them on a short list of candidates.
package rerank

import "context"

// Reranker scores passages against a query.
//
// Rerank returns exactly one score per passage, in the order of passages;
// higher means more relevant. Scores are comparable within one call only
// (the scale depends on the model). It may split the passages into several
// provider calls, and may retry transient provider failures (the HTTP
// rerankers of this package do, honouring Retry-After); the pipeline does
// not retry reranking on top of it.
//
// Concurrency: Rerank may be called concurrently from many goroutines.
//
// Ownership: Rerank must not modify passages nor keep it after returning;
// the returned slice belongs to the caller.
type Reranker interface {
	Rerank(ctx context.Context, query string, passages []string) ([]float64, error)
}

// Func adapts an ordinary function to the Reranker interface.
type Func func(ctx context.Context, query string, passages []string) ([]float64, error)

// Rerank calls f(ctx, query, passages).
func (f Func) Rerank(ctx context.Context, query string, passages []string) ([]float64, error) {
	return f(ctx, query, passages)
}
