package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a failed call to a provider's API: an error answer (StatusCode
// set), or a request that got no usable answer (StatusCode 0: a
// connection error, a timeout, a body cut short or malformed). Every
// provider client of the module (embed, llm, rerank) reports its
// failures as an *Error; find it with errors.As.
type Error struct {
	// Provider names the API spoken: "openai" (OpenAI and every
	// OpenAI-compatible server), "voyage", "cohere", "jina".
	Provider string
	// StatusCode is the HTTP status; 0 when the request got no answer.
	StatusCode int
	// Code is the provider's error code, else its error type; may be
	// empty.
	Code string
	// Message is the provider's message, or what went wrong.
	Message string
	// RetryAfter is how long the provider asked to wait (retry-after-ms,
	// Retry-After, or for a 429 the x-ratelimit-reset-* headers); 0 when
	// it did not say.
	RetryAfter time.Duration
	// Err is the underlying error, if any. When only the request's own
	// timeout fired, it does not match the context errors: the caller's
	// context is fine.
	Err error
}

// Error returns "provider: <Provider> answered <status> (<code>):
// <message>", or "provider: <Provider> request failed: <message or
// cause>" when no answer came.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("provider: ")
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteByte(' ')
	}
	if e.StatusCode == 0 {
		b.WriteString("request failed")
	} else {
		b.WriteString("answered ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteByte(')')
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed if made again.
// The rule, the same for every provider:
//
//   - 0 (no usable answer: connection errors, timeouts, bodies cut short
//     or malformed), 408 Request Timeout, 409 Conflict, 425 Too Early,
//     429 Too Many Requests and every 5xx are retryable;
//   - every other status (400, 401, 403, 404, 422, ...) is permanent.
func (e *Error) Retryable() bool { return retryableStatus(e.StatusCode) }

func retryableStatus(code int) bool {
	switch code {
	case 0, http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}

// Retryable reports whether a failed call may succeed if made again:
//
//   - the first error in err's chain with a Retryable() bool method (an
//     *Error, say) decides;
//   - otherwise context cancellation and deadlines are permanent (the
//     caller gave up), network errors (net.Error) and io.ErrUnexpectedEOF
//     are retryable, and anything else is permanent.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF)
}
