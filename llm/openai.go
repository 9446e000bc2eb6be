package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/ragkit-go/rag/internal/httpx"
	"github.com/ragkit-go/rag/internal/openaix"
	"github.com/ragkit-go/rag/provider"

	openai "github.com/sashabaranov/go-openai"
)

// Defaults of OpenAIOptions.
const (
	DefaultOpenAIModel     = "gpt-4o-mini"
	DefaultOpenAIBaseURL   = provider.DefaultOpenAIBaseURL
	DefaultOpenAITimeout   = 2 * time.Minute
	DefaultAzureAPIVersion = "2024-06-01"
)

// ErrMissingAPIKey is provider.ErrMissingAPIKey: OpenAIFromEnv returns it,
// and the calls of an OpenAI without a key for OpenAI's own API (or
// Azure) fail with it, rather than send requests without credentials.
var ErrMissingAPIKey = provider.ErrMissingAPIKey

// OpenAIOptions configure an OpenAI chat model. Only APIKey is needed for
// OpenAI itself; every other zero value means the default.
type OpenAIOptions struct {
	// OpenAIConfig says how to reach the API: APIKey, BaseURL (any
	// server speaking OpenAI's /chat/completions protocol: Ollama, vLLM,
	// LiteLLM, llama.cpp's server, openaitest.Server), Organization,
	// Azure (with AzureAPIVersion, default DefaultAzureAPIVersion) and
	// HTTPClient (whose own Timeout is not used: Timeout is enforced per
	// call instead, so that long streams are not cut). NewOpenAI does not
	// read the environment; OpenAIFromEnv does.
	provider.OpenAIConfig

	// Model is the chat model (the deployment name on Azure). Default:
	// DefaultOpenAIModel, gpt-4o-mini.
	Model string

	// Timeout bounds a Generate request, and for Stream the wait for the
	// answer and then for each next chunk (a stream may run longer as
	// long as it keeps moving). Default DefaultOpenAITimeout; negative for
	// none. A request that exceeds it fails with a retryable *provider.Error.
	Timeout time.Duration

	// MaxTokensParam names the request field that carries
	// Request.MaxTokens: "max_completion_tokens" (what OpenAI's newer
	// models require) or "max_tokens" (what most compatible servers
	// know). Default: max_completion_tokens for OpenAI's own API and
	// Azure, max_tokens for any other BaseURL.
	MaxTokensParam string

	// NoStreamUsage stops asking for token usage at the end of streams
	// (stream_options.include_usage), for servers that refuse the option.
	// Chunks then carry no Usage.
	NoStreamUsage bool
}

// OpenAI is a chat model on OpenAI's chat completions API, or that of any
// compatible server, through github.com/sashabaranov/go-openai.
//
// It makes one request per call and does not retry (see Retry). An OpenAI
// is safe for concurrent use by many goroutines, which share its HTTP
// connections.
//
// Errors: a refusal of the API is a *provider.Error with the HTTP status, the
// provider's error code (or type) and message, and RetryAfter from the
// retry-after-ms or Retry-After headers, or for a 429 from the
// x-ratelimit-reset-* headers of the exhausted limit. A request that got
// no usable answer (network error, Timeout exceeded, malformed body) is an
// *provider.Error with StatusCode 0, which is retryable; so is a stream cut short,
// which also matches ErrIncomplete. When ctx is done, calls return an error
// matching ctx.Err(). Parameters go-openai refuses to send for a model
// match ErrInvalidRequest.
type OpenAI struct {
	client        *openai.Client
	invalid       error // from OpenAIConfig.Validate: every call fails with it
	model         string
	timeout       time.Duration
	maxCompletion bool
	streamUsage   bool
}

var (
	_ Model = (*OpenAI)(nil)
	_ Namer = (*OpenAI)(nil)
)

// NewOpenAI returns an OpenAI chat model configured by opts. Without an
// APIKey for OpenAI's own API or Azure, its calls fail with
// ErrMissingAPIKey (see provider.OpenAIConfig.Validate).
func NewOpenAI(opts OpenAIOptions) *OpenAI {
	if opts.Model == "" {
		opts.Model = DefaultOpenAIModel
	}
	o := &OpenAI{
		client:        openaix.NewClient(opts.OpenAIConfig, DefaultAzureAPIVersion, true),
		invalid:       opts.Validate(),
		model:         opts.Model,
		timeout:       opts.Timeout,
		maxCompletion: opts.Official(),
		streamUsage:   !opts.NoStreamUsage,
	}
	switch opts.MaxTokensParam {
	case "max_tokens":
		o.maxCompletion = false
	case "max_completion_tokens":
		o.maxCompletion = true
	}
	if o.timeout == 0 {
		o.timeout = DefaultOpenAITimeout
	}
	return o
}

