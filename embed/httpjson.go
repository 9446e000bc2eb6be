package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ragkit-go/rag/internal/httpx"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the HTTP and JSON plumbing shared by the embedders that
// speak a provider's own JSON API directly (Voyage, Cohere): one POST of a
// JSON body, the mapping of every failure to an *APIError, and the
// splitting of large batches.

// jsonEndpoint posts JSON requests to one embedding endpoint of a
// provider. It is immutable, hence safe for concurrent use.
type jsonEndpoint struct {
	provider string // "voyage", "cohere": names the provider in errors
	model    string
	url      string
	apiKey   string
	client   *http.Client
	timeout  time.Duration // per request; <= 0 for none
}

// newJSONEndpoint returns the endpoint baseURL (or defaultBase when empty)
// + path. A nil client means a client over the transport shared by the
// embedders of this package; the client is used as is, never modified.
// timeout 0 means defaultTimeout, negative none.
func newJSONEndpoint(provider, model, baseURL, defaultBase, path, apiKey string, client *http.Client, timeout, defaultTimeout time.Duration) *jsonEndpoint {
	if baseURL == "" {
		baseURL = defaultBase
	}
	if client == nil {
		client = &http.Client{Transport: httpx.SharedTransport()}
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return &jsonEndpoint{
		provider: provider,
		model:    model,
		url:      strings.TrimRight(baseURL, "/") + path,
		apiKey:   apiKey,
		client:   client,
		timeout:  timeout,
	}
}

// maxErrorBody bounds how much of an error answer is read for its message.
const maxErrorBody = 64 << 10

// post sends in as a JSON body and decodes a 2xx answer into out.
//
// Errors: when ctx is done, an error matching ctx.Err(); a non-2xx answer
// is an *APIError with the status, the provider's message and RetryAfter;
// a request without an answer (connection error, the endpoint's timeout)
// or with a 2xx answer that is not the JSON expected is an *APIError with
// StatusCode 0 that does not match context errors. The answer's body is
// drained (up to httpx.DrainLimit) and closed in every case, so the connection
// returns to the pool.
func (c *jsonEndpoint) post(ctx context.Context, in, out any) error {
	if err := ctx.Err(); err != nil {
		return c.ctxError(ctx)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("embed: %s: encoding the request: %w", c.provider, err)
	}
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("embed: %s: %w", c.provider, err)
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
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, httpx.DrainLimit)
		resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if readErr != nil && ctx.Err() != nil {
			return c.ctxError(ctx)
		}
		ae := &APIError{
			StatusCode: resp.StatusCode,
			RetryAfter: httpx.RetryAfter(resp.Header, resp.StatusCode, time.Now()),
		}
		ae.Code, ae.Message = errorBody(msg)
		if ae.Message == "" {
			ae.Message = http.StatusText(resp.StatusCode)
		}
		if resp.StatusCode == http.StatusBadRequest && tooLong(ae.Message) {
			ae.Err = ErrInputTooLong
		}
		return ae
	}

	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if ctx.Err() != nil {
			return c.ctxError(ctx)
		}
		if reqCtx.Err() != nil {
			return c.noAnswer(ctx, reqCtx, err)
		}
		return &APIError{
			Code:    "invalid_response",
			Message: fmt.Sprintf("%s answered %d with a malformed body: %v", c.provider, resp.StatusCode, err),
			Err:     err,
		}
	}
	return nil
}

// ctxError is the error of a request abandoned because ctx is done.
func (c *jsonEndpoint) ctxError(ctx context.Context) error {
	return fmt.Errorf("embed: %s %s: %w", c.provider, c.model, ctx.Err())
}

// noAnswer maps the error of a request that got no (complete) answer.
func (c *jsonEndpoint) noAnswer(ctx, reqCtx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return c.ctxError(ctx)
	case reqCtx.Err() != nil:
		// Only this request timed out, not the caller's context: keep
		// the cause readable but not matching context errors.
		return &APIError{Message: "request timed out after " + c.timeout.String(), Err: errors.New(err.Error())}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		// An http.Client.Timeout, not the caller's context.
		return &APIError{Err: errors.New(err.Error())}
	}
	return &APIError{Err: err}
}

// errorBody extracts the code and message of an error answer in the
// shapes providers use: {"detail": "..."} and FastAPI's {"detail":
// [{"msg": "..."}]} (Voyage), {"message": "..."} (Cohere), and
// {"error": {"message", "code", "type"}} or {"error": "..."} (OpenAI-style
// gateways). Any other body gives its start, trimmed, as the message.
func errorBody(body []byte) (code, message string) {
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

// tooLong reports whether the message of a 400 answer says an input is
// longer than the model's context ("... exceeds the context length ...").
func tooLong(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "context length") || strings.Contains(msg, "context window") || strings.Contains(msg, "too long")
}

// inBatches embeds texts in consecutive parts of at most size texts, one
// request after the other, and returns the vectors of all parts in order.
// An error of a later part says which texts it concerned; no vectors are
// returned with an error.
func inBatches(ctx context.Context, texts []string, size int, embed func(context.Context, []string) ([][]float32, error)) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	if len(texts) <= size {
		return embed(ctx, texts)
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += size {
		part := texts[start:min(start+size, len(texts))]
		vecs, err := embed(ctx, part)
		if err != nil {
			if start > 0 {
				return nil, fmt.Errorf("embed: texts %d to %d: %w", start, start+len(part)-1, err)
			}
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// tokenLimit is a token limit option: 0 means def, negative no limit.
func tokenLimit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// description is what a provider embedder tells of itself through
// Dimensioner, Namer and Limiter, worked out once by its constructor.
type description struct {
	knownDims int    // Dimensions(): asked for, else the model's; 0 unknown
	name      string // Name()
	limits    Limits // Limits()
}

// describe works out a provider embedder's description: the dimension
// asked for (dims > 0), else the model's documented one; the name
// "provider:model[:dims]"; asked's limits, where a MaxInputs <= 0 and
// token limits of 0 take def's and negative token limits mean none.
func describe(provider, model string, dims, modelDims int, asked, def Limits) description {
	d := description{knownDims: dims}
	if d.knownDims <= 0 {
		d.knownDims = modelDims
	}
	d.name = provider + ":" + model
	if d.knownDims > 0 {
		d.name += ":" + strconv.Itoa(d.knownDims)
	}
	d.limits = Limits{
		MaxInputs:        asked.MaxInputs,
		MaxInputTokens:   tokenLimit(asked.MaxInputTokens, def.MaxInputTokens),
		MaxRequestTokens: tokenLimit(asked.MaxRequestTokens, def.MaxRequestTokens),
	}
	if d.limits.MaxInputs <= 0 {
		d.limits.MaxInputs = def.MaxInputs
	}
	return d
}
