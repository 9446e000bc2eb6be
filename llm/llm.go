// Package llm defines the chat-model contract the rag pipeline generates
// answers with, and ships an implementation for OpenAI and every
// OpenAI-compatible server (Ollama, vLLM, LiteLLM, llama.cpp, ...).
//
// A Model has two methods: Generate returns a whole reply, Stream yields it
// as it is written, as an iterator:
//
//	for c, err := range model.Stream(ctx, llm.Request{Messages: msgs}) {
//		if err != nil {
//			return err // the last item; text already yielded stays valid
//		}
//		fmt.Print(c.Text)
//	}
//
// Models make one provider call per request and do not retry; Retry wraps
// any Model with retries on rate limits, server errors and timeouts, and
// never retries a stream that has already delivered text. The pipeline
// wraps its model that way. Package llm/llmtest has a scripted Model for
// tests.
package llm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
)

// Role is the author of a message.
type Role string

// Roles of the chat protocol.
const (
	System    Role = "system"
	User      Role = "user"
	Assistant Role = "assistant"
)

// Message is one message of a conversation.
type Message struct {
	Role    Role
	Content string
}

// Request is one generation: a conversation to continue and how.
type Request struct {
	// Messages is the conversation, oldest first; usually a System message,
	// then alternating User and Assistant messages ending with User.
	Messages []Message
	// MaxTokens bounds the reply; 0 means the provider's default.
	MaxTokens int
	// Temperature, when not nil, sets the sampling temperature (0 is the
	// most deterministic); nil means the provider's default.
	Temperature *float64
	// Stop lists sequences at which the provider stops generating (the
	// sequence itself is not part of the reply).
	Stop []string
}

// Temperature returns a pointer to t, for Request.Temperature.
func Temperature(t float64) *float64 { return &t }

// Validate reports an error matching ErrInvalidRequest if r has no
// messages, a message with an unknown role, or a negative MaxTokens.
func (r *Request) Validate() error {
	if len(r.Messages) == 0 {
		return fmt.Errorf("%w: no messages", ErrInvalidRequest)
	}
	for i, m := range r.Messages {
		switch m.Role {
		case System, User, Assistant:
		default:
			return fmt.Errorf("%w: message %d has role %q", ErrInvalidRequest, i, m.Role)
		}
	}
	if r.MaxTokens < 0 {
		return fmt.Errorf("%w: MaxTokens %d", ErrInvalidRequest, r.MaxTokens)
	}
	return nil
}

// Usage counts the tokens of a generation, as the provider reports them.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Total returns PromptTokens + CompletionTokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{PromptTokens: u.PromptTokens + v.PromptTokens, CompletionTokens: u.CompletionTokens + v.CompletionTokens}
}

// Finish reasons, as OpenAI names them. Providers may report others.
const (
	FinishStop   = "stop"           // the model ended its reply, or met a Stop sequence
	FinishLength = "length"         // the reply reached MaxTokens or the context limit
	FinishFilter = "content_filter" // the provider withheld part of the reply
	// FinishUnknown: the stream ended properly (OpenAI's [DONE]) but the
	// provider never said why the reply stopped, as some compatible
	// servers do. The reply is taken as complete.
	FinishUnknown = "unknown"
)

// Response is a whole reply.
type Response struct {
	Text  string
	Usage Usage // zero when the provider did not report it
	// UsageReported says the provider reported Usage, so that zero counts
	// are counts and not the absence of any.
	UsageReported bool
	FinishReason  string // FinishStop, FinishLength, ...; "" if unknown
}

// Delta is a piece of a streamed reply. The deltas' Text, concatenated in
// order, is the reply. The last delta of a stream that completed carries
// FinishReason (never empty; FinishUnknown when the provider did not say)
// and Usage (nil when the provider did not report it); it may carry text
// too.
type Delta struct {
	Text         string
	FinishReason string
	Usage        *Usage
}

