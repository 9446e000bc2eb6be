package rerank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/provider"
	openai "github.com/sashabaranov/go-openai"
)

func fakeGrade(query, passage string) int {
	h := fnv.New32a()
	h.Write([]byte(query + "\x00" + passage))
	return int(h.Sum32() % 11)
}

var passageRe = regexp.MustCompile(`(?m)^\[(\d+)\] (.*)$`)

// fakeLLM is an OpenAI-compatible chat server that grades the passages of
// the prompt with fakeGrade. answer, when set, writes the content from
// the parsed query and passages instead.
type fakeLLM struct {
	*httptest.Server
	requests atomic.Int32
	sizes    chan int
}

func newFakeLLM(t *testing.T, answer func(n int32, query string, passages []string) (content string, status int)) *fakeLLM {
	f := &fakeLLM{sizes: make(chan int, 100)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.requests.Add(1)
		if r.URL.Path != "/v1/chat/completions" {
			t.Errorf("path %s", r.URL.Path)
		}
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model          string  `json:"model"`
			Temperature    float64 `json:"temperature"`
			ResponseFormat *struct {
				Type string `json:"type"`
			} `json:"response_format"`
			Messages []struct {
				Role, Content string
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("request %s: %v", body, err)
		}
		if req.Model != "judge-1" || req.ResponseFormat == nil || req.ResponseFormat.Type != "json_object" || req.Temperature > 1e-6 {
			t.Errorf("request: model %q format %+v temperature %v", req.Model, req.ResponseFormat, req.Temperature)
		}
		if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
			t.Fatalf("messages %+v", req.Messages)
		}
		user := req.Messages[1].Content
		query := strings.TrimPrefix(strings.SplitN(user, "\n", 2)[0], "Query: ")
		var ps []string
		for _, m := range passageRe.FindAllStringSubmatch(user, -1) {
			ps = append(ps, m[2])
		}
		f.sizes <- len(ps)
		content, status := "", 200
		if answer != nil {
			content, status = answer(n, query, ps)
		} else {
			content = gradesJSON(query, ps)
		}
		if status != 200 {
			w.WriteHeader(status)
			io.WriteString(w, content)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "judge-1",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]string{"role": "assistant", "content": content}}},
			"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
		})
	}))
	t.Cleanup(f.Close)
	return f
}

// gradesJSON answers in the asked form, in reverse order to show that
// ids, not positions, are used.
func gradesJSON(query string, ps []string) string {
	var items []string
	for i := len(ps) - 1; i >= 0; i-- {
		items = append(items, fmt.Sprintf(`{"id": %d, "score": %d}`, i+1, fakeGrade(query, ps[i])))
	}
	return `{"scores": [` + strings.Join(items, ", ") + `]}`
}

func newTestLLM(url string, o LLMOptions) (*LLM, *sleeps) {
	o.BaseURL, o.APIKey, o.Model = url+"/v1", "sk-test", "judge-1"
	l := NewLLM(o)
	var s sleeps
	s.install(&l.sleep)
	return l, &s
}

func TestLLMGradesInOrder(t *testing.T) {
	srv := newFakeLLM(t, nil)
	l, _ := newTestLLM(srv.URL, LLMOptions{BatchSize: 4, Concurrency: 2})
	in := passages(10)
	got, err := l.Rerank(context.Background(), "what topic", in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range in {
		if want := float64(fakeGrade("what topic", p)); got[i] != want {
			t.Errorf("grade %d = %v, want %v", i, got[i], want)
		}
	}
	close(srv.sizes)
	total, batches := 0, 0
	for n := range srv.sizes {
		if n > 4 {
			t.Errorf("batch of %d passages, BatchSize 4", n)
		}
		total += n
		batches++
	}
	if total != 10 || batches != 3 {
		t.Errorf("%d passages in %d batches, want 10 in 3", total, batches)
	}
}

func TestLLMAnswerForms(t *testing.T) {
	cases := []struct {
		name, content string
		want          []float64
	}{
		{"ids", `{"scores": [{"id": 2, "score": 3}, {"id": 1, "score": 9}]}`, []float64{9, 3}},
		{"bare numbers", `{"scores": [7, 0.5]}`, []float64{7, 0.5}},
		{"top-level array", `[4, 6]`, []float64{4, 6}},
		{"fenced with prose", "Here you go:\n```json\n{\"scores\": [1, 2]}\n```", []float64{1, 2}},
		{"quoted numbers", `{"scores": [{"id": "1", "score": "8"}, {"id": 2, "score": 10}]}`, []float64{8, 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseGrades(c.content, 2)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("parseGrades = %v, %v; want %v", got, err, c.want)
			}
		})
	}
	bad := []string{
		``, `I think passage 1 is best.`, `{"scores": [1]}`, `{"scores": [1, 2, 3]}`,
		`{"scores": [11, 2]}`, `{"scores": [-1, 2]}`, `{"scores": [{"id": 1, "score": 2}, {"id": 1, "score": 3}]}`,
		`{"scores": [{"id": 3, "score": 2}, {"id": 1, "score": 3}]}`, `{"verdict": [1, 2]}`, `{"scores": [1, "high"]}`,
		`{"scores": [{"id": 1.5, "score": 2}, {"id": 2, "score": 3}]}`, `{"scores": [1, 2`,
	}
	for _, content := range bad {
		if got, err := parseGrades(content, 2); !errors.Is(err, ErrBadResponse) {
			t.Errorf("parseGrades(%q) = %v, %v; want ErrBadResponse", content, got, err)
		}
	}
}

