package llm_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
)

// TestOpenAIHeadersObserved: the headers of successful and refused
// answers reach provider.WithHeaderObserver, for Generate and Stream.
func TestOpenAIHeadersObserved(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ratelimit-Remaining-Tokens", "12")
		if r.Header.Get("X-Refuse") != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error": {"message": "slow down", "type": "requests"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	defer srv.Close()
	refusing := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Header.Set("X-Refuse", "1")
		return http.DefaultTransport.RoundTrip(r)
	})}
	for _, hc := range []*http.Client{nil, refusing} {
		m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL + "/v1", HTTPClient: hc}})
		var seen atomic.Int32
		ctx := provider.WithHeaderObserver(context.Background(), func(h http.Header) {
			if h.Get("X-Ratelimit-Remaining-Tokens") == "12" {
				seen.Add(1)
			}
		})
		_, err := m.Generate(ctx, ask("hi"))
		if (hc == nil) != (err == nil) {
			t.Errorf("refusing %v: err %v", hc != nil, err)
		}
		if seen.Load() != 1 {
			t.Errorf("refusing %v: observer saw the headers %d times, want 1", hc != nil, seen.Load())
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOpenAIMissingKeySendsNothing: without a key for OpenAI's own API,
// Generate and Stream fail with ErrMissingAPIKey and send nothing.
func TestOpenAIMissingKeySendsNothing(t *testing.T) {
	var sent atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("no network in tests")
	})}
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{HTTPClient: hc}})
	if _, err := m.Generate(context.Background(), ask("hi")); !errors.Is(err, llm.ErrMissingAPIKey) {
		t.Errorf("Generate: %v", err)
	}
	if _, err := llm.Collect(m.Stream(context.Background(), ask("hi"))); !errors.Is(err, provider.ErrMissingAPIKey) {
		t.Errorf("Stream: %v", err)
	}
	if sent.Load() != 0 {
		t.Fatalf("%d requests sent without a key", sent.Load())
	}
}
