package llm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

var fast = llm.RetryOptions{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&provider.Error{StatusCode: 429}, true},
		{&provider.Error{StatusCode: 503}, true},
		{&provider.Error{StatusCode: 0}, true},
		{&provider.Error{StatusCode: 408}, true},
		{&provider.Error{StatusCode: 400}, false},
		{&provider.Error{StatusCode: 401}, false},
		{fmt.Errorf("wrapped: %w", &provider.Error{StatusCode: 500}), true},
		{llm.ErrIncomplete, true},
		{io.ErrUnexpectedEOF, true},
		{llm.ErrInvalidRequest, false},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{errors.New("something else"), false},
	} {
		if got := provider.Retryable(c.err); got != c.want {
			t.Errorf("Retryable(%v) = %v", c.err, got)
		}
	}
}

func TestRetryGenerate(t *testing.T) {
	ctx := context.Background()
	t.Run("retryable errors are retried", func(t *testing.T) {
		m := llmtest.New("fine")
		m.Fault = func(call int, _ llm.Request) error {
			if call <= 2 {
				return &provider.Error{StatusCode: 503}
			}
			return nil
		}
		var waits []time.Duration
		o := fast
		o.OnRetry = func(attempt int, err error, d time.Duration) { waits = append(waits, d) }
		resp, err := llm.Retry(m, o).Generate(ctx, ask("q"))
		if err != nil || resp.Text != "fine" {
			t.Fatalf("%+v %v", resp, err)
		}
		if m.Calls() != 3 || len(waits) != 2 {
			t.Fatalf("%d calls, %d waits", m.Calls(), len(waits))
		}
	})
	t.Run("gives up after MaxRetries", func(t *testing.T) {
		m := llmtest.New()
		m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 500} }
		o := fast
		o.MaxRetries = 3
		_, err := llm.Retry(m, o).Generate(ctx, ask("q"))
		var ae *provider.Error
		if !errors.As(err, &ae) || ae.StatusCode != 500 || m.Calls() != 4 {
			t.Fatalf("%v after %d calls", err, m.Calls())
		}
	})
	t.Run("negative MaxRetries: no retry", func(t *testing.T) {
		m := llmtest.New()
		m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 500} }
		o := fast
		o.MaxRetries = -1
		if _, err := llm.Retry(m, o).Generate(ctx, ask("q")); err == nil || m.Calls() != 1 {
			t.Fatalf("%v after %d calls", err, m.Calls())
		}
	})
	t.Run("permanent errors are not retried", func(t *testing.T) {
		m := llmtest.New()
		m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 400, Err: llm.ErrInvalidRequest} }
		_, err := llm.Retry(m, fast).Generate(ctx, ask("q"))
		if !errors.Is(err, llm.ErrInvalidRequest) || m.Calls() != 1 {
			t.Fatalf("%v after %d calls", err, m.Calls())
		}
	})
	t.Run("Retry-After wins over a shorter backoff", func(t *testing.T) {
		m := llmtest.New("ok")
		m.Fault = func(call int, _ llm.Request) error {
			if call == 1 {
				return &provider.Error{StatusCode: 429, RetryAfter: 30 * time.Millisecond}
			}
			return nil
		}
		var wait time.Duration
		o := fast
		o.OnRetry = func(_ int, _ error, d time.Duration) { wait = d }
		if _, err := llm.Retry(m, o).Generate(ctx, ask("q")); err != nil {
			t.Fatal(err)
		}
		if wait != 30*time.Millisecond {
			t.Fatalf("waited %v", wait)
		}
	})
	t.Run("cancelling stops the wait", func(t *testing.T) {
		m := llmtest.New()
		m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 500} }
		ctx, cancel := context.WithCancel(ctx)
		o := llm.RetryOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour, OnRetry: func(int, error, time.Duration) { cancel() }}
		_, err := llm.Retry(m, o).Generate(ctx, ask("q"))
		if !errors.Is(err, context.Canceled) || m.Calls() != 1 {
			t.Fatalf("%v after %d calls", err, m.Calls())
		}
	})
}

