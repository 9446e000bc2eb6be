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

	"github.com/ragkit-go/rag/internal/httpx"
	"github.com/ragkit-go/rag/internal/redact"
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

// Error returns, with bearer tokens and keys in OpenAI's shape replaced
// by "[REDACTED]", "provider: <Provider> answered <status> (<code>):
// <message>", or "provider: <Provider> request failed: <message or
// cause>" when no answer came. A misconfigured call (see Misconfigured)
// says what to check: "provider: openai request failed: connection
// refused: is the server at http://127.0.0.1:8080 running? (check
// OPENAI_BASE_URL or the BaseURL option): <cause>".
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
	var un *httpx.Unreachable
	if errors.As(e.Err, &un) {
		b.WriteString(": ")
		b.WriteString(unreachableHint(e.Provider, un))
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if h := statusHint(e.Provider, e.StatusCode); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteByte(')')
	}
	// The clients remove their own credentials from what providers
	// answer; a bearer token from anywhere else goes too.
	return redact.String(b.String())
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
//
// A misconfigured call (see Misconfigured) is never retryable: a request
// to a server that has never answered and cannot be reached is not
// retried, though it has no answer.
func (e *Error) Retryable() bool { return !e.Misconfigured() && retryableStatus(e.StatusCode) }

// Misconfigured reports whether the failure says the client is set up
// wrong, so that nothing will work until its configuration changes:
//
//   - 401 Unauthorized, 403 Forbidden: the API key;
//   - 404 Not Found: the base URL, or the model's name;
//   - no answer from a server that has never answered this process,
//     because its host name does not resolve or it refuses the
//     connection: the base URL, or a server that is not running.
//
// A server that has answered before and then refuses connections, 429s,
// 5xx and timeouts are transient trouble: not misconfigured, retryable.
func (e *Error) Misconfigured() bool {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	case 0:
		var un *httpx.Unreachable
		return errors.As(e.Err, &un)
	}
	return false
}

// Misconfigured reports whether err's chain holds an *Error that is
// misconfigured (see Error.Misconfigured).
func Misconfigured(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Misconfigured()
}

// unreachableHint says what to check when a server cannot be reached.
func unreachableHint(prov string, un *httpx.Unreachable) string {
	setting := "the client's URL"
	if prov == "openai" {
		setting = "OPENAI_BASE_URL or the BaseURL option"
	}
	if un.DNS {
		return "cannot resolve host " + strconv.Quote(un.Host) + " of " + un.Server + " (check " + setting + ")"
	}
	return "connection refused: is the server at " + un.Server + " running? (check " + setting + ")"
}

// statusHint says what to check after an answer that means the client is
// misconfigured; "" for other statuses.
func statusHint(prov string, status int) string {
	key, url := "check the API key", "check the URL and the model name"
	if prov == "openai" {
		key, url = "check OPENAI_API_KEY or the APIKey option", "check the base URL (OPENAI_BASE_URL or the BaseURL option) and the model name"
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return key
	case http.StatusNotFound:
		return url
	}
	return ""
}

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
