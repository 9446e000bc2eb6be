package telemetry

import (
	"context"
	"encoding/json"
	"iter"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/llm"
)

// Model traces the calls of a chat model: one "chat {model}" client span
// a call, covering its retries when the model retries, with the request's
// parameters, the usage and the finish reason, and the messages when
// content is on. It is safe for concurrent use, as the model is.
type Model struct {
	m              llm.Model
	t              *Telemetry
	logger         *slog.Logger
	provider, name string
}

var (
	_ llm.Model = (*Model)(nil)
	_ llm.Namer = (*Model)(nil)
)

// TraceModel returns m traced by t, logging to l (if not nil) the streams
// abandoned before their end; m itself when t is nil.
func TraceModel(t *Telemetry, m llm.Model, l *slog.Logger) llm.Model {
	if t == nil || m == nil {
		return m
	}
	tm := &Model{m: m, t: t, logger: l, provider: unknownProvider}
	if n, ok := m.(llm.Namer); ok && n.Name() != "" {
		tm.provider, tm.name = SplitName(n.Name())
	}
	return tm
}

// Unwrap returns the traced model.
func (m *Model) Unwrap() llm.Model { return m.m }

// Name returns the traced model's name, if it has one.
func (m *Model) Name() string {
	if n, ok := m.m.(llm.Namer); ok {
		return n.Name()
	}
	return ""
}

func (m *Model) start(ctx context.Context, req *llm.Request) (context.Context, *Op) {
	ctx, op := m.t.Start(ctx, OpChat, m.provider, m.name, trace.SpanKindClient, true)
	if req.MaxTokens > 0 {
		op.Set(RequestMaxTokens.Int(req.MaxTokens))
	}
	if req.Temperature != nil {
		op.Set(RequestTemperature.Float64(*req.Temperature))
	}
	if m.t.Content() && op.Recording() {
		op.Set(InputMessages.String(inputMessages(req.Messages)))
	}
	return ctx, op
}

// finish records what a reply says of itself.
func (m *Model) finish(op *Op, text, reason string, u *llm.Usage) {
	if reason != "" {
		op.Set(ResponseFinish.StringSlice([]string{reason}))
	}
	if u != nil {
		op.InputTokens(u.PromptTokens)
		op.OutputTokens(u.CompletionTokens)
	}
	if m.t.Content() && op.Recording() {
		op.Set(OutputMessages.String(outputMessage(text, reason)))
	}
}

// Generate calls the model's Generate in a span.
func (m *Model) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	sctx, op := m.start(ctx, &req)
	resp, err := m.m.Generate(sctx, req)
	if err == nil {
		var u *llm.Usage
		if resp.UsageReported || resp.Usage != (llm.Usage{}) {
			u = &resp.Usage
		}
		m.finish(op, resp.Text, resp.FinishReason, u)
	}
	op.End(ctx, err)
	return resp, err
}

// Stream calls the model's Stream in a span, which ends with the stream:
// at its last chunk, its error, or when the caller stops iterating.
func (m *Model) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Delta, error] {
	return func(yield func(llm.Delta, error) bool) {
		sctx, op := m.start(ctx, &req)
		var (
			text strings.Builder
			err  error
		)
		stopped := false // the reader stopped before the end
		defer func() {
			if stopped && m.logger != nil {
				m.logger.Debug("rag: chat stream abandoned by its reader", KeyOp, OpChat)
			}
			op.End(ctx, err)
		}()
		for c, e := range m.m.Stream(sctx, req) {
			if e != nil {
				err = e
				if ctx.Err() != nil && m.logger != nil {
					m.logger.Debug("rag: chat request abandoned", KeyOp, OpChat, KeyErr, context.Cause(ctx))
				}
				yield(c, e)
				return
			}
			if m.t.Content() {
				text.WriteString(c.Text)
			}
			if c.FinishReason != "" {
				m.finish(op, text.String(), c.FinishReason, c.Usage)
			}
			if !yield(c, nil) {
				stopped = c.FinishReason == ""
				return
			}
		}
	}
}

// part and message are the shapes of gen_ai.input.messages and
// gen_ai.output.messages.
type part struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

type message struct {
	Role         string `json:"role"`
	Parts        []part `json:"parts"`
	FinishReason string `json:"finish_reason,omitempty"`
}

func inputMessages(msgs []llm.Message) string {
	out := make([]message, len(msgs))
	for i, m := range msgs {
		out[i] = message{Role: string(m.Role), Parts: []part{{Type: "text", Content: m.Content}}}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func outputMessage(text, reason string) string {
	b, _ := json.Marshal([]message{{Role: string(llm.Assistant), Parts: []part{{Type: "text", Content: text}}, FinishReason: reason}})
	return string(b)
}
