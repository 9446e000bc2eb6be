package rerank

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/provider"
)

// TestProvidersHeadersObserved: the headers of successful and refused
// answers of every cross-encoder reranker reach
// provider.WithHeaderObserver; a refused attempt that is retried reports
// its headers too.
func TestProvidersHeadersObserved(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, n int32) bool {
				w.Header().Set("X-Ratelimit-Remaining-Requests", "41")
				if n == 1 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return true
				}
				return false
			})
			rr, sleep := p.build(srv.URL, testOpts{apiKey: "key-123"})
			(&sleeps{}).install(sleep)
			var seen atomic.Int32
			ctx := provider.WithHeaderObserver(context.Background(), func(h http.Header) {
				if h.Get("X-Ratelimit-Remaining-Requests") == "41" {
					seen.Add(1)
				}
			})
			if _, err := rr.Rerank(ctx, "q", passages(2)); err != nil {
				t.Fatal(err)
			}
			if seen.Load() != 2 {
				t.Errorf("observer saw the headers %d times, want 2 (the 503, then the answer)", seen.Load())
			}
		})
	}
}

func TestLLMHeadersObservedAndKeyRequired(t *testing.T) {
	srv := newFakeLLM(t, nil)
	l, _ := newTestLLM(srv.URL, LLMOptions{})
	var seen atomic.Int32
	ctx := provider.WithHeaderObserver(context.Background(), func(h http.Header) { seen.Add(1) })
	if _, err := l.Rerank(ctx, "q", passages(2)); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 1 {
		t.Errorf("observer called %d times, want 1", seen.Load())
	}
	// Without a key for OpenAI's own API, nothing is sent.
	var sent atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("no network in tests")
	})}
	_, err := NewLLM(LLMOptions{HTTPClient: hc}).Rerank(context.Background(), "q", passages(2))
	if !errors.Is(err, provider.ErrMissingAPIKey) || sent.Load() != 0 {
		t.Fatalf("err %v, %d requests", err, sent.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
