package rerank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/internal/httpx"
	"github.com/ragkit-go/rag/internal/openaix"
	"github.com/ragkit-go/rag/provider"
	openai "github.com/sashabaranov/go-openai"
)

// LLMOptions configures an LLM reranker. Either Client is set, or one is
// built from BaseURL, APIKey and HTTPClient.
type LLMOptions struct {
	// Client is an OpenAI-compatible client to use as it is. When it is
	// set, BaseURL, APIKey, HTTPClient and MaxRetries are ignored (the
	// client's own HTTP client decides retries).
	Client *openai.Client
	// BaseURL of an OpenAI-compatible API, such as
	// "http://localhost:11434/v1"; "" means OpenAI's.
	BaseURL string
	APIKey  string
	// HTTPClient sends the requests; it is not modified. Requests are
	// retried as DefaultMaxRetries describes, each bounded to 120 s.
	// Without an APIKey for OpenAI's own API, Rerank fails with
	// provider.ErrMissingAPIKey.
	HTTPClient *http.Client
	// MaxRetries is the number of retries of a failed request; 0 means
	// DefaultMaxRetries, a negative value means none.
	MaxRetries int
	// Model is the chat model; "" means "gpt-4o-mini".
	Model string
	// BatchSize is the number of passages judged in one prompt; 0 means
	// 10. Smaller batches cost more requests but keep the model's
	// attention on each passage.
	BatchSize int
	// Concurrency bounds the requests one Rerank call has in flight; 0
	// means DefaultConcurrency.
	Concurrency int
	// MaxPassageBytes truncates each passage (at a character boundary)
	// in the prompt; 0 means 4000, negative means no limit.
	MaxPassageBytes int
	// Temperature is the sampling temperature; 0 asks for deterministic
	// answers (temperature 0). A negative value sends none, for models
	// that accept only their default.
	Temperature float32
	// NoJSONMode stops asking for response_format json_object, for
	// servers that do not support it; the prompt still asks for JSON.
	NoJSONMode bool
}

// LLM reranks by asking a chat model to grade each passage's relevance
// to the query from 0 (irrelevant) to 10 (fully answers it). Passages go
// in batches of BatchSize, batches concurrently; the model answers JSON.
// The grades use an absolute scale explained in the prompt, so grades of
// different batches are comparable. It is safe for concurrent use.
//
// An answer that is not the JSON asked for, or lacks a passage, or grades
// outside 0-10, is an error matching ErrBadResponse: the reranker does not
// guess.
type LLM struct {
	client  *openai.Client
	invalid error // from provider.OpenAIConfig.Validate
	retry   provider.RetryPolicy
	// sleep, if set, replaces the waits between retries (tests).
	sleep       backoff.SleepFunc
	model       string
	batchSize   int
	concurrency int
	maxBytes    int
	temperature float32
	jsonMode    bool
}

var _ Reranker = (*LLM)(nil)

// NewLLM returns an LLM reranker.
func NewLLM(opts LLMOptions) *LLM {
	l := &LLM{
		client:      opts.Client,
		retry:       provider.RetryPolicy{MaxRetries: -1}, // the caller's client decides
		model:       opts.Model,
		batchSize:   positive(opts.BatchSize, 10),
		concurrency: positive(opts.Concurrency, DefaultConcurrency),
		maxBytes:    opts.MaxPassageBytes,
		temperature: opts.Temperature,
		jsonMode:    !opts.NoJSONMode,
	}
	if l.client == nil {
		cfg := provider.OpenAIConfig{APIKey: opts.APIKey, BaseURL: opts.BaseURL, HTTPClient: opts.HTTPClient}
		l.client = openaix.NewClient(cfg, "", false)
		l.invalid = cfg.Validate()
		l.retry = retryPolicy(opts.MaxRetries)
		l.retry.RequestTimeout = defaultTimeout
	}
	if l.model == "" {
		l.model = "gpt-4o-mini"
	}
	if l.maxBytes == 0 {
		l.maxBytes = 4000
	}
	switch {
	case l.temperature == 0:
		l.temperature = math.SmallestNonzeroFloat32 // 0 would be omitted from the request
	case l.temperature < 0:
		l.temperature = 0
	}
	return l
}

const llmSystemPrompt = `You are a search relevance judge. You are given a search query and numbered passages.
Grade each passage on its own for how well it answers the query, with an integer from 0 to 10:
10 = answers the query directly and completely; 7 = mostly answers it; 4 = related, partly useful;
1 = same topic but does not help; 0 = unrelated.
Use this absolute scale; do not compare passages with each other.
Answer with JSON only, in exactly this form, one entry per passage:
{"scores": [{"id": 1, "score": 7}, {"id": 2, "score": 0}]}`

