package rag_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
)

// countingTransport counts the requests sent through it: the attempts.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// closedPort returns the base URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

// deadServers are base URLs where nothing will ever answer: a closed
// port on the loopback and a host name that cannot resolve (.invalid is
// reserved for that, RFC 6761).
func deadServers(t *testing.T) map[string]string {
	return map[string]string{
		"refused": closedPort(t),
		"dns":     "http://nonexistent.invalid/v1",
	}
}

// TestIngestFailsFastWhenNothingListens: an Ingest whose embedder points
// at a server that has never answered and cannot be reached makes one
// request, not 1 + MaxRetries (7 with the defaults), and does not split
// the batch into more requests. Its error says what is wrong.
func TestIngestFailsFastWhenNothingListens(t *testing.T) {
	for name, base := range deadServers(t) {
		t.Run(name, func(t *testing.T) {
			ct := &countingTransport{}
			e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{
				BaseURL: base, HTTPClient: &http.Client{Transport: ct},
			}})
			p, err := rag.New(rag.Options{Embedder: e, Chunker: paragraphs}) // default retries
			if err != nil {
				t.Fatal(err)
			}
			docs := []rag.Document{{ID: "a", Content: "one\n\ntwo\n\nthree"}, {ID: "b", Content: "four"}}
			rep, err := p.Ingest(context.Background(), docs...)
			if err == nil {
				t.Fatal("Ingest succeeded against a dead server")
			}
			if got := ct.n.Load(); got != 1 {
				t.Errorf("%d requests, want 1 (no retries, no split batches)", got)
			}
			if rep.Failed != len(docs) {
				t.Errorf("%d documents failed, want %d", rep.Failed, len(docs))
			}
			if !provider.Misconfigured(err) {
				t.Errorf("error is not Misconfigured: %v", err)
			}
			want := map[string]string{"refused": "connection refused: is the server at http://127.0.0.1:", "dns": `cannot resolve host "nonexistent.invalid"`}[name]
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
				t.Errorf("error %q does not say %q and OPENAI_BASE_URL", err, want)
			}
		})
	}
}

// TestAnswerFailsFastWhenNothingListens: a chat turn against a dead
// server makes one model request and logs no retry warnings.
func TestAnswerFailsFastWhenNothingListens(t *testing.T) {
	for name, base := range deadServers(t) {
		t.Run(name, func(t *testing.T) {
			ct := &countingTransport{}
			m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{
				BaseURL: base, HTTPClient: &http.Client{Transport: ct},
			}})
			logs := &captureHandler{}
			p := newPipeline(t, hashing(), func(o *rag.Options) {
				o.Model = m
				o.ModelRetry = provider.RetryPolicy{} // the defaults: 6 retries
				o.Logger = logs.logger()
			})
			if _, err := p.Ingest(context.Background(), rag.Document{ID: "a", Content: "The sky is blue."}); err != nil {
				t.Fatal(err)
			}
			_, err := p.Answer(context.Background(), "What colour is the sky?", nil)
			if err == nil {
				t.Fatal("Answer succeeded against a dead server")
			}
			if got := ct.n.Load(); got != 1 {
				t.Errorf("%d model requests, want 1", got)
			}
			if !provider.Misconfigured(err) {
				t.Errorf("error is not Misconfigured: %v", err)
			}
			if w := logs.count("rag: model call failed; retrying"); w != 0 {
				t.Errorf("%d retry warnings, want 0", w)
			}
		})
	}
}

// TestRefusedAfterAnswerRetries: a server that has answered and then
// refuses connections is transient trouble: retried, not misconfigured.
func TestRefusedAfterAnswerRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"busy","type":"server_error"}}`, http.StatusServiceUnavailable)
	}))
	base := srv.URL + "/v1"
	ct := &countingTransport{}
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{
		BaseURL: base, HTTPClient: &http.Client{Transport: ct},
	}})
	p := newPipeline(t, e, func(o *rag.Options) { o.Ingest.Retry.MaxRetries = 2 })
	if _, err := p.Ingest(context.Background(), rag.Document{ID: "a", Content: "one"}); err == nil {
		t.Fatal("Ingest succeeded against a server answering 503")
	}
	srv.Close() // the server has answered; now it refuses connections
	ct.n.Store(0)
	_, err := p.Ingest(context.Background(), rag.Document{ID: "b", Content: "two"})
	if err == nil {
		t.Fatal("Ingest succeeded against a closed server")
	}
	if got := ct.n.Load(); got != 3 {
		t.Errorf("%d requests, want 3 (1 + MaxRetries 2)", got)
	}
	if provider.Misconfigured(err) {
		t.Errorf("a refusal after answers is Misconfigured: %v", err)
	}
}

// TestUnauthorizedFailsFast: a 401 is not retried and names the setting
// to check.
func TestUnauthorizedFailsFast(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
	}))
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: "wrong", BaseURL: srv.URL + "/v1"}})
	p, err := rag.New(rag.Options{Embedder: e, Chunker: paragraphs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Ingest(context.Background(), rag.Document{ID: "a", Content: "one\n\ntwo"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.StatusCode != 401 || !pe.Misconfigured() {
		t.Fatalf("err = %v, want a misconfigured 401 *provider.Error", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
	if !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Errorf("error %q does not name OPENAI_API_KEY", err)
	}
}
