package rerank

import (
	"context"
	"errors"
	"fmt"
	wait "github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/internal/httpx"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// Retry policy shared by every provider.
const (
	// DefaultMaxRetries is the number of retries after a failed attempt
	// when an Options' MaxRetries is 0.
	//
	// The retry policy of every provider: a request that got no answer
	// (connection error, timeout of the HTTP client) or was answered 408,
	// 429 or 5xx is sent again, up to MaxRetries times, after the
	// server's Retry-After (or retry-after-ms) when it gives one, else
	// after an exponential backoff with jitter (from 250-500 ms, doubling,
	// at most 20 s). Other 4xx answers are returned at once as an
	// *APIError. A Retry-After over 60 s, or one that ends after the
	// context's deadline, is not waited for: the *APIError is returned,
	// with its RetryAfter. Waiting stops when the context is done.
	// Bodies of failed attempts are drained so connections are reused.
	DefaultMaxRetries = 3
	baseBackoff       = 500 * time.Millisecond
	maxBackoff        = 20 * time.Second
	// maxRetryAfter is the longest Retry-After the client waits for; a
	// longer one is returned as the error instead.
	maxRetryAfter = 60 * time.Second
	// maxErrorBody is how much of an error body is read for its message.
	maxErrorBody = 64 << 10
)

// defaultHTTPClient is used when an Options' HTTPClient is nil.
var defaultHTTPClient = &http.Client{Timeout: 120 * time.Second, Transport: httpx.SharedTransport()}

// retrier is an HTTP client that retries: requests that got no answer
// (connection errors, timeouts) and answers 408, 429 and 5xx are tried
// again, up to maxRetries times, after an exponential backoff with full
// jitter (base 500 ms, doubling, capped at 20 s), or after the server's
// Retry-After when it gives one. Other statuses are returned at once. It
// stops when ctx is done, and does not wait past ctx's deadline.
//
// It implements go-openai's HTTPDoer, so the LLM reranker shares it.
type retrier struct {
	client     *http.Client
	maxRetries int
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func newRetrier(c *http.Client, maxRetries int) *retrier {
	if c == nil {
		c = defaultHTTPClient
	}
	switch {
	case maxRetries == 0:
		maxRetries = DefaultMaxRetries
	case maxRetries < 0:
		maxRetries = 0
	}
	return &retrier{client: c, maxRetries: maxRetries, sleep: wait.Sleep}
}

// Do sends req, retrying as described on retrier. The final response is
// returned as it is, whatever its status; responses of attempts that are
// retried are drained and closed. A request whose body cannot be
// replayed (no GetBody) is sent once.
func (r *retrier) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		try := req
		if attempt > 0 {
			try = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				try.Body = body
			}
		}
		resp, err := r.client.Do(try)
		if ctx.Err() != nil {
			if resp != nil {
				drainClose(resp.Body)
			}
			return nil, ctx.Err()
		}
		var retryAfter time.Duration
		if err == nil {
			if !retryableStatus(resp.StatusCode) {
				return resp, nil
			}
			retryAfter = parseRetryAfter(resp.Header, time.Now())
		}
		canReplay := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if attempt >= r.maxRetries || !canReplay || retryAfter > maxRetryAfter {
			return resp, err
		}
		wait := retryAfter
		if wait <= 0 {
			wait = backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return resp, err // the answer would come too late: report this one
		}
		if resp != nil {
			drainClose(resp.Body)
		}
		if serr := r.sleep(ctx, wait); serr != nil {
			return nil, serr
		}
	}
}

// backoff is the wait before retry number attempt+1: uniform in
// [d/2, d] with d = base·2^attempt capped at maxBackoff.
func backoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt < 16 {
		d = min(baseBackoff<<attempt, maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads how long the provider asks to wait: retry-after-ms
// or Retry-After (seconds or an HTTP date); 0 when absent or invalid.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	return httpx.RetryAfter(h, 0, now)
}

// drainClose reads what is left of a body (up to a limit) and closes it,
// so that the connection can be reused.
func drainClose(body io.ReadCloser) {
	if body != nil {
		httpx.Drain(body)
	}
}

// apiErrorFrom builds the error for a final non-2xx response, reading its
// body for the message. It drains and closes the body.
func apiErrorFrom(provider string, resp *http.Response) *APIError {
	defer drainClose(resp.Body)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := errorMessage(body)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &APIError{
		Provider:   provider,
		StatusCode: resp.StatusCode,
		Message:    msg,
		RetryAfter: parseRetryAfter(resp.Header, time.Now()),
	}
}

// transportError wraps an error from the HTTP client in an *APIError,
// unless ctx is done: then the error matches ctx.Err().
func transportError(ctx context.Context, provider string, err error) error {
	if ctx.Err() != nil {
		if errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("rerank: %s: %w", provider, ctx.Err())
	}
	return &APIError{Provider: provider, Err: err}
}
