// Package openaix holds what the module's clients of OpenAI-compatible
// APIs (embed.OpenAI, llm.OpenAI, rerank.LLM) share around go-openai:
// building its client from a provider.OpenAIConfig, and describing its
// failures as *provider.Error.
package openaix

import (
	"context"
	"errors"
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
	if e.StatusCode >= 400 {
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