// OpenAIFromEnv returns NewOpenAI(opts) with the configuration completed
// from the environment (provider.OpenAIConfig.WithEnv: OPENAI_API_KEY,
// OPENAI_BASE_URL, OPENAI_ORG_ID). It returns ErrMissingAPIKey when no
// key is set and the base URL is OpenAI's.
func OpenAIFromEnv(opts OpenAIOptions) (*OpenAI, error) {
	if err := openaix.LoadEnv(&opts.OpenAIConfig); err != nil {
		return nil, err
	}
	return NewOpenAI(opts), nil
}

// Name returns "openai:<model>".
func (o *OpenAI) Name() string { return "openai:" + o.model }

// chatRequest translates req into go-openai's request.
func (o *OpenAI) chatRequest(req *Request) (openai.ChatCompletionRequest, error) {
	if err := req.Validate(); err != nil {
		return openai.ChatCompletionRequest{}, err
	}
	msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = openai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
	}
	cr := openai.ChatCompletionRequest{Model: o.model, Messages: msgs}
	if len(req.Stop) > 0 {
		cr.Stop = append([]string(nil), req.Stop...)
	}
	if req.MaxTokens > 0 {
		if o.maxCompletion {
			cr.MaxCompletionTokens = req.MaxTokens
		} else {
			cr.MaxTokens = req.MaxTokens
		}
	}
	if req.Temperature != nil {
		t := float32(*req.Temperature)
		if t == 0 {
			// go-openai omits a zero temperature, which would leave the
			// provider's default (1): send the closest value to 0.
			t = math.SmallestNonzeroFloat32
		}
		cr.Temperature = t
	}
	return cr, nil
}

// Generate returns the whole reply to req. See OpenAI for errors.
func (o *OpenAI) Generate(ctx context.Context, req Request) (*Response, error) {
	if o.invalid != nil {
		return nil, fmt.Errorf("llm: openai %s: %w", o.model, o.invalid)
	}
	cr, err := o.chatRequest(&req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if o.timeout > 0 {
		rctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()
	slot := &httpx.Slot{OnSuccess: openaix.InBandErrors}
	rctx = httpx.WithSlot(rctx, slot)
	resp, err := o.client.CreateChatCompletion(rctx, cr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("llm: openai %s: %w", o.model, ctx.Err())
		}
		return nil, o.apiError(err, slot, rctx.Err() != nil)
	}
	if len(resp.Choices) == 0 {
		return nil, &provider.Error{Provider: openaix.Provider, Code: "invalid_response", Message: "the answer has no choices"}
	}
	ch := resp.Choices[0]
	return &Response{
		Text:          ch.Message.Content,
		Usage:         Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens},
		UsageReported: resp.Usage.TotalTokens > 0 || resp.Usage.PromptTokens > 0 || resp.Usage.CompletionTokens > 0,
		FinishReason:  string(ch.FinishReason),
	}, nil
}

// errStalled is the cancellation cause of a stream that waited longer than
// the timeout for its next chunk.
var errStalled = errors.New("llm: stream stalled")

