package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

func newServer(t *testing.T, o openaitest.Options) *openaitest.Server {
	t.Helper()
	srv := openaitest.NewServer(o)
	t.Cleanup(srv.Close)
	return srv
}

func newModel(srv *openaitest.Server, mod ...func(*llm.OpenAIOptions)) *llm.OpenAI {
	o := llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "test", HTTPClient: srv.Client()}}
	for _, m := range mod {
		m(&o)
	}
	return llm.NewOpenAI(o)
}

func ask(q string) llm.Request {
	return llm.Request{Messages: []llm.Message{{Role: llm.System, Content: "Be brief."}, {Role: llm.User, Content: q}}}
}

// settle waits until the number of goroutines is back to n, and fails the
// test with a dump of the stacks if it does not within a few seconds.
func settle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// idle waits until the server has no request in flight.
func idle(t *testing.T, srv *openaitest.Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().InFlight > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("server still serving %d requests", srv.Stats().InFlight)
		}
		runtime.Gosched()
	}
}

func TestOpenAIGenerate(t *testing.T) {
	srv := newServer(t, openaitest.Options{APIKey: "test", ChatReplies: []string{"Goroutines are cheap threads [1]."}})
	m := newModel(srv, func(o *llm.OpenAIOptions) { o.Model = "local-model" })
	req := ask("What is a goroutine?")
	req.MaxTokens = 50
	req.Temperature = llm.Temperature(0)
	resp, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "Goroutines are cheap threads [1]." || resp.FinishReason != llm.FinishStop {
		t.Fatalf("%+v", resp)
	}
	if resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 {
		t.Fatalf("usage not reported: %+v", resp.Usage)
	}
	rs := srv.Requests()
	if len(rs) != 1 || rs[0].Chat == nil {
		t.Fatalf("%d requests", len(rs))
	}
	c := rs[0].Chat
	if c.Model != "local-model" || c.Stream || len(c.Messages) != 2 || c.Messages[0].Role != "system" || c.Messages[1].Content != "What is a goroutine?" {
		t.Fatalf("request %+v", c)
	}
	// Another server than OpenAI's: max_tokens, the field they know.
	if c.MaxTokens != 50 || c.MaxCompletionTokens != 0 {
		t.Fatalf("max tokens sent as %d / %d", c.MaxTokens, c.MaxCompletionTokens)
	}
	// Temperature 0 is sent, not omitted (go-openai drops zero values).
	if c.Temperature == nil || *c.Temperature > 1e-6 {
		t.Fatalf("temperature %v", c.Temperature)
	}
	if got := srv.Requests()[0].Header.Get("Authorization"); got != "Bearer test" {
		t.Fatalf("auth header %q", got)
	}
}

func TestOpenAIMaxTokensParam(t *testing.T) {
	srv := newServer(t, openaitest.Options{})
	m := newModel(srv, func(o *llm.OpenAIOptions) { o.MaxTokensParam = "max_completion_tokens" })
	req := ask("hi")
	req.MaxTokens = 7
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	c := srv.Requests()[0].Chat
	if c.MaxCompletionTokens != 7 || c.MaxTokens != 0 {
		t.Fatalf("max tokens sent as %d / %d", c.MaxTokens, c.MaxCompletionTokens)
	}
	if c.Temperature != nil {
		t.Fatalf("temperature sent without being set: %v", *c.Temperature)
	}
}

func TestOpenAIStream(t *testing.T) {
	reply := "Channels carry values between goroutines [2], and select waits on several [1]."
	srv := newServer(t, openaitest.Options{ChatReplies: []string{reply, reply}})
	m := newModel(srv)
	var pieces []string
	var last llm.Delta
	for c, err := range m.Stream(context.Background(), ask("How do goroutines talk?")) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Text != "" {
			pieces = append(pieces, c.Text)
		}
		last = c
	}
	if strings.Join(pieces, "") != reply {
		t.Fatalf("streamed %q", strings.Join(pieces, ""))
	}
	if len(pieces) < 5 {
		t.Fatalf("only %d chunks: not streamed", len(pieces))
	}
	if last.FinishReason != llm.FinishStop || last.Usage == nil {
		t.Fatalf("last chunk %+v", last)
	}
	c := srv.Requests()[0].Chat
	if !c.Stream || c.StreamOptions == nil || !c.StreamOptions.IncludeUsage {
		t.Fatalf("stream request %+v", c)
	}
	// The usage of a stream is the usage of the same request unstreamed.
	resp, err := m.Generate(context.Background(), ask("How do goroutines talk?"))
	if err != nil {
		t.Fatal(err)
	}
	if *last.Usage != resp.Usage {
		t.Fatalf("stream usage %+v, generate usage %+v", *last.Usage, resp.Usage)
	}
	// Collect gives the same response.
	srv2 := newServer(t, openaitest.Options{ChatReplies: []string{reply}})
	got, err := llm.Collect(newModel(srv2).Stream(context.Background(), ask("How do goroutines talk?")))
	if err != nil || got.Text != reply || got.Usage != resp.Usage || got.FinishReason != llm.FinishStop {
		t.Fatalf("collect %+v %v", got, err)
	}
}

