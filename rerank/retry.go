package rerank

import (
	"time"

	"github.com/ragkit-go/rag/provider"
)

// Retry policy shared by every reranker.
const (
	// DefaultMaxRetries is the number of retries after a failed attempt
	// when an Options' MaxRetries is 0.
	//
	// The rerankers retry with provider.RetryPolicy and its rule of
	// which failures are retryable (provider.Retryable): a request that
	// got no answer (connection error, timeout) or was answered 408, 409,
	// 425, 429 or 5xx is sent again, up to MaxRetries times, after the
	// provider's Retry-After (or retry-after-ms) when it is longer than
	// the exponential backoff with full jitter (from 250-500 ms,
	// doubling, at most 30 s). Other 4xx answers are returned at once as
	// a *provider.Error. A Retry-After over 60 s, or one that ends after
	// the context's deadline, is not waited for: the *provider.Error is
	// returned, with its RetryAfter. Waiting stops when the context is
	// done. Bodies of failed attempts are drained so connections are
	// reused. Reranking sits on the query path, hence fewer retries than
	// the policy's default.
	DefaultMaxRetries = 3
	// defaultTimeout bounds each request when the caller's HTTP client
	// does not.
	defaultTimeout = 120 * time.Second
	// maxRetryAfter is the longest Retry-After the rerankers wait for; a
	// longer one is returned as the error instead.
	maxRetryAfter = 60 * time.Second
)

// retryPolicy is the policy of a reranker whose options ask for
// maxRetries retries (0: DefaultMaxRetries; negative: none). Each request
// is bounded by the client itself.
func retryPolicy(maxRetries int) provider.RetryPolicy {
	if maxRetries == 0 {
		maxRetries = DefaultMaxRetries
	}
	return provider.RetryPolicy{MaxRetries: maxRetries, MaxRetryAfter: maxRetryAfter, RequestTimeout: -1}
}