// Model generates replies to conversations.
//
// Generate returns the whole reply. Stream yields it in chunks as the
// provider writes them: each iteration of the returned sequence makes a new
// provider call, which starts when the iteration does. A stream ends
// either with a chunk whose FinishReason is set, or with one (Delta{}, err)
// item, after which nothing more is yielded; text yielded before an error
// stays valid but the reply is incomplete. Stopping the iteration early
// (break) ends the provider call and frees its connection before the
// iteration returns; so does cancelling ctx, which ends the stream with an
// error matching ctx.Err(). A stream leaves no goroutine behind once its
// iteration has returned.
//
// Models do not retry: see Retry.
//
// Concurrency: Generate and Stream may be called concurrently from many
// goroutines, and several streams may be iterated at once.
//
// Ownership: a Model must not modify the request (its slices included),
// and must not keep it after Generate returns or the stream's iteration
// ends.
//
// Errors: a request the model cannot send matches ErrInvalidRequest; a
// provider's refusal or a failed exchange is a *provider.Error, which
// tells a retryable failure (429, 5xx, timeouts, lost connections) from a
// permanent one (see provider.Retryable); a stream cut short matches
// ErrIncomplete.
type Model interface {
	Generate(ctx context.Context, req Request) (*Response, error)
	Stream(ctx context.Context, req Request) iter.Seq2[Delta, error]
}

// Namer is implemented by models that can name themselves, such as
// "openai:gpt-4o-mini". The pipeline records the name of the model that
// enriched a document.
type Namer interface {
	Name() string
}

// Func adapts a function to the Model interface. Its Stream calls the
// function and yields the whole reply as one chunk.
type Func func(ctx context.Context, req Request) (*Response, error)

var _ Model = Func(nil)

// Generate calls f(ctx, req).
func (f Func) Generate(ctx context.Context, req Request) (*Response, error) { return f(ctx, req) }

// Stream calls f(ctx, req) when iterated, and yields its reply as one
// chunk.
func (f Func) Stream(ctx context.Context, req Request) iter.Seq2[Delta, error] {
	return func(yield func(Delta, error) bool) {
		resp, err := f(ctx, req)
		if err != nil {
			yield(Delta{}, err)
			return
		}
		reason := resp.FinishReason
		if reason == "" {
			reason = FinishStop
		}
		c := Delta{Text: resp.Text, FinishReason: reason}
		if resp.UsageReported || resp.Usage != (Usage{}) {
			u := resp.Usage
			c.Usage = &u
		}
		yield(c, nil)
	}
}

// Collect reads a stream to its end and returns the whole reply. On error
// it returns the text received so far with the error.
func Collect(stream iter.Seq2[Delta, error]) (*Response, error) {
	var b strings.Builder
	resp := &Response{}
	for c, err := range stream {
		if err != nil {
			resp.Text = b.String()
			return resp, err
		}
		b.WriteString(c.Text)
		if c.FinishReason != "" {
			resp.FinishReason = c.FinishReason
		}
		if c.Usage != nil {
			resp.Usage, resp.UsageReported = *c.Usage, true
		}
	}
	resp.Text = b.String()
	return resp, nil
}

// Sentinel errors, wrapped with %w; test them with errors.Is.
var (
	// ErrInvalidRequest: a request that cannot be sent (no messages, an
	// unknown role, parameters the model refuses). It is not retryable.
	ErrInvalidRequest = errors.New("llm: invalid request")
	// ErrIncomplete: a stream ended before the model finished its reply
	// (the connection dropped, or the provider stopped without a finish
	// reason). It is retryable (provider.Retryable): the whole reply may
	// come if asked again.
	ErrIncomplete = newIncomplete()
)

// incomplete is the type of ErrIncomplete, which says it is retryable.
// (newIncomplete gives the variable the type error without spelling it
// in the declaration, which go/doc would take for a type of the package.)
type incomplete struct{}

func newIncomplete() error { return incomplete{} }

func (incomplete) Error() string   { return "llm: reply ended before the model finished" }
func (incomplete) Retryable() bool { return true }