func TestOpenAINoStreamUsage(t *testing.T) {
	srv := newServer(t, openaitest.Options{})
	m := newModel(srv, func(o *llm.OpenAIOptions) { o.NoStreamUsage = true })
	resp, err := llm.Collect(m.Stream(context.Background(), ask("hello there")))
	if err != nil || resp.Text != "echo: hello there" {
		t.Fatalf("%+v %v", resp, err)
	}
	if c := srv.Requests()[0].Chat; c.StreamOptions != nil {
		t.Fatalf("stream_options sent: %+v", c.StreamOptions)
	}
	if resp.Usage != (llm.Usage{}) {
		t.Fatalf("usage %+v without asking", resp.Usage)
	}
}

func TestOpenAIStreamBreaks(t *testing.T) {
	srv := newServer(t, openaitest.Options{StreamFailAfter: 2, ChatReplies: []string{"one two three four five"}})
	m := newModel(srv)
	var text string
	var failure error
	for c, err := range m.Stream(context.Background(), ask("count")) {
		if err != nil {
			failure = err
			continue
		}
		text += c.Text
	}
	if text != "one two " {
		t.Fatalf("got %q before the break", text)
	}
	if !errors.Is(failure, llm.ErrIncomplete) {
		t.Fatalf("err %v", failure)
	}
	var ae *provider.Error
	if !errors.As(failure, &ae) || !ae.Retryable() || !provider.Retryable(failure) {
		t.Fatalf("err %#v not a retryable *provider.Error", failure)
	}
}

func TestOpenAIErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("invalid request is not sent", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{})
		m := newModel(srv)
		_, err := m.Generate(ctx, llm.Request{})
		if !errors.Is(err, llm.ErrInvalidRequest) {
			t.Fatalf("err %v", err)
		}
		for _, err := range m.Stream(ctx, llm.Request{Messages: []llm.Message{{Role: "robot", Content: "x"}}}) {
			if !errors.Is(err, llm.ErrInvalidRequest) {
				t.Fatalf("err %v", err)
			}
		}
		if n := srv.Stats().Requests; n != 0 {
			t.Fatalf("%d requests sent", n)
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{Models: []string{"gpt-4o-mini"}})
		m := newModel(srv, func(o *llm.OpenAIOptions) { o.Model = "nope" })
		_, err := m.Generate(ctx, ask("hi"))
		var ae *provider.Error
		if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Code != "model_not_found" || ae.Retryable() || provider.Retryable(err) {
			t.Fatalf("err %#v", err)
		}
		if !errors.Is(err, llm.ErrInvalidRequest) {
			t.Fatalf("404 does not match ErrInvalidRequest: %v", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{APIKey: "right"})
		_, err := llm.Collect(newModel(srv).Stream(ctx, ask("hi")))
		var ae *provider.Error
		if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "invalid_api_key" || provider.Retryable(err) {
			t.Fatalf("err %#v", err)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault {
			return &openaitest.Fault{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 1500 * time.Millisecond}
		}})
		for name, call := range map[string]func(llm.Model) error{
			"generate": func(m llm.Model) error { _, err := m.Generate(ctx, ask("hi")); return err },
			"stream":   func(m llm.Model) error { _, err := llm.Collect(m.Stream(ctx, ask("hi"))); return err },
		} {
			err := call(newModel(srv))
			var ae *provider.Error
			if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != 1500*time.Millisecond || !ae.Retryable() {
				t.Fatalf("%s: err %#v", name, err)
			}
		}
	})
	t.Run("hang times out", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault { return &openaitest.Fault{Hang: true} }})
		m := newModel(srv, func(o *llm.OpenAIOptions) { o.Timeout = 50 * time.Millisecond })
		_, err := m.Generate(ctx, ask("hi"))
		var ae *provider.Error
		if !errors.As(err, &ae) || ae.StatusCode != 0 || !ae.Retryable() || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("generate err %#v", err)
		}
		_, err = llm.Collect(m.Stream(ctx, ask("hi")))
		if !errors.As(err, &ae) || ae.StatusCode != 0 || !provider.Retryable(err) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stream err %#v", err)
		}
	})
	t.Run("stream stalls between chunks", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{StreamDelay: time.Second, ChatReplies: []string{"slow reply"}})
		m := newModel(srv, func(o *llm.OpenAIOptions) { o.Timeout = 50 * time.Millisecond })
		_, err := llm.Collect(m.Stream(ctx, ask("hi")))
		if !errors.Is(err, llm.ErrIncomplete) || !provider.Retryable(err) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("malformed answer", func(t *testing.T) {
		srv := newServer(t, openaitest.Options{MalformedRate: 1})
		_, err := newModel(srv).Generate(ctx, ask("hi"))
		var ae *provider.Error
		if !errors.As(err, &ae) || ae.StatusCode != 0 || !ae.Retryable() {
			t.Fatalf("err %#v", err)
		}
	})
}

