package llmtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/provider"
)

func ask(q string) llm.Request {
	return llm.Request{Messages: []llm.Message{{Role: llm.User, Content: q}}}
}

func TestSplit(t *testing.T) {
	for _, s := range []string{"", "one", "one two", "  lead and trail  ", "a\n\nb\tc [1]. d", "日本語 テキスト"} {
		parts := llmtest.Split(s)
		if strings.Join(parts, "") != s {
			t.Fatalf("%q split into %q", s, parts)
		}
		for _, p := range parts {
			if strings.TrimSpace(p) == "" && len(parts) > 1 {
				t.Fatalf("%q: empty piece in %q", s, parts)
			}
		}
	}
	if got := llmtest.Split("a b  c"); len(got) != 3 || got[1] != "b  " {
		t.Fatalf("%q", got)
	}
}

func TestRepliesThenEcho(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New("first", "second")
	for _, want := range []string{"first", "second", "echo: third"} {
		resp, err := m.Generate(ctx, ask("third"))
		if err != nil || resp.Text != want || resp.FinishReason != llm.FinishStop || resp.Usage.PromptTokens == 0 {
			t.Fatalf("%+v %v, want %q", resp, err, want)
		}
	}
	if m.Calls() != 3 || len(m.Requests()) != 3 || m.Requests()[0].Messages[0].Content != "third" {
		t.Fatalf("recorded %+v", m.Requests())
	}
}

func TestStopAndMaxTokens(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New()
	m.Reply = func(llm.Request) string { return "alpha beta gamma delta" }
	req := ask("x")
	req.Stop = []string{" gamma"}
	resp, _ := llm.Collect(m.Stream(ctx, req))
	if resp.Text != "alpha beta" {
		t.Fatalf("%q", resp.Text)
	}
	req = ask("x")
	req.MaxTokens = 2
	resp, _ = m.Generate(ctx, req)
	if resp.Text != "alpha beta" || resp.FinishReason != llm.FinishLength || resp.Usage.CompletionTokens != 2 {
		t.Fatalf("%+v", resp)
	}
}

func TestStreamFaults(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New("a b c d")
	m.FailAfter = 3
	resp, err := llm.Collect(m.Stream(ctx, ask("x")))
	if !errors.Is(err, llm.ErrIncomplete) || resp.Text != "a b c " {
		t.Fatalf("%q %v", resp.Text, err)
	}

	boom := errors.New("boom")
	m = llmtest.New("a b c d")
	m.BeforeChunk = func(_ context.Context, i int) error {
		if i == 1 {
			return boom
		}
		return nil
	}
	resp, err = llm.Collect(m.Stream(ctx, ask("x")))
	if !errors.Is(err, boom) || resp.Text != "a " || m.Active() != 0 {
		t.Fatalf("%q %v, %d active", resp.Text, err, m.Active())
	}

	m = llmtest.New()
	m.Fault = func(call int, _ llm.Request) error { return &provider.Error{StatusCode: 500} }
	if _, err := m.Generate(ctx, ask("x")); !provider.Retryable(err) || m.Active() != 0 {
		t.Fatalf("%v", err)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := llmtest.New("a b c d")
	m.BeforeChunk = func(_ context.Context, i int) error {
		if i == 2 {
			cancel()
		}
		return nil
	}
	resp, err := llm.Collect(m.Stream(ctx, ask("x")))
	if !errors.Is(err, context.Canceled) || resp.Text != "a b " || m.Active() != 0 {
		t.Fatalf("%q %v", resp.Text, err)
	}
	if _, err := m.Generate(ctx, ask("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}

func TestInvalidRequest(t *testing.T) {
	m := llmtest.New()
	if _, err := m.Generate(context.Background(), llm.Request{}); !errors.Is(err, llm.ErrInvalidRequest) || m.Calls() != 0 || m.Active() != 0 {
		t.Fatalf("%v, %d calls, %d active", err, m.Calls(), m.Active())
	}
}
