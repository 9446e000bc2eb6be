package embed_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
)

// TestProviderHeadersObserved: the headers of every answer, successful or
// not, of each provider embedder reach the observer of the call's context
// (provider.WithHeaderObserver), and so a provider.Budget.
func TestProviderHeadersObserved(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusTooManyRequests} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
			w.Header().Set("X-Ratelimit-Reset-Requests", "6m0s")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"error": {"message": "slow down"}}`)) // no vectors either way
		}))
		for name, e := range map[string]embed.Embedder{
			"openai": embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL}, FloatEncoding: true}),
			"voyage": embed.NewVoyage(embed.VoyageOptions{BaseURL: srv.URL}),
			"cohere": embed.NewCohere(embed.CohereOptions{BaseURL: srv.URL}),
		} {
			var seen atomic.Int32
			ctx := provider.WithHeaderObserver(context.Background(), func(h http.Header) {
				if h.Get("X-Ratelimit-Reset-Requests") == "6m0s" {
					seen.Add(1)
				}
			})
			if _, err := e.Embed(ctx, []string{"a"}); err == nil {
				t.Errorf("%s: no error from an answer without vectors", name)
			}
			if seen.Load() != 1 {
				t.Errorf("%s, status %d: the observer saw the headers %d times, want 1", name, status, seen.Load())
			}
		}
		srv.Close()
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOpenAIMissingKeySendsNothing: without a key for OpenAI's own API,
// Embed fails with ErrMissingAPIKey instead of sending a request without
// credentials.
func TestOpenAIMissingKeySendsNothing(t *testing.T) {
	var sent atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("no network in tests")
	})}
	for _, cfg := range []provider.OpenAIConfig{
		{HTTPClient: hc},
		{HTTPClient: hc, BaseURL: embed.DefaultOpenAIBaseURL},
		{HTTPClient: hc, Azure: true, BaseURL: "https://res.openai.azure.com"},
	} {
		_, err := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: cfg}).Embed(context.Background(), []string{"a"})
		if !errors.Is(err, embed.ErrMissingAPIKey) || !errors.Is(err, provider.ErrMissingAPIKey) {
			t.Errorf("%+v: err %v, want ErrMissingAPIKey", cfg, err)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d requests sent without a key", n)
	}
	// With a key, the request goes out.
	cfg := provider.OpenAIConfig{HTTPClient: hc, APIKey: "k"}
	if _, err := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: cfg}).Embed(context.Background(), []string{"a"}); errors.Is(err, embed.ErrMissingAPIKey) || sent.Load() != 1 {
		t.Fatalf("with a key: err %v, %d requests", err, sent.Load())
	}
}

// TestOpenAIFromEnvBaseURLOnly: OPENAI_BASE_URL alone (a local server)
// is enough, and requests go there without credentials.
func TestOpenAIFromEnvBaseURLOnly(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization") + "|" + r.URL.Path)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_ORG_ID", "")
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1/")
	e, err := embed.OpenAIFromEnv(embed.OpenAIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.Embed(context.Background(), []string{"a"})
	if got, _ := auth.Load().(string); got != "|/v1/embeddings" {
		t.Fatalf("request: %q, want no Authorization, path /v1/embeddings", got)
	}
}
