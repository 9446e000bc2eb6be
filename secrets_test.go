package rag_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/rerank"
)

// testKey is the configured API key. It is in no well-known key shape,
// so only redaction of the configured key can hide it.
const testKey = "proxy-credential-7f3a9c41"

// echoServer answers every request with status and an error body that
// quotes the request's credential headers, as a misbehaving proxy
// would: whole ("Authorization: Bearer <key>") and bare ("<key>"). With
// stream set, chat requests get a 200 event stream whose first event is
// that error instead.
func echoServer(t *testing.T, status int, stream bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var parts []string
		for _, h := range []string{"Authorization", "Api-Key"} {
			if v := r.Header.Get(h); v != "" {
				_, bare, _ := strings.Cut(v, " ")
				parts = append(parts, fmt.Sprintf("%s: %s (token %q)", h, v, bare+v))
			}
		}
		msg := "rejected; you sent " + strings.Join(parts, ", ")
		body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "server_error", "code": msg}})
		if stream && strings.HasSuffix(r.URL.Path, "/chat/completions") {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: %s\n\n", body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// noKey fails when s shows the key or any part of it that identifies it.
func noKey(t *testing.T, what, s string) {
	t.Helper()
	if s == "" {
		t.Errorf("%s: nothing to check", what)
	}
	if strings.Contains(s, testKey) || strings.Contains(s, testKey[:12]) {
		t.Errorf("%s shows the API key: %s", what, s)
	}
}

// TestClientErrorsHideTheKey: every provider client, against a server
// that echoes the credentials, returns errors without the key.
func TestClientErrorsHideTheKey(t *testing.T) {
	ctx := context.Background()
	for _, status := range []int{400, 401, 500} {
		base := echoServer(t, status, false)
		oc := provider.OpenAIConfig{APIKey: testKey, BaseURL: base + "/v1"}
		az := provider.OpenAIConfig{APIKey: testKey, BaseURL: base, Azure: true}
		calls := map[string]func() error{
			"embed openai": func() error {
				_, err := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: oc}).Embed(ctx, []string{"x"})
				return err
			},
			"embed azure": func() error {
				_, err := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: az}).Embed(ctx, []string{"x"})
				return err
			},
			"embed voyage": func() error {
				_, err := embed.NewVoyage(embed.VoyageOptions{APIKey: testKey, BaseURL: base}).Embed(ctx, []string{"x"})
				return err
			},
			"embed cohere": func() error {
				_, err := embed.NewCohere(embed.CohereOptions{APIKey: testKey, BaseURL: base}).Embed(ctx, []string{"x"})
				return err
			},
			"llm generate": func() error {
				_, err := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: oc}).Generate(ctx, llm.Request{Messages: []llm.Message{{Role: llm.User, Content: "hi"}}})
				return err
			},
			"llm stream azure": func() error {
				for _, err := range llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: az}).Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.User, Content: "hi"}}}) {
					if err != nil {
						return err
					}
				}
				return nil
			},
			"rerank cohere": func() error {
				_, err := rerank.NewCohere(rerank.CohereOptions{APIKey: testKey, BaseURL: base, MaxRetries: -1}).Rerank(ctx, "q", []string{"a"})
				return err
			},
			"rerank voyage": func() error {
				_, err := rerank.NewVoyage(rerank.VoyageOptions{APIKey: testKey, BaseURL: base, MaxRetries: -1}).Rerank(ctx, "q", []string{"a"})
				return err
			},
			"rerank jina": func() error {
				_, err := rerank.NewJina(rerank.JinaOptions{APIKey: testKey, BaseURL: base, MaxRetries: -1}).Rerank(ctx, "q", []string{"a"})
				return err
			},
			"rerank llm": func() error {
				_, err := rerank.NewLLM(rerank.LLMOptions{APIKey: testKey, BaseURL: base + "/v1", MaxRetries: -1}).Rerank(ctx, "q", []string{"a"})
				return err
			},
		}
		for name, call := range calls {
			err := call()
			if err == nil {
				t.Errorf("%s %d: no error", name, status)
				continue
			}
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("%s %d: %v: the echoed credentials are not marked redacted", name, status, err)
			}
			noKey(t, fmt.Sprintf("%s %d", name, status), err.Error())
		}
	}
}

// TestStreamErrorEventHidesTheKey: an error event inside a 200 stream,
// which no error answer's redaction sees, is redacted too.
func TestStreamErrorEventHidesTheKey(t *testing.T) {
	base := echoServer(t, 0, true)
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: testKey, BaseURL: base + "/v1"}})
	var err error
	for _, e := range m.Stream(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Content: "hi"}}}) {
		if e != nil {
			err = e
		}
	}
	if err == nil {
		t.Fatal("no error from a stream whose first event is an error")
	}
	noKey(t, "stream error event", err.Error())
}

// TestPipelineHidesTheKey: Ingest, Search and Answer against a server
// that echoes the credentials return errors, and log warnings, without
// the key.
func TestPipelineHidesTheKey(t *testing.T) {
	ctx := context.Background()
	base := echoServer(t, 500, false)
	oc := provider.OpenAIConfig{APIKey: testKey, BaseURL: base + "/v1"}
	logs := &captureHandler{}
	retry := provider.RetryPolicy{MaxRetries: 1, MinBackoff: 1e6, MaxBackoff: 2e6}

	p := newPipeline(t, embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: oc, Dimensions: 64}), func(o *rag.Options) {
		o.Logger = logs.logger()
		o.Ingest.Retry = retry
	})
	_, err := p.Ingest(ctx, rag.Document{ID: "a", Content: "one"})
	if err == nil {
		t.Fatal("Ingest succeeded")
	}
	noKey(t, "Ingest", err.Error())
	_, err = p.Search(ctx, "one", nil)
	if err == nil {
		t.Fatal("Search succeeded")
	}
	noKey(t, "Search", err.Error())

	q := newPipeline(t, hashing(), func(o *rag.Options) {
		o.Logger = logs.logger()
		o.Model = llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: oc})
		o.ModelRetry = retry
	})
	if _, err := q.Ingest(ctx, rag.Document{ID: "a", Content: "The sky is blue."}); err != nil {
		t.Fatal(err)
	}
	_, err = q.Answer(ctx, "What colour is the sky?", nil)
	if err == nil {
		t.Fatal("Answer succeeded")
	}
	noKey(t, "Answer", err.Error())
	if logs.count("retrying") == 0 {
		t.Error("no retry warning logged: the log check checks nothing")
	}
	noKey(t, "logs", logs.String())
}