func TestLLMUnparsableAnswerIsError(t *testing.T) {
	srv := newFakeLLM(t, func(_ int32, _ string, _ []string) (string, int) {
		return "Passage 2 seems the most relevant.", 200
	})
	l, _ := newTestLLM(srv.URL, LLMOptions{})
	if _, err := l.Rerank(context.Background(), "q", passages(3)); !errors.Is(err, ErrBadResponse) {
		t.Errorf("err = %v, want ErrBadResponse", err)
	}
}

func TestLLMRetriesAndErrors(t *testing.T) {
	t.Run("429 then success", func(t *testing.T) {
		srv := newFakeLLM(t, func(n int32, q string, ps []string) (string, int) {
			if n == 1 {
				return `{"error": {"message": "Rate limit reached", "type": "requests"}}`, 429
			}
			return gradesJSON(q, ps), 200
		})
		l, s := newTestLLM(srv.URL, LLMOptions{})
		if _, err := l.Rerank(context.Background(), "q", passages(2)); err != nil {
			t.Fatal(err)
		}
		if srv.requests.Load() != 2 || len(s.get()) != 1 {
			t.Errorf("%d requests, waits %v", srv.requests.Load(), s.get())
		}
	})
	t.Run("401 is a provider.Error", func(t *testing.T) {
		srv := newFakeLLM(t, func(int32, string, []string) (string, int) {
			return `{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}`, 401
		})
		l, s := newTestLLM(srv.URL, LLMOptions{})
		_, err := l.Rerank(context.Background(), "q", passages(2))
		var apiErr *provider.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Message != "Incorrect API key provided" || apiErr.Provider != "openai" {
			t.Fatalf("err = %#v", err)
		}
		if srv.requests.Load() != 1 || len(s.get()) != 0 {
			t.Errorf("401 retried: %d requests", srv.requests.Load())
		}
	})
	t.Run("non-JSON error body", func(t *testing.T) {
		srv := newFakeLLM(t, func(int32, string, []string) (string, int) { return "bad gateway", 502 })
		l, _ := newTestLLM(srv.URL, LLMOptions{MaxRetries: -1})
		_, err := l.Rerank(context.Background(), "q", passages(2))
		var apiErr *provider.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Message != "bad gateway" {
			t.Errorf("err = %#v", err)
		}
	})
	t.Run("cancellation", func(t *testing.T) {
		arrived := make(chan struct{}, 10)
		block := make(chan struct{})
		srv := newFakeLLM(t, func(int32, string, []string) (string, int) {
			arrived <- struct{}{}
			<-block
			return "{}", 200
		})
		defer close(block)
		l, _ := newTestLLM(srv.URL, LLMOptions{BatchSize: 1, Concurrency: 2})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := l.Rerank(ctx, "q", passages(5))
			done <- err
		}()
		<-arrived
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		case <-time.After(30 * time.Second): // a hang guard, not synchronisation
			t.Fatal("Rerank did not return after cancellation")
		}
	})
}

func TestLLMWithClient(t *testing.T) {
	srv := newFakeLLM(t, nil)
	cfg := openai.DefaultConfig("sk-test")
	cfg.BaseURL = srv.URL + "/v1"
	l := NewLLM(LLMOptions{Client: openai.NewClientWithConfig(cfg), Model: "judge-1"})
	got, err := l.Rerank(context.Background(), "q", passages(3))
	if err != nil || len(got) != 3 || got[2] != float64(fakeGrade("q", passages(3)[2])) {
		t.Errorf("%v, %v", got, err)
	}
}

func TestLLMPromptTruncates(t *testing.T) {
	l := NewLLM(LLMOptions{MaxPassageBytes: 5})
	p := l.prompt("q", []string{"ééééé", "short"})
	if !strings.Contains(p, "[1] éé …\n") || !strings.Contains(p, "[2] short\n") {
		t.Errorf("prompt:\n%s", p)
	}
	if p := NewLLM(LLMOptions{MaxPassageBytes: -1}).prompt("q", []string{strings.Repeat("x", 5000)}); !strings.Contains(p, strings.Repeat("x", 5000)) {
		t.Error("negative MaxPassageBytes truncated")
	}
}