// Stream yields the reply to req as the server streams it. See Model for
// the contract and OpenAI for errors.
func (o *OpenAI) Stream(ctx context.Context, req Request) iter.Seq2[Delta, error] {
	return func(yield func(Delta, error) bool) {
		if o.invalid != nil {
			yield(Delta{}, fmt.Errorf("llm: openai %s: %w", o.model, o.invalid))
			return
		}
		cr, err := o.chatRequest(&req)
		if err != nil {
			yield(Delta{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(Delta{}, err)
			return
		}
		cr.Stream = true
		if o.streamUsage {
			cr.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		}
		sctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		// The watchdog runs only while waiting for the server, never
		// while the caller handles a chunk.
		var watchdog *time.Timer
		if o.timeout > 0 {
			watchdog = time.AfterFunc(o.timeout, func() { cancel(errStalled) })
			defer watchdog.Stop()
		}
		slot := new(httpx.Slot)
		done := new(doneWatcher)
		slot.OnSuccess = done.watch
		stream, err := o.client.CreateChatCompletionStream(httpx.WithSlot(sctx, slot), cr)
		if err != nil {
			yield(Delta{}, o.streamError(ctx, sctx, err, slot, false))
			return
		}
		defer func() {
			// Cancel first, so closing does not wait for a server that
			// keeps writing.
			cancel(nil)
			stream.Close()
		}()
		var (
			finish  string
			usage   *Usage
			started bool
		)
		for {
			if watchdog != nil {
				watchdog.Reset(o.timeout)
			}
			resp, err := stream.Recv()
			if watchdog != nil {
				watchdog.Stop()
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				yield(Delta{}, o.streamError(ctx, sctx, err, slot, true))
				return
			}
			if resp.Usage != nil {
				usage = &Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
			}
			for _, ch := range resp.Choices {
				if ch.Index != 0 {
					continue
				}
				if ch.FinishReason != "" {
					finish = string(ch.FinishReason)
				}
				if ch.Delta.Content != "" {
					started = true
					if !yield(Delta{Text: ch.Delta.Content}, nil) {
						return
					}
				}
			}
		}
		if finish == "" {
			if done.seen() {
				// Some servers end with [DONE] and never send a
				// finish reason: the reply is whole.
				finish = FinishUnknown
			} else {
				msg := "the stream ended without a finish reason"
				if !started {
					msg = "the stream ended before any text"
				}
				yield(Delta{}, &provider.Error{Provider: openaix.Provider, Code: "incomplete_stream", Message: msg, Err: ErrIncomplete})
				return
			}
		}
		yield(Delta{FinishReason: finish, Usage: usage}, nil)
	}
}

// streamError classifies the error of a stream: the caller's
// cancellation, a stall, a broken stream or a refusal, before (the
// request's) or after the stream opened (midStream; the error then also
// matches ErrIncomplete). An error event inside the stream is an
// *provider.Error with the status its code stands for, so its
// retryability is that of the same error answered as a status.
func (o *OpenAI) streamError(ctx, sctx context.Context, err error, slot *httpx.Slot, midStream bool) error {
	if ctx.Err() != nil {
		return fmt.Errorf("llm: openai %s: %w", o.model, ctx.Err())
	}
	if context.Cause(sctx) == errStalled {
		ae := &provider.Error{Provider: openaix.Provider, Message: "no data from the server for " + o.timeout.String(), Err: errors.New(err.Error())}
		if midStream {
			ae.Err = fmt.Errorf("%w: %s", ErrIncomplete, err)
		}
		return ae
	}
	if midStream {
		var oe *openai.APIError
		if errors.As(err, &oe) {
			// An error event inside the stream.
			ae := o.apiError(err, slot, false).(*provider.Error)
			ae.Err = fmt.Errorf("%w: %w", ErrIncomplete, err)
			return ae
		}
		return &provider.Error{Provider: openaix.Provider, Code: "incomplete_stream", Message: "the stream broke: " + err.Error(), Err: fmt.Errorf("%w: %w", ErrIncomplete, err)}
	}
	return o.apiError(err, slot, false)
}

// doneWatcher sees whether a stream's body carried OpenAI's end marker,
// "data: [DONE]", which go-openai does not tell from a body that just
// ended.
type doneWatcher struct {
	body io.ReadCloser
	tail []byte // the last bytes read, for a marker cut between reads
	done bool
}

const doneMarker = "[DONE]"

// watch is a Slot's OnSuccess: it puts the watcher in front of the body.
func (d *doneWatcher) watch(resp *http.Response) (*http.Response, error) {
	d.body = resp.Body
	resp.Body = d
	return resp, nil
}

func (d *doneWatcher) Read(p []byte) (int, error) {
	n, err := d.body.Read(p)
	if n > 0 && !d.done {
		buf := append(d.tail, p[:n]...)
		d.done = strings.Contains(string(buf), doneMarker)
		d.tail = append(d.tail[:0], buf[max(0, len(buf)-len(doneMarker)+1):]...)
	}
	return n, err
}

func (d *doneWatcher) Close() error { return d.body.Close() }

func (d *doneWatcher) seen() bool { return d.done }

// apiError turns an error of go-openai into a *provider.Error, or an
// error matching ErrInvalidRequest when the request was never sent.
func (o *OpenAI) apiError(err error, slot *httpx.Slot, timedOut bool) error {
	pe, unsent := openaix.Failure(err, slot, timedOut, o.timeout)
	if unsent {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if pe.StatusCode == http.StatusBadRequest || pe.StatusCode == http.StatusNotFound || pe.StatusCode == http.StatusUnprocessableEntity {
		pe.Err = fmt.Errorf("%w: %w", ErrInvalidRequest, pe.Err)
	}
	return pe
}
