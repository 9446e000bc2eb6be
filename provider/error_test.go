package provider_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/ragkit-go/rag/provider"
)

func TestErrorRetryable(t *testing.T) {
	want := map[int]bool{
		0: true, 408: true, 409: true, 425: true, 429: true, 500: true, 502: true, 503: true, 504: true, 599: true,
		400: false, 401: false, 403: false, 404: false, 413: false, 422: false, 451: false,
	}
	for code, w := range want {
		e := &provider.Error{Provider: "openai", StatusCode: code}
		if got := e.Retryable(); got != w {
			t.Errorf("status %d: Retryable() = %v, want %v", code, got, w)
		}
		// The function agrees with the method, through wrapping too.
		if got := provider.Retryable(fmt.Errorf("embed: texts 0 to 3: %w", e)); got != w {
			t.Errorf("status %d wrapped: Retryable = %v, want %v", code, got, w)
		}
	}
}

type retryableSentinel struct{}

func (retryableSentinel) Error() string   { return "cut short" }
func (retryableSentinel) Retryable() bool { return true }

func TestRetryableFunc(t *testing.T) {
	timeout := &provider.Error{Message: "request timed out", Err: errors.New(context.DeadlineExceeded.Error())}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"unexpected EOF", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{"cancelled", context.Canceled, false},
		{"deadline", fmt.Errorf("embed: %w", context.DeadlineExceeded), false},
		{"attempt timeout", timeout, true},
		{"own Retryable method", fmt.Errorf("x: %w", retryableSentinel{}), true},
		{"anything else", errors.New("bad vector"), false},
	} {
		if got := provider.Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("connection refused")
	for _, tc := range []struct {
		e    *provider.Error
		want string
	}{
		{&provider.Error{Provider: "voyage", Err: cause}, "provider: voyage request failed: connection refused"},
		{&provider.Error{Provider: "cohere", StatusCode: 422, Message: "bad model"}, "provider: cohere answered 422: bad model"},
		{&provider.Error{Provider: "openai", StatusCode: 429, Code: "rate_limit_exceeded", Message: "slow down"}, "provider: openai answered 429 (rate_limit_exceeded): slow down"},
		{&provider.Error{StatusCode: 500}, "provider: answered 500"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	if e := (&provider.Error{Err: cause}); !errors.Is(e, cause) {
		t.Error("Unwrap does not reach the cause")
	}
}

func TestErrorMisconfigured(t *testing.T) {
	for code, want := range map[int]bool{401: true, 403: true, 404: true, 400: false, 429: false, 500: false, 0: false} {
		e := &provider.Error{Provider: "openai", StatusCode: code, Err: errors.New("x")}
		if got := e.Misconfigured(); got != want {
			t.Errorf("status %d: Misconfigured() = %v, want %v", code, got, want)
		}
		if got := provider.Misconfigured(fmt.Errorf("wrapped: %w", e)); got != want {
			t.Errorf("status %d wrapped: Misconfigured = %v, want %v", code, got, want)
		}
		if want && e.Retryable() {
			t.Errorf("status %d: misconfigured yet retryable", code)
		}
	}
	e := &provider.Error{Provider: "openai", StatusCode: 401, Message: "Incorrect API key provided"}
	if got, want := e.Error(), "provider: openai answered 401: Incorrect API key provided (check OPENAI_API_KEY or the APIKey option)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