// A slow stream keeps going while its caller takes its time: the timeout
// counts only the waits for the server.
func TestOpenAIStreamSlowConsumer(t *testing.T) {
	srv := newServer(t, openaitest.Options{ChatReplies: []string{"warm", "a b c d"}})
	// The timeout is generous for a loopback server even on a loaded
	// machine; the consumer below takes longer than it at every chunk.
	m := newModel(srv, func(o *llm.OpenAIOptions) { o.Timeout = 250 * time.Millisecond })
	// The server's first request loads its tokenizer, which takes longer
	// than the timeout on a loaded machine.
	if _, err := newModel(srv).Generate(context.Background(), ask("warm")); err != nil {
		t.Fatal(err)
	}
	var text string
	for c, err := range m.Stream(context.Background(), ask("hi")) {
		if err != nil {
			t.Fatal(err)
		}
		text += c.Text
		// The consumer is slower than the timeout: this is the point of
		// the test, not synchronisation.
		time.Sleep(300 * time.Millisecond)
	}
	if text != "a b c d" {
		t.Fatalf("%q", text)
	}
}

func TestOpenAIStreamCancel(t *testing.T) {
	srv := newServer(t, openaitest.Options{StreamDelay: 5 * time.Millisecond, ChatReplies: []string{"warm", strings.Repeat("word ", 500)}})
	m := newModel(srv)
	// Warm the connection pool, so the goroutine count below includes
	// the client's connection goroutines.
	if _, err := m.Generate(context.Background(), ask("warm")); err != nil {
		t.Fatal(err)
	}
	idle(t, srv)
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chunks := 0
	var failure error
	for c, err := range m.Stream(ctx, ask("talk")) {
		if err != nil {
			failure = err
			continue
		}
		if c.Text != "" {
			chunks++
		}
		if chunks == 3 {
			cancel()
		}
	}
	if !errors.Is(failure, context.Canceled) {
		t.Fatalf("err %v after %d chunks", failure, chunks)
	}
	if chunks != 3 {
		t.Fatalf("%d chunks after cancel", chunks)
	}
	// The server sees the client go away, and nothing is left running.
	idle(t, srv)
	if st := srv.Stats(); st.Status[200] != 2 {
		t.Fatalf("statuses %v", st.Status)
	}
	settle(t, before)
}

func TestOpenAIStreamBreakEarly(t *testing.T) {
	srv := newServer(t, openaitest.Options{StreamDelay: 5 * time.Millisecond, ChatReplies: []string{strings.Repeat("word ", 500)}})
	m := newModel(srv)
	before := runtime.NumGoroutine()
	n := 0
	for _, err := range m.Stream(context.Background(), ask("talk")) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	// Breaking out ended the request: the server's handler returns,
	// long before the 500 words would have been sent.
	idle(t, srv)
	rs := srv.Requests()
	if len(rs) != 1 {
		t.Fatalf("%d requests", len(rs))
	}
	settle(t, before)
}

func TestOpenAIConcurrent(t *testing.T) {
	srv := newServer(t, openaitest.Options{ChatReply: func(r openaitest.ChatRequest) string { return "re: " + r.LastUserMessage() }})
	m := newModel(srv)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			q := strings.Repeat("q", i+1)
			var resp *llm.Response
			var err error
			if i%2 == 0 {
				resp, err = m.Generate(context.Background(), ask(q))
			} else {
				resp, err = llm.Collect(m.Stream(context.Background(), ask(q)))
			}
			if err == nil && resp.Text != "re: "+q {
				err = errors.New("wrong reply " + resp.Text + " to " + q)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenAIFromEnv(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("OPENAI_ORG_ID", "")
	if _, err := llm.OpenAIFromEnv(llm.OpenAIOptions{}); !errors.Is(err, llm.ErrMissingAPIKey) {
		t.Fatalf("err %v", err)
	}
	srv := newServer(t, openaitest.Options{})
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	t.Setenv("OPENAI_ORG_ID", "org-1")
	m, err := llm.OpenAIFromEnv(llm.OpenAIOptions{Model: "llama3.2"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "openai:llama3.2" {
		t.Fatalf("name %q", m.Name())
	}
	if _, err := m.Generate(context.Background(), ask("hi")); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Header.Get("Authorization") != "" || r.Header.Get("OpenAI-Organization") != "org-1" {
		t.Fatalf("headers %v", r.Header)
	}
}

// Stop sequences reach the server (openaitest does not record them).
func TestOpenAIStopSent(t *testing.T) {
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	defer srv.Close()
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL + "/v1"}})
	req := ask("hi")
	req.Stop = []string{"\n\n", "END"}
	resp, err := m.Generate(context.Background(), req)
	if err != nil || resp.Text != "ok" || resp.Usage != (llm.Usage{PromptTokens: 3, CompletionTokens: 1}) {
		t.Fatalf("%+v %v", resp, err)
	}
	stop, _ := body["stop"].([]any)
	if len(stop) != 2 || stop[0] != "\n\n" || stop[1] != "END" {
		t.Fatalf("stop sent as %v", body["stop"])
	}
}
