package llm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

// Errors sent inside a 200 stream are *provider.Error with the status
// their code stands for, so they are retried exactly when the same error
// answered as a status would be.
func TestStreamInBandErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name       string
		fault      openaitest.Fault
		status     int
		code       string
		retryable  bool
		retryAfter time.Duration
		text       string // yielded before the error
	}{
		{"invalid key before any text", openaitest.Fault{Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key provided."},
			401, "invalid_api_key", false, 0, ""},
		{"rate limit mid-stream", openaitest.Fault{InBandAfter: 2, Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached. Please try again in 20ms."},
			429, "rate_limit_exceeded", true, 20 * time.Millisecond, "one two "},
		{"server error by type", openaitest.Fault{InBandAfter: 1, Type: "server_error", Message: "boom"},
			500, "server_error", true, 0, "one "},
		{"context length", openaitest.Fault{Type: "invalid_request_error", Code: "context_length_exceeded", Message: "too long"},
			400, "context_length_exceeded", false, 0, ""},
		{"unknown kind", openaitest.Fault{Type: "weird", Message: "?"},
			0, "weird", true, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := c.fault
			f.InBand = true
			srv := newServer(t, openaitest.Options{ChatReplies: []string{"one two three"},
				Fault: func(openaitest.Request) *openaitest.Fault { return &f }})
			resp, err := llm.Collect(newModel(srv).Stream(ctx, ask("hi")))
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %v", err)
			}
			if pe.StatusCode != c.status || pe.Code != c.code || pe.Message != f.Message || pe.Retryable() != c.retryable ||
				provider.Retryable(err) != c.retryable || pe.RetryAfter != c.retryAfter {
				t.Fatalf("got status %d code %q message %q retryable %v after %v", pe.StatusCode, pe.Code, pe.Message, pe.Retryable(), pe.RetryAfter)
			}
			if !errors.Is(err, llm.ErrIncomplete) || resp.Text != c.text {
				t.Fatalf("incomplete %v, text %q", errors.Is(err, llm.ErrIncomplete), resp.Text)
			}

			// Outside a stream, the same error in a 200 body.
			gsrv := newServer(t, openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault { return &f }})
			_, gerr := newModel(gsrv).Generate(ctx, ask("hi"))
			wantStatus := c.status
			if wantStatus == 0 {
				wantStatus = 500 // an error that does not say what it is
			}
			var gpe *provider.Error
			if !errors.As(gerr, &gpe) || gpe.StatusCode != wantStatus || gpe.Code != c.code || gpe.RetryAfter != c.retryAfter {
				t.Fatalf("Generate: %v", gerr)
			}

			// Through Retry: a permanent error is asked once, a
			// retryable one before any text again.
			srv2 := newServer(t, openaitest.Options{ChatReplies: []string{"one two three"},
				Fault: func(openaitest.Request) *openaitest.Fault { return &f }})
			r := llm.Retry(newModel(srv2), llm.RetryOptions{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetryAfter: -1})
			_, _ = llm.Collect(r.Stream(ctx, ask("hi")))
			want := 1
			if c.retryable && c.text == "" {
				want = 3
			}
			if got := srv2.Stats().ChatRequests; got != want {
				t.Fatalf("%d requests through Retry, want %d", got, want)
			}
		})
	}
}

// A stream that ends with [DONE] without a finish reason is complete,
// its finish reason unknown; one that ends without [DONE] is still cut
// short.
func TestStreamWithoutFinishReason(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, openaitest.Options{ChatReplies: []string{"the whole reply"}, NoFinishReason: true})
	resp, err := llm.Collect(newModel(srv).Stream(ctx, ask("hi")))
	if err != nil || resp.Text != "the whole reply" || resp.FinishReason != llm.FinishUnknown {
		t.Fatalf("%+v, %v", resp, err)
	}
	if !resp.UsageReported || resp.Usage.CompletionTokens == 0 {
		t.Fatalf("usage %+v reported %v", resp.Usage, resp.UsageReported)
	}

	cut := newServer(t, openaitest.Options{ChatReplies: []string{"one two three"}, NoFinishReason: true, StreamFailAfter: 2})
	if _, err := llm.Collect(newModel(cut).Stream(ctx, ask("hi"))); !errors.Is(err, llm.ErrIncomplete) {
		t.Fatalf("a cut stream: %v", err)
	}
}

// Without a usage chunk the last chunk has no Usage, and Collect says the
// usage was not reported, rather than reading zero tokens.
func TestStreamWithoutUsageChunk(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, openaitest.Options{ChatReplies: []string{"a reply"}, NoUsageChunk: true})
	var last llm.Delta
	for c, err := range newModel(srv).Stream(ctx, ask("hi")) {
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	if last.FinishReason != llm.FinishStop || last.Usage != nil {
		t.Fatalf("last chunk %+v", last)
	}
	resp, err := llm.Collect(newModel(srv).Stream(ctx, ask("hi")))
	if err != nil || resp.UsageReported || resp.Usage != (llm.Usage{}) {
		t.Fatalf("%+v, %v", resp, err)
	}
	// With the usage chunk, it is reported.
	with := newServer(t, openaitest.Options{ChatReplies: []string{"a reply"}})
	resp, err = llm.Collect(newModel(with).Stream(ctx, ask("hi")))
	if err != nil || !resp.UsageReported || resp.Usage.PromptTokens == 0 {
		t.Fatalf("%+v, %v", resp, err)
	}
}