// Rerank returns one grade in [0, 10] per passage, in order.
func (l *LLM) Rerank(ctx context.Context, query string, passages []string) ([]float64, error) {
	if l.invalid != nil {
		return nil, fmt.Errorf("rerank: llm: %w", l.invalid)
	}
	if l.sleep != nil {
		ctx = backoff.WithSleep(ctx, l.sleep)
	}
	return inBatches(ctx, "llm", query, passages, l.batchSize, l.concurrency, l.batch)
}

func (l *LLM) prompt(query string, passages []string) string {
	var b strings.Builder
	b.WriteString("Query: ")
	b.WriteString(query)
	b.WriteString("\n\nPassages:\n")
	for i, p := range passages {
		if l.maxBytes > 0 && len(p) > l.maxBytes {
			cut := l.maxBytes
			for cut > 0 && !utf8.RuneStart(p[cut]) {
				cut--
			}
			p = p[:cut] + " …"
		}
		fmt.Fprintf(&b, "\n[%d] %s\n", i+1, p)
	}
	fmt.Fprintf(&b, "\nGrade all %d passages.", len(passages))
	return b.String()
}

func (l *LLM) batch(ctx context.Context, query string, passages []string, out []float64) error {
	req := openai.ChatCompletionRequest{
		Model: l.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: llmSystemPrompt},
			{Role: openai.ChatMessageRoleUser, Content: l.prompt(query, passages)},
		},
		Temperature: l.temperature,
	}
	if l.jsonMode {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	}
	var resp openai.ChatCompletionResponse
	err := l.retry.Do(ctx, func(ctx context.Context, _ int) error {
		slot := new(httpx.Slot)
		var err error
		if resp, err = l.client.CreateChatCompletion(httpx.WithSlot(ctx, slot), req); err != nil {
			return llmError(ctx, err, slot)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(resp.Choices) == 0 {
		return fmt.Errorf("%w: llm: no choices in the answer", ErrBadResponse)
	}
	grades, err := parseGrades(resp.Choices[0].Message.Content, len(passages))
	if err != nil {
		return err
	}
	copy(out, grades)
	return nil
}

// llmError maps an error of go-openai to a *provider.Error, unless ctx is
// done: then the error matches ctx.Err().
func llmError(ctx context.Context, err error, slot *httpx.Slot) error {
	if ctx.Err() != nil {
		if errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("rerank: llm: %w", ctx.Err())
	}
	pe, unsent := openaix.Failure(err, slot, false, 0)
	if unsent {
		return fmt.Errorf("rerank: llm: %w", err)
	}
	return pe
}

// parseGrades reads the model's answer: a JSON object {"scores": [...]}
// or a bare array, whose items are either numbers (one a passage, in
// order) or {"id": i, "score": s} objects with ids 1..n. Code fences and
// text around the JSON are ignored.
func parseGrades(content string, n int) ([]float64, error) {
	bad := func(why string) error {
		snippet := content
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return fmt.Errorf("%w: llm: %s in answer %q", ErrBadResponse, why, snippet)
	}
	start := strings.IndexAny(content, "{[")
	if start < 0 {
		return nil, bad("no JSON")
	}
	dec := json.NewDecoder(strings.NewReader(content[start:]))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, bad("invalid JSON (" + err.Error() + ")")
	}
	items, ok := v.([]any)
	if obj, isObj := v.(map[string]any); isObj {
		for _, key := range []string{"scores", "grades", "results"} {
			if items, ok = obj[key].([]any); ok {
				break
			}
		}
	}
	if !ok {
		return nil, bad(`no "scores" list`)
	}
	if len(items) != n {
		return nil, bad(fmt.Sprintf("%d grades for %d passages", len(items), n))
	}
	out := make([]float64, n)
	seen := make([]bool, n)
	for i, it := range items {
		id, score := i+1, it
		if obj, isObj := it.(map[string]any); isObj {
			idNum, err := number(obj["id"])
			if err != nil || idNum != math.Trunc(idNum) {
				return nil, bad(fmt.Sprintf("item %d has no integer id", i+1))
			}
			id, score = int(idNum), obj["score"]
		}
		s, err := number(score)
		if err != nil {
			return nil, bad(fmt.Sprintf("item %d: %v", i+1, err))
		}
		if id < 1 || id > n || seen[id-1] {
			return nil, bad(fmt.Sprintf("id %d out of range or repeated", id))
		}
		if s < 0 || s > 10 {
			return nil, bad(fmt.Sprintf("grade %v outside 0-10", s))
		}
		seen[id-1] = true
		out[id-1] = s
	}
	return out, nil
}

func number(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("bad number %q", x.String())
		}
		return f, nil
	case string: // "7" from a model that quotes its numbers
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("bad number %q", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}
