package telemetry

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
)

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ name, provider, model string }{
		{"openai:text-embedding-3-small:1536", "openai", "text-embedding-3-small"},
		{"openai:gpt-4o-mini", "openai", "gpt-4o-mini"},
		{"llmtest", "_OTHER", "llmtest"},
		{"hashing:384", "hashing", "hashing"},
		{"*embed.Func", "_OTHER", "*embed.Func"},
	} {
		if p, m := SplitName(c.name); p != c.provider || m != c.model {
			t.Errorf("%q: %q %q, want %q %q", c.name, p, m, c.provider, c.model)
		}
	}
}

func TestErrorTypeOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&provider.Error{StatusCode: 429, Code: "rate_limit_exceeded"}, "429"},
		{fmt.Errorf("wrapped: %w", &provider.Error{StatusCode: 503}), "503"},
		{&provider.Error{Code: "incomplete_stream", Err: llm.ErrIncomplete}, "incomplete_stream"},
		{&provider.Error{Message: "no answer"}, "incomplete"},
		{fmt.Errorf("x: %w", context.Canceled), "canceled"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("anything"), "_OTHER"},
	} {
		if got := ErrorTypeOf(c.err); got != c.want {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}

// A nil Telemetry, and the Op it starts, record nothing and do not fail.
func TestNilTelemetry(t *testing.T) {
	var tel *Telemetry
	ctx, op := tel.Start(context.Background(), OpChat, "openai", "m", 0, true)
	op.Set(Hits.Int(1))
	op.InputTokens(3)
	op.End(ctx, errors.New("x"))
	if op.Recording() || tel.Content() {
		t.Fatal("a nil telemetry records")
	}
	if m := llm.Func(nil); TraceModel(nil, m, nil) == nil {
		t.Fatal("TraceModel(nil) lost the model")
	}
}
