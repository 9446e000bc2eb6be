// Package llmtest provides a scripted llm.Model for tests: replies are
// given in advance or computed from the request, streams are cut into
// word-sized chunks, faults and pauses can be injected, and every request
// is recorded.
//
//	m := llmtest.New("Goroutines are cheap [1].")
//	resp, err := m.Generate(ctx, llm.Request{Messages: msgs})
//	m.Requests() // what the model was asked
package llmtest

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/tokenizer"
)

// Model is a scripted llm.Model. Set its exported fields before the first
// call; after that, a Model is safe for concurrent use.
type Model struct {
	// Reply computes the reply to a request. When nil, the replies given
	// to New are used in turn, and once they run out the reply echoes the
	// last user message: "echo: <message>".
	Reply func(llm.Request) string
	// Fault, when set, is asked about every call first (call counts from
	// 1, in arrival order): a non-nil error is the call's result, before
	// any chunk.
	Fault func(call int, req llm.Request) error
	// BeforeChunk, when set, is called before each chunk of a stream is
	// yielded (i counts from 0); a non-nil error ends the stream with that
	// error. It may block, on ctx for instance, to hold a stream open.
	BeforeChunk func(ctx context.Context, i int) error
	// FailAfter > 0 breaks every stream after that many chunks of text,
	// with an error matching llm.ErrIncomplete (a retryable
	// *provider.Error). A shorter reply streams whole.
	FailAfter int
	// FinishReason is the finish reason reported; default llm.FinishStop.
	FinishReason string

	mu      sync.Mutex
	replies []string
	reqs    []llm.Request
	active  int
}

var (
	_ llm.Model = (*Model)(nil)
	_ llm.Namer = (*Model)(nil)
)

// New returns a Model that answers replies in turn, then echoes.
func New(replies ...string) *Model {
	return &Model{replies: slices.Clone(replies)}
}

// Name returns "llmtest".
func (m *Model) Name() string { return "llmtest" }

// Requests returns copies of the requests received so far, in order.
func (m *Model) Requests() []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]llm.Request, len(m.reqs))
	for i, r := range m.reqs {
		out[i] = clone(r)
	}
	return out
}

// Calls returns the number of calls received so far.
func (m *Model) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reqs)
}

// Active returns the number of calls in progress: a Generate that has not
// returned, or a stream whose iteration has not ended.
func (m *Model) Active() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active
}

func clone(r llm.Request) llm.Request {
	r.Messages = slices.Clone(r.Messages)
	r.Stop = slices.Clone(r.Stop)
	if r.Temperature != nil {
		t := *r.Temperature
		r.Temperature = &t
	}
	return r
}

// start counts a call in progress (done ends it), records it and returns
// its reply, or its fault.
func (m *Model) start(req llm.Request) (string, error) {
	m.mu.Lock()
	m.active++
	m.mu.Unlock()
	if err := req.Validate(); err != nil {
		return "", err
	}
	m.mu.Lock()
	m.reqs = append(m.reqs, clone(req))
	call := len(m.reqs)
	m.mu.Unlock()
	if m.Fault != nil {
		if err := m.Fault(call, clone(req)); err != nil {
			return "", err
		}
	}
	if m.Reply != nil {
		return m.Reply(clone(req)), nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.replies) > 0 {
		r := m.replies[0]
		m.replies = m.replies[1:]
		return r, nil
	}
	for _, msg := range slices.Backward(req.Messages) {
		if msg.Role == llm.User {
			return "echo: " + msg.Content, nil
		}
	}
	return "echo: ", nil
}

func (m *Model) done() {
	m.mu.Lock()
	m.active--
	m.mu.Unlock()
}

// usage counts tokens with cl100k_base, as OpenAI's chat models do
// (without the per-message overhead).
func usage(req llm.Request, reply string) llm.Usage {
	tok := tokenizer.CL100K()
	u := llm.Usage{CompletionTokens: tok.Count(reply)}
	for _, msg := range req.Messages {
		u.PromptTokens += tok.Count(msg.Content)
	}
	return u
}

// applyStop cuts reply at the first stop sequence.
func applyStop(reply string, stop []string) (string, bool) {
	cut := -1
	for _, s := range stop {
		if i := strings.Index(reply, s); s != "" && i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return reply, false
	}
	return reply[:cut], true
}

func (m *Model) finish(req llm.Request, reply string) (string, string) {
	reply, _ = applyStop(reply, req.Stop)
	reason := m.FinishReason
	if reason == "" {
		reason = llm.FinishStop
	}
	if req.MaxTokens > 0 {
		tok := tokenizer.CL100K()
		if ids := tok.Encode(reply); len(ids) > req.MaxTokens {
			reply, reason = tok.Decode(ids[:req.MaxTokens]), llm.FinishLength
		}
	}
	return reply, reason
}

// Generate returns the scripted reply, cut at a Stop sequence or at
// MaxTokens tokens (cl100k_base) with finish reason "length".
func (m *Model) Generate(ctx context.Context, req llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	reply, err := m.start(req)
	defer m.done()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	reply, reason := m.finish(req, reply)
	return &llm.Response{Text: reply, Usage: usage(req, reply), UsageReported: true, FinishReason: reason}, nil
}

// Stream yields the scripted reply one word (with the spaces after it) a
// chunk, then a last chunk with the finish reason and usage. It checks ctx
// before every chunk.
func (m *Model) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Delta, error] {
	return func(yield func(llm.Delta, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(llm.Delta{}, err)
			return
		}
		reply, err := m.start(req)
		defer m.done()
		if err != nil {
			yield(llm.Delta{}, err)
			return
		}
		reply, reason := m.finish(req, reply)
		for i, piece := range Split(reply) {
			if m.BeforeChunk != nil {
				if err := m.BeforeChunk(ctx, i); err != nil {
					yield(llm.Delta{}, err)
					return
				}
			}
			if err := ctx.Err(); err != nil {
				yield(llm.Delta{}, fmt.Errorf("llmtest: %w", err))
				return
			}
			if m.FailAfter > 0 && i == m.FailAfter {
				yield(llm.Delta{}, &provider.Error{Code: "incomplete_stream", Message: "llmtest: scripted broken stream", Err: llm.ErrIncomplete})
				return
			}
			if !yield(llm.Delta{Text: piece}, nil) {
				return
			}
		}
		u := usage(req, reply)
		yield(llm.Delta{FinishReason: reason, Usage: &u}, nil)
	}
}

// Split cuts text into the chunks Stream yields: one word and the white
// space after it a chunk (leading white space goes with the first word).
func Split(text string) []string {
	var out []string
	start := 0
	inSpace := true
	for i, r := range text {
		space := r == ' ' || r == '\n' || r == '\t'
		if !space && inSpace && i > start && strings.TrimSpace(text[start:i]) != "" {
			out = append(out, text[start:i])
			start = i
		}
		inSpace = space
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}
