package rag_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
)

// handlerEnv is a pipeline served by NewHandler on a loopback server.
type handlerEnv struct {
	p     *rag.Pipeline
	emb   *embedtest.Fake
	model *llmtest.Model
	srv   *httptest.Server
}

// newHandlerEnv starts a server on a pipeline with a fake embedder, the
// given model (a scripted echo when nil) and no retries, so that a
// provider's failure shows at once.
func newHandlerEnv(t *testing.T, emb *embedtest.Fake, model *llmtest.Model, opts *rag.HandlerOptions) *handlerEnv {
	t.Helper()
	env := newPipelineEnv(t, emb, model)
	env.srv = httptest.NewServer(rag.NewHandler(env.p, opts))
	t.Cleanup(env.srv.Close)
	return env
}

// newPipelineEnv is newHandlerEnv without the server.
func newPipelineEnv(t *testing.T, emb *embedtest.Fake, model *llmtest.Model) *handlerEnv {
	t.Helper()
	if emb == nil {
		emb = &embedtest.Fake{}
	}
	if model == nil {
		model = llmtest.New()
	}
	p, err := rag.New(rag.Options{
		Embedder:   emb,
		Logger:     slog.New(slog.DiscardHandler),
		Model:      model,
		ModelRetry: provider.RetryPolicy{MaxRetries: -1},
		Ingest:     rag.IngestOptions{Retry: provider.RetryPolicy{MaxRetries: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &handlerEnv{p: p, emb: emb, model: model}
}

// storedIDs lists the documents the store holds.
func (e *handlerEnv) storedIDs(t *testing.T) []string {
	t.Helper()
	ids, err := store.DocumentIDs(context.Background(), e.p.Store(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// assertNothingStored fails unless the store is empty.
func (e *handlerEnv) assertNothingStored(t *testing.T) {
	t.Helper()
	if ids := e.storedIDs(t); len(ids) != 0 {
		t.Fatalf("the store holds %q, want nothing written", ids)
	}
}

// do sends a request and returns the response with its body read.
func (e *handlerEnv) do(t *testing.T, method, path, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return doRequest(t, req)
}

func doRequest(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// postJSON posts v (a string is sent as is) and returns the response.
func (e *handlerEnv) postJSON(t *testing.T, path string, v any) (*http.Response, []byte) {
	t.Helper()
	body, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	return e.do(t, "POST", path, "application/json", strings.NewReader(body))
}

// problemBody is the wire form of a problem, decoded independently of
// the handler's types.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"errors"`
	Report *reportBody `json:"report"`
}

type reportBody struct {
	Documents []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Chunks int    `json:"chunks"`
		Code   string `json:"code"`
		Error  string `json:"error"`
	} `json:"documents"`
	Stored, Unchanged, Failed, Chunks int
}

// wantProblem checks that resp is a problem with the status and code.
func wantProblem(t *testing.T, resp *http.Response, body []byte, status int, code rag.ProblemCode) problemBody {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, body)
	}
	var pb problemBody
	if err := json.Unmarshal(body, &pb); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if resp.StatusCode != status || pb.Status != status || pb.Code != string(code) {
		t.Fatalf("got status %d (body says %d), code %q; want %d, %q; body %s", resp.StatusCode, pb.Status, pb.Code, status, code, body)
	}
	if pb.Title == "" || !strings.HasSuffix(pb.Type, "#Problem") && !strings.Contains(pb.Type, "#Problem") {
		t.Fatalf("problem without title or with type %q", pb.Type)
	}
	return pb
}

func wantStatus(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
}

func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

func TestHandlerDocuments(t *testing.T) {
	env := newHandlerEnv(t, nil, nil, nil)

	// One document.
	resp, body := env.postJSON(t, "/documents", map[string]any{
		"id": "docs/go.md", "title": "Go", "content": "Goroutines communicate over channels.",
		"tags": []string{"lang"}, "metadata": map[string]any{"year": 2009, "keywords": []string{"go", "csp"}},
	})
	wantStatus(t, resp, body, http.StatusOK)
	var rep reportBody
	decode(t, body, &rep)
	if rep.Stored != 1 || len(rep.Documents) != 1 || rep.Documents[0].ID != "docs/go.md" || rep.Documents[0].Status != "stored" || rep.Documents[0].Chunks < 1 {
		t.Fatalf("report %+v", rep)
	}

	// Several, one of them unchanged, one without an ID.
	resp, body = env.postJSON(t, "/documents", map[string]any{"documents": []map[string]any{
		{"id": "docs/go.md", "title": "Go", "content": "Goroutines communicate over channels.",
			"tags": []string{"lang"}, "metadata": map[string]any{"year": 2009, "keywords": []string{"go", "csp"}}},
		{"content": "The Moon raises the tides.", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
	}})
	wantStatus(t, resp, body, http.StatusOK)
	rep = reportBody{}
	decode(t, body, &rep)
	if rep.Stored != 1 || rep.Unchanged != 1 || len(rep.Documents) != 2 {
		t.Fatalf("report %+v", rep)
	}
	derived := document.ID("The Moon raises the tides.")
	if got := env.storedIDs(t); !slices.Equal(got, []string{derived, "docs/go.md"}) {
		t.Fatalf("stored %q", got)
	}

	// Status, with the ID's slash sent escaped and not.
	want, err := env.p.Status(context.Background(), "docs/go.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/documents/docs/go.md", "/documents/" + url.PathEscape("docs/go.md")} {
		resp, body = env.do(t, "GET", path, "", nil)
		wantStatus(t, resp, body, http.StatusOK)
		var st struct {
			ID     string `json:"id"`
			Stored bool   `json:"stored"`
			Hash   string `json:"hash"`
		}
		decode(t, body, &st)
		if st.ID != "docs/go.md" || !st.Stored || st.Hash == "" || st.Hash != want[0].Hash {
			t.Fatalf("%s: status %+v, want the pipeline's %+v", path, st, want[0])
		}
	}

	// Delete, twice: both 204; then the status is 404.
	for range 2 {
		resp, body = env.do(t, "DELETE", "/documents/docs/go.md", "", nil)
		wantStatus(t, resp, body, http.StatusNoContent)
	}
	resp, body = env.do(t, "GET", "/documents/docs/go.md", "", nil)
	wantProblem(t, resp, body, http.StatusNotFound, rag.ProblemDocumentNotFound)
	resp, body = env.do(t, "DELETE", "/documents/", "", nil)
	wantProblem(t, resp, body, http.StatusNotFound, rag.ProblemDocumentNotFound)
	if got := env.storedIDs(t); !slices.Equal(got, []string{derived}) {
		t.Fatalf("after delete, stored %q", got)
	}
}

func TestHandlerSearch(t *testing.T) {
	env := newHandlerEnv(t, nil, nil, nil)
	resp, body := env.postJSON(t, "/documents", map[string]any{"documents": []map[string]any{
		{"id": "go", "content": "Goroutines communicate over channels.", "metadata": map[string]any{"lang": "go"}},
		{"id": "tides", "content": "The Moon raises the tides of the oceans.", "metadata": map[string]any{"lang": "en"}},
	}})
	wantStatus(t, resp, body, http.StatusOK)

	var out struct {
		Hits []struct {
			ID       string         `json:"id"`
			DocID    string         `json:"doc_id"`
			Text     string         `json:"text"`
			Metadata map[string]any `json:"metadata"`
			Score    float64        `json:"score"`
		} `json:"hits"`
	}
	resp, body = env.postJSON(t, "/search", map[string]any{"query": "how do goroutines communicate", "top_k": 1})
	wantStatus(t, resp, body, http.StatusOK)
	decode(t, body, &out)
	if len(out.Hits) != 1 || out.Hits[0].DocID != "go" || out.Hits[0].ID != "go#0" || out.Hits[0].Text == "" {
		t.Fatalf("hits %+v", out.Hits)
	}

	// A filter excludes the best match.
	resp, body = env.postJSON(t, "/search", map[string]any{"query": "how do goroutines communicate",
		"filter": map[string]any{"op": "and", "filters": []any{map[string]any{"op": "eq", "field": "lang", "value": "en"}}}})
	wantStatus(t, resp, body, http.StatusOK)
	out.Hits = nil
	decode(t, body, &out)
	if len(out.Hits) != 1 || out.Hits[0].DocID != "tides" || out.Hits[0].Metadata["lang"] != "en" {
		t.Fatalf("filtered hits %+v", out.Hits)
	}

	for _, c := range []struct {
		name   string
		body   any
		status int
		code   rag.ProblemCode
	}{
		{"empty query", map[string]any{"query": "  "}, 422, rag.ProblemEmptyQuery},
		{"unknown mode", map[string]any{"query": "q", "mode": "fuzzy"}, 422, rag.ProblemInvalidOptions},
		{"top_k over the limit", map[string]any{"query": "q", "top_k": rag.DefaultMaxTopK + 1}, 422, rag.ProblemInvalidOptions},
		{"MMR lambda out of range", map[string]any{"query": "q", "mmr": true, "mmr_lambda": 2}, 422, rag.ProblemInvalidOptions},
		{"unknown operator", map[string]any{"query": "q", "filter": map[string]any{"op": "near", "field": "lang"}}, 422, rag.ProblemInvalidFilter},
		{"gt on a string", map[string]any{"query": "q", "filter": map[string]any{"op": "gt", "field": "lang", "value": "go"}}, 422, rag.ProblemInvalidFilter},
		{"no lexical index", map[string]any{"query": "q", "mode": "lexical"}, 501, rag.ProblemUnsupported},
		{"unknown field", `{"query": "q", "topk": 3}`, 400, rag.ProblemMalformedBody},
		{"not JSON", `query=q`, 400, rag.ProblemMalformedBody},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := env.emb.Calls()
			resp, body := env.postJSON(t, "/search", c.body)
			wantProblem(t, resp, body, c.status, c.code)
			if c.status != 501 && env.emb.Calls() != calls {
				t.Errorf("a rejected search embedded its query")
			}
		})
	}
	resp, body = env.do(t, "POST", "/search", "text/plain", strings.NewReader(`{"query": "q"}`))
	wantProblem(t, resp, body, http.StatusUnsupportedMediaType, rag.ProblemUnsupportedMediaType)
}

// answerBody is the wire form of an answer.
type answerBody struct {
	Question  string `json:"question"`
	Query     string `json:"query"`
	Text      string `json:"text"`
	Citations []struct {
		N     int    `json:"n"`
		DocID string `json:"doc_id"`
		Text  string `json:"text"`
	} `json:"citations"`
	InvalidCitations []int  `json:"invalid_citations"`
	FinishReason     string `json:"finish_reason"`
	Usage            struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	UsageReported bool              `json:"usage_reported"`
	Conversation  *rag.Conversation `json:"conversation"`
}

const answerReply = "Goroutines communicate over channels [1]. Not over tides [9]."

// ingestTwo stores the two documents the answer tests ask about.
func ingestTwo(t *testing.T, env *handlerEnv) {
	t.Helper()
	resp, body := env.postJSON(t, "/documents", map[string]any{"documents": []map[string]any{
		{"id": "go", "content": "Goroutines communicate over channels."},
		{"id": "tides", "content": "The Moon raises the tides of the oceans."},
	}})
	wantStatus(t, resp, body, http.StatusOK)
}

func TestHandlerAnswerJSON(t *testing.T) {
	m := &llmtest.Model{Reply: func(llm.Request) string { return answerReply }}
	env := newHandlerEnv(t, nil, m, nil)
	ingestTwo(t, env)

	resp, body := env.postJSON(t, "/answer", map[string]any{
		"question":     "How do goroutines communicate?",
		"conversation": map[string]any{"turns": []any{map[string]any{"question": "What is Go?", "answer": "A language."}}},
		"max_tokens":   200,
	})
	wantStatus(t, resp, body, http.StatusOK)
	var a answerBody
	decode(t, body, &a)
	want, err := env.p.Answer(context.Background(), "How do goroutines communicate?",
		&rag.AnswerOptions{Conversation: &rag.Conversation{Turns: []rag.Turn{{Question: "What is Go?", Answer: "A language."}}}, MaxTokens: 200})
	if err != nil {
		t.Fatal(err)
	}
	if a.Text != want.Text || a.Text == answerReply || len(a.Citations) != 1 || a.Citations[0].N != 1 || a.Citations[0].DocID != want.Citations[0].DocID {
		t.Fatalf("answer %+v, want the pipeline's %+v", a, want)
	}
	if !slices.Equal(a.InvalidCitations, []int{9}) || a.FinishReason != "stop" || !a.UsageReported || a.Usage.CompletionTokens == 0 {
		t.Fatalf("answer %+v", a)
	}
	if a.Conversation == nil || len(a.Conversation.Turns) != 2 || a.Conversation.Turns[1].Question != "How do goroutines communicate?" || a.Conversation.Turns[1].Answer != a.Text {
		t.Fatalf("conversation %+v, want the request's with this turn added", a.Conversation)
	}

	resp, body = env.postJSON(t, "/answer", map[string]any{"question": ""})
	wantProblem(t, resp, body, 422, rag.ProblemEmptyQuery)
}

// httptestServer serves h on loopback until the test ends.
func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
