// Package jsonapi is the one JSON-over-HTTP client of the module's
// providers that have their own APIs (embed's Voyage and Cohere, rerank's
// Cohere, Voyage and Jina): one POST of a JSON body to one endpoint, and
// the mapping of every failure to a *provider.Error.
package jsonapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ragkit-go/rag/internal/httpx"
	"github.com/ragkit-go/rag/provider"
)

// maxErrorBody bounds how much of an error answer is read for its message.
const maxErrorBody = 64 << 10

// Endpoint posts JSON requests to one endpoint of a provider. It is
// immutable, hence safe for concurrent use. It does not retry: callers
// retry through provider.RetryPolicy.
type Endpoint struct {
	provider string // "voyage", "cohere", "jina": the Provider of errors
	label    string // prefixes errors that are not the provider's
	url      string
	apiKey   string
	client   *http.Client
	timeout  time.Duration // per request; <= 0 for none
}

// Options configure New. Provider, Label and URL are required.
type Options struct {
	Provider string // the Provider of the errors
	// Label prefixes the errors that are not *provider.Error (the
	// caller's cancellation, an unencodable request), e.g. "embed:
	// voyage voyage-3.5".
	Label  string
	URL    string // the endpoint
	APIKey string // sent as "Authorization: Bearer <APIKey>" when set
	// Client sends the requests. It is not modified: the endpoint uses a
	// copy wrapped by httpx.Wrap, so header observers see every answer.
	// Default: a client over httpx.SharedTransport.
	Client *http.Client
	// Timeout bounds each request; <= 0 for none.
	Timeout time.Duration
}

// New returns the endpoint of o.
func New(o Options) *Endpoint {
	return &Endpoint{
		provider: o.Provider,
		label:    o.Label,
		url:      o.URL,
		apiKey:   o.APIKey,
		client:   httpx.Wrap(o.Client),
		timeout:  o.Timeout,
	}
}

// URL returns the endpoint's URL.
func (c *Endpoint) URL() string { return c.url }

// Post sends in as a JSON body and decodes a 2xx answer into out. A 2xx
// answer that is not the JSON expected is a *provider.Error with
// StatusCode 0 and Code "invalid_response" (retryable: the next answer
// may be whole). For the other errors, see Raw.
func (c *Endpoint) Post(ctx context.Context, in, out any) error {
	return c.do(ctx, in, func(resp *http.Response, reqCtx context.Context) error {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			if ctx.Err() != nil {
				return c.ctxError(ctx)
			}
			if reqCtx.Err() != nil {
				return c.noAnswer(ctx, reqCtx, err)
			}
			return &provider.Error{
				Provider: c.provider,
				Code:     "invalid_response",
				Message:  fmt.Sprintf("%s answered %d with a malformed body: %v", c.provider, resp.StatusCode, err),
				Err:      err,
			}
		}
		return nil
	})
}

// Raw sends in as a JSON body and returns the body of a 2xx answer, of
// at most limit bytes, for the caller to decode.
//
// Errors: when ctx is done, an error matching ctx.Err(); a non-2xx answer
// is a *provider.Error with the status, the provider's code and message
// (see ErrorBody) and RetryAfter; a request without an (entire) answer
// (connection error, the endpoint's timeout) is a *provider.Error with
// StatusCode 0 that does not match context errors. The answer's body is
// drained (up to httpx.DrainLimit) and closed in every case, so the
// connection returns to the pool.
func (c *Endpoint) Raw(ctx context.Context, in any, limit int64) ([]byte, error) {
	var data []byte
	err := c.do(ctx, in, func(resp *http.Response, reqCtx context.Context) error {
		var err error
		data, err = io.ReadAll(io.LimitReader(resp.Body, limit))
		if err != nil {
			return c.noAnswer(ctx, reqCtx, err)
		}
		return nil
	})
	return data, err
}

// do sends one request and passes a 2xx answer to read.
func (c *Endpoint) do(ctx context.Context, in any, read func(resp *http.Response, reqCtx context.Context) error) error {
	if ctx.Err() != nil {
		return c.ctxError(ctx)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encoding the request: %w", c.label, err)
	}
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", c.label, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}

	resp, err := c.client.Do(req)
	if err != nil {
		return c.noAnswer(ctx, reqCtx, err)
	}
	defer httpx.Drain(resp.Body)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if readErr != nil && ctx.Err() != nil {
			return c.ctxError(ctx)
		}
		e := &provider.Error{
			Provider:   c.provider,
			StatusCode: resp.StatusCode,
			RetryAfter: httpx.RetryAfter(resp.Header, resp.StatusCode, time.Now()),
		}
		e.Code, e.Message = ErrorBody(msg)
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return e
	}
	return read(resp, reqCtx)
}

// ctxError is the error of a request abandoned because ctx is done.
func (c *Endpoint) ctxError(ctx context.Context) error {
	return fmt.Errorf("%s: %w", c.label, ctx.Err())
}

// noAnswer maps the error of a request that got no (entire) answer.
func (c *Endpoint) noAnswer(ctx, reqCtx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return c.ctxError(ctx)
	case reqCtx.Err() != nil:
		// Only this request timed out, not the caller's context: keep
		// the cause readable but not matching context errors.
		return &provider.Error{Provider: c.provider, Message: "request timed out after " + c.timeout.String(), Err: errors.New(err.Error())}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		// An http.Client.Timeout, not the caller's context.
		return &provider.Error{Provider: c.provider, Err: errors.New(err.Error())}
	}
	return &provider.Error{Provider: c.provider, Err: err}
}

// ErrorBody extracts the code and message of an error answer in the
// shapes providers use: {"detail": "..."} and FastAPI's {"detail":
// [{"msg": "..."}]} (Voyage, Jina), {"message": "..."} (Cohere), and
// {"error": {"message", "code", "type"}} or {"error": "..."} (OpenAI-style
// gateways). Any other body gives its start, trimmed, as the message.
func ErrorBody(body []byte) (code, message string) {
	var shape struct {
		Message json.RawMessage `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Error   json.RawMessage `json:"error"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(body, &shape) == nil {
		code = jsonCode(shape.Code)
		for _, raw := range []json.RawMessage{shape.Message, shape.Detail, shape.Error} {
			if c, m := jsonMessage(raw); m != "" {
				if code == "" {
					code = c
				}
				return code, shorten(m, 1000)
			}
		}
	}
	return code, shorten(strings.TrimSpace(string(body)), 200)
}

// shorten cuts s to at most n bytes and an ellipsis, on a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// jsonMessage reads a message from a string, an object with a message (and
// maybe a code or type), or a list of objects with msg or message.
func jsonMessage(raw json.RawMessage) (code, message string) {
	if len(raw) == 0 {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "", s
	}
	var obj struct {
		Message string          `json:"message"`
		Msg     string          `json:"msg"`
		Code    json.RawMessage `json:"code"`
		Type    string          `json:"type"`
	}
	if json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Msg != "") {
		code = jsonCode(obj.Code)
		if code == "" {
			code = obj.Type
		}
		return code, obj.Message + obj.Msg
	}
	var list []struct {
		Msg     string `json:"msg"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &list) == nil {
		var parts []string
		for _, it := range list {
			if m := it.Msg + it.Message; m != "" {
				parts = append(parts, m)
			}
		}
		return "", strings.Join(parts, "; ")
	}
	return "", ""
}

// jsonCode reads an error code given as a string or a number.
func jsonCode(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