func TestRetryStream(t *testing.T) {
	ctx := context.Background()
	t.Run("retried before the first chunk", func(t *testing.T) {
		m := llmtest.New("all is well")
		m.Fault = func(call int, _ llm.Request) error {
			if call == 1 {
				return &provider.Error{StatusCode: 502}
			}
			return nil
		}
		resp, err := llm.Collect(llm.Retry(m, fast).Stream(ctx, ask("q")))
		if err != nil || resp.Text != "all is well" || m.Calls() != 2 {
			t.Fatalf("%+v %v after %d calls", resp, err, m.Calls())
		}
	})
	t.Run("never retried once text was delivered", func(t *testing.T) {
		m := llmtest.New("one two three four", "one two three four")
		m.FailAfter = 2
		var text string
		var failure error
		for c, err := range llm.Retry(m, fast).Stream(ctx, ask("q")) {
			if err != nil {
				failure = err
				continue
			}
			text += c.Text
		}
		if !errors.Is(failure, llm.ErrIncomplete) || text != "one two " || m.Calls() != 1 {
			t.Fatalf("%q %v after %d calls", text, failure, m.Calls())
		}
	})
	t.Run("stopping early stops the model", func(t *testing.T) {
		m := llmtest.New("a b c d e f")
		for range llm.Retry(m, fast).Stream(ctx, ask("q")) {
			break
		}
		if m.Active() != 0 || m.Calls() != 1 {
			t.Fatalf("%d active, %d calls", m.Active(), m.Calls())
		}
	})
}

// Retry over the real client and the fake server: a 500, then a 429 with
// Retry-After, then the stream.
func TestRetryOpenAI(t *testing.T) {
	var seq atomic.Int64
	srv := newServer(t, openaitest.Options{
		ChatReplies: []string{"third time lucky"},
		Fault: func(r openaitest.Request) *openaitest.Fault {
			switch seq.Add(1) {
			case 1:
				return &openaitest.Fault{Status: 500}
			case 2:
				return &openaitest.Fault{Status: 429, RetryAfter: 20 * time.Millisecond}
			}
			return nil
		},
	})
	var waits []time.Duration
	o := fast
	o.OnRetry = func(_ int, _ error, d time.Duration) { waits = append(waits, d) }
	resp, err := llm.Collect(llm.Retry(newModel(srv), o).Stream(context.Background(), ask("q")))
	if err != nil || resp.Text != "third time lucky" {
		t.Fatalf("%+v %v", resp, err)
	}
	if st := srv.Stats(); st.ChatRequests != 3 || st.Status[500] != 1 || st.Status[429] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(waits) != 2 || waits[1] < 20*time.Millisecond {
		t.Fatalf("waits %v", waits)
	}
}

func TestRetryName(t *testing.T) {
	r := llm.Retry(llmtest.New(), llm.RetryOptions{})
	if r.Name() != "llmtest" || r.Unwrap() == nil {
		t.Fatalf("name %q", r.Name())
	}
	if llm.Retry(llm.Func(nil), llm.RetryOptions{}).Name() != "" {
		t.Fatal("a model without a name got one")
	}
}

func TestFunc(t *testing.T) {
	f := llm.Func(func(_ context.Context, req llm.Request) (*llm.Response, error) {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "fail") {
			return nil, errors.New("failed")
		}
		return &llm.Response{Text: "whole", Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 1}}, nil
	})
	n := 0
	for c, err := range f.Stream(context.Background(), ask("q")) {
		n++
		if err != nil || c.Text != "whole" || c.FinishReason != llm.FinishStop || c.Usage == nil || c.Usage.Total() != 4 {
			t.Fatalf("%+v %v", c, err)
		}
	}
	if n != 1 {
		t.Fatalf("%d chunks", n)
	}
	resp, err := llm.Collect(f.Stream(context.Background(), ask("fail")))
	if err == nil || resp.Text != "" {
		t.Fatalf("%+v %v", resp, err)
	}
}

func TestRequestValidate(t *testing.T) {
	for _, r := range []llm.Request{
		{},
		{Messages: []llm.Message{{Role: "tool", Content: "x"}}},
		{Messages: []llm.Message{{Role: llm.User, Content: "x"}}, MaxTokens: -1},
	} {
		if err := r.Validate(); !errors.Is(err, llm.ErrInvalidRequest) {
			t.Errorf("%+v: %v", r, err)
		}
	}
	if r := ask("ok"); r.Validate() != nil {
		t.Fatal(r.Validate())
	}
}

func TestUsage(t *testing.T) {
	u := llm.Usage{PromptTokens: 2, CompletionTokens: 3}.Add(llm.Usage{PromptTokens: 10, CompletionTokens: 1})
	if u.PromptTokens != 12 || u.CompletionTokens != 4 || u.Total() != 16 {
		t.Fatalf("%+v", u)
	}
}
