// Package openaix holds what the module's clients of OpenAI-compatible
// APIs (embed.OpenAI, llm.OpenAI, rerank.LLM) share around go-openai:
// building its client from a provider.OpenAIConfig, and describing its
// failures as *provider.Error.
package openaix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/ragkit-go/rag/internal/httpx"
	"github.com/ragkit-go/rag/internal/redact"
	"github.com/ragkit-go/rag/provider"
)

// Provider is the Provider of the errors of OpenAI-compatible APIs.
const Provider = "openai"

// NewClient returns a go-openai client for c. azureVersion is the API
// version sent to Azure when c.AzureAPIVersion is empty. The HTTP client
// is a copy of c.HTTPClient wrapped by httpx.Wrap, so that Slots and
// header observers see every answer. A streaming client drops the HTTP
// client's Timeout, which would cut long streams: it bounds each call
// itself.
func NewClient(c provider.OpenAIConfig, azureVersion string, streaming bool) *openai.Client {
	var cfg openai.ClientConfig
	if c.Azure {
		cfg = openai.DefaultAzureConfig(c.APIKey, c.URL())
		cfg.APIVersion = c.AzureAPIVersion
		if cfg.APIVersion == "" {
			cfg.APIVersion = azureVersion
		}
	} else {
		cfg = openai.DefaultConfig(c.APIKey)
		cfg.BaseURL = c.URL()
	}
	cfg.OrgID = c.Organization
	hc := httpx.Wrap(c.HTTPClient)
	if streaming {
		hc.Timeout = 0
	}
	cfg.HTTPClient = hc
	return openai.NewClientWithConfig(cfg)
}

// LoadEnv completes *c from the environment (provider.OpenAIConfig.WithEnv)
// and validates it: the body of embed.OpenAIFromEnv and
// llm.OpenAIFromEnv.
func LoadEnv(c *provider.OpenAIConfig) error {
	*c = c.WithEnv()
	return c.Validate()
}

// Failure describes err, returned by a go-openai call whose request
// reported to slot, as a *provider.Error. timedOut says the call's own
// timeout (of length timeout) fired: then, as for an http.Client timeout,
// the error no longer matches the context errors, since the caller's
// context is fine. unsent reports that go-openai refused the request
// before sending it (an invalid parameter, say); the error is then not
// the provider's and the caller reports its own.
func Failure(err error, slot *httpx.Slot, timedOut bool, timeout time.Duration) (e *provider.Error, unsent bool) {
	e = &provider.Error{Provider: Provider, Err: err}
	var (
		oe *openai.APIError
		re *openai.RequestError
		ue *url.Error
	)
	switch {
	case errors.As(err, &oe):
		e.StatusCode = oe.HTTPStatusCode
		e.Message = oe.Message
		switch c := oe.Code.(type) {
		case string:
			e.Code = c
		case int:
			if c != 0 { // go-openai decodes a null code as 0
				e.Code = strconv.Itoa(c)
			}
		}
		if e.Code == "" {
			e.Code = oe.Type
		}
		if e.StatusCode == 0 {
			// An error sent inside a 200 answer (an event of a stream):
			// the status its code stands for, so that it is retried, or
			// not, as the same error answered with a status would be.
			e.StatusCode = InBandStatus(oe)
		}
		if e.StatusCode == http.StatusTooManyRequests && slot.Status/100 == 2 {
			// In band, no header says how long to wait; the message may.
			e.RetryAfter = tryAgainIn(oe.Message)
		}
	case errors.As(err, &re):
		e.StatusCode = re.HTTPStatusCode
		e.Message = strings.TrimSpace(string(re.Body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
		if e.Message == "" {
			e.Message = http.StatusText(re.HTTPStatusCode)
		}
	case timedOut:
		e.Message = "request timed out after " + timeout.String()
		e.Err = errors.New(err.Error())
	case slot.Status >= 200 && slot.Status < 300:
		e.Code = "invalid_response"
		e.Message = "malformed response body"
	case slot.Status == 0 && !errors.As(err, &ue):
		unsent = true
	default:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			e.Err = errors.New(err.Error()) // an http.Client timeout
		}
	}
	if e.StatusCode >= 400 && slot.Header != nil {
		e.RetryAfter = httpx.RetryAfter(slot.Header, e.StatusCode, time.Now())
	}
	// Error answers come redacted from httpx.Transport; an error event
	// inside a 2xx stream does not.
	if m, c := redact.String(e.Message, slot.Secrets...), redact.String(e.Code, slot.Secrets...); m != e.Message || c != e.Code {
		e.Message, e.Code = m, c
		e.Err = redactedError{msg: redact.String(e.Err.Error(), slot.Secrets...), err: e.Err}
	}
	return e, unsent
}

// redactedError is an error whose text had credentials removed; the
// error underneath stays reachable by errors.As.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// InBandErrors is a Slot's OnSuccess for calls answered by one JSON body:
// an answer 200 whose body is an error object ({"error": {...}}, as some
// servers send) is given to go-openai as the status the error stands for
// (InBandStatus, or 500 when it does not tell), so that it becomes an
// *openai.APIError rather than an empty answer.
func InBandErrors(resp *http.Response) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	MarkInBand(resp, body)
	return resp, nil
}

