package openaix

import (
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
)

func TestInBandStatus(t *testing.T) {
	for _, c := range []struct {
		code any
		typ  string
		want int
	}{
		{"invalid_api_key", "invalid_request_error", 401},
		{"rate_limit_exceeded", "requests", 429},
		{nil, "tokens", 429},
		{"context_length_exceeded", "invalid_request_error", 400},
		{nil, "invalid_request_error", 400},
		{"model_not_found", "", 404},
		{nil, "server_error", 500},
		{nil, "overloaded_error", 503},
		{400, "BadRequestError", 400}, // vLLM: a numeric code
		{503, "", 503},
		{nil, "weird", 0},
		{42, "", 0},
	} {
		if got := InBandStatus(&openai.APIError{Code: c.code, Type: c.typ}); got != c.want {
			t.Errorf("code %v type %q: %d, want %d", c.code, c.typ, got, c.want)
		}
	}
}

func TestTryAgainIn(t *testing.T) {
	for msg, want := range map[string]time.Duration{
		"Rate limit reached for gpt-4o-mini. Please try again in 20ms.": 20 * time.Millisecond,
		"Please try again in 1.5s. Visit https://...":                   1500 * time.Millisecond,
		"Please try again in 6m0s":                                      6 * time.Minute,
		"Please try again later.":                                       0,
		"no hint":                                                       0,
	} {
		if got := tryAgainIn(msg); got != want {
			t.Errorf("%q: %v, want %v", msg, got, want)
		}
	}
}
