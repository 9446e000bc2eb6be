package httpx

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
)

// Failure is a failed go-openai call described in provider-neutral terms,
// for embed.APIError and llm.APIError alike.
type Failure struct {
	Status     int           // HTTP status; 0 when no answer came
	Code       string        // the provider's error code, else its type
	Message    string        // the provider's message
	RetryAfter time.Duration // from the answer's headers (see RetryAfter)
	// Err is the cause. When only this request timed out, or an HTTP
	// client timeout fired, it no longer matches the context errors: the
	// caller's context is fine.
	Err error
	// Unsent reports that go-openai refused the request before sending
	// it (an invalid parameter, say).
	Unsent bool
}

// OpenAIFailure describes err, returned by a go-openai call whose request
// reported to slot. timedOut says the call's own timeout (of length
// timeout) fired.
func OpenAIFailure(err error, slot *Slot, timedOut bool, timeout time.Duration) Failure {
	f := Failure{Err: err}
	var (
		oe *openai.APIError
		re *openai.RequestError
		ue *url.Error
	)
	switch {
	case errors.As(err, &oe):
		f.Status = oe.HTTPStatusCode
		f.Message = oe.Message
		switch c := oe.Code.(type) {
		case string:
			f.Code = c
		case int:
			if c != 0 { // go-openai decodes a null code as 0
				f.Code = strconv.Itoa(c)
			}
		}
		if f.Code == "" {
			f.Code = oe.Type
		}
	case errors.As(err, &re):
		f.Status = re.HTTPStatusCode
		f.Message = strings.TrimSpace(string(re.Body))
		if len(f.Message) > 200 {
			f.Message = f.Message[:200] + "..."
		}
	case timedOut:
		f.Message = "request timed out after " + timeout.String()
		f.Err = errors.New(err.Error())
	case slot.Status >= 200 && slot.Status < 300:
		f.Code = "invalid_response"
		f.Message = "malformed response body"
	case slot.Status == 0 && !errors.As(err, &ue):
		f.Unsent = true
	default:
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			f.Err = errors.New(err.Error()) // an http.Client timeout
		}
	}
	if f.Status >= 400 {
		f.RetryAfter = RetryAfter(slot.Header, f.Status, time.Now())
	}
	return f
}