// MarkInBand gives resp, a 2xx answer whose body is body, the status of
// the error the body holds, if it holds one (see InBandErrors).
func MarkInBand(resp *http.Response, body []byte) {
	if t := bytes.TrimLeft(body, " \t\r\n"); !bytes.HasPrefix(t, []byte(`{"error"`)) {
		return
	}
	var er openai.ErrorResponse
	if json.Unmarshal(body, &er) != nil || er.Error == nil {
		return
	}
	status := InBandStatus(er.Error)
	if status == 0 {
		status = http.StatusInternalServerError
	}
	resp.StatusCode, resp.Status = status, strconv.Itoa(status)+" "+http.StatusText(status)
}

// InBandStatus returns the HTTP status an error object sent inside a 200
// answer stands for: its numeric code when it is one (vLLM, LiteLLM),
// else the status OpenAI answers with its code or type; 0 when neither
// tells.
func InBandStatus(oe *openai.APIError) int {
	if c, ok := oe.Code.(int); ok && c >= 400 && c < 600 {
		return c
	}
	for _, key := range []string{codeString(oe.Code), oe.Type} {
		switch strings.ToLower(key) {
		case "invalid_api_key", "invalid_authentication", "authentication_error", "unauthorized":
			return http.StatusUnauthorized
		case "permission_error", "permission_denied", "insufficient_permissions", "unsupported_country_region_territory":
			return http.StatusForbidden
		case "model_not_found", "not_found_error", "not_found":
			return http.StatusNotFound
		case "rate_limit_exceeded", "rate_limit_error", "requests", "tokens", "insufficient_quota":
			return http.StatusTooManyRequests
		case "context_length_exceeded", "invalid_request_error", "badrequesterror", "invalid_value", "string_above_max_length":
			return http.StatusBadRequest
		case "overloaded_error", "service_unavailable", "engine_overloaded":
			return http.StatusServiceUnavailable
		case "server_error", "api_error", "internal_error", "internalservererror":
			return http.StatusInternalServerError
		}
	}
	return 0
}

func codeString(code any) string {
	s, _ := code.(string)
	return s
}

// tryAgainIn reads the wait of OpenAI's rate-limit messages ("Please try
// again in 20ms.", "... in 1.5s."), for errors that come without headers.
func tryAgainIn(msg string) time.Duration {
	_, rest, ok := strings.Cut(msg, "try again in ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r == ' ' || r == ',' || r == ')' })
	if end < 0 {
		end = len(rest)
	}
	d, err := time.ParseDuration(strings.TrimSuffix(rest[:end], "."))
	if err != nil || d < 0 {
		return 0
	}
	return d
}
