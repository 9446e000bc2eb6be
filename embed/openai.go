package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag/internal/httpx"
	"github.com/ragkit-go/rag/internal/openaix"
	"github.com/ragkit-go/rag/provider"

	openai "github.com/sashabaranov/go-openai"
)

// Defaults of OpenAIOptions.
const (
	DefaultOpenAIModel       = "text-embedding-3-small"
	DefaultOpenAIBaseURL     = provider.DefaultOpenAIBaseURL
	DefaultOpenAITimeout     = 2 * time.Minute
	DefaultAzureAPIVersion   = "2024-02-01"
	DefaultOpenAIMaxInputs   = 2048
	DefaultOpenAIInputTokens = 8192
	DefaultOpenAIReqTokens   = 300_000
)

// ErrMissingAPIKey is provider.ErrMissingAPIKey: OpenAIFromEnv returns it,
// and the calls of an OpenAI without a key for OpenAI's own API (or
// Azure) fail with it, rather than send requests without credentials.
var ErrMissingAPIKey = provider.ErrMissingAPIKey

// OpenAIOptions configures an OpenAI embedder. Only APIKey is needed for
// OpenAI itself; every other zero value means the default.
type OpenAIOptions struct {
	// OpenAIConfig says how to reach the API: APIKey, BaseURL (any
	// server speaking OpenAI's /embeddings protocol: Ollama, vLLM,
	// LiteLLM, LocalAI, openaitest.Server), Organization, Azure (with
	// AzureAPIVersion, default DefaultAzureAPIVersion, the first to
	// accept dimensions) and HTTPClient. NewOpenAI does not read the
	// environment; OpenAIFromEnv does.
	provider.OpenAIConfig

	// Model is the embedding model (the deployment name on Azure).
	// Default: DefaultOpenAIModel, text-embedding-3-small.
	Model string

	// Dimensions > 0 asks the API for vectors of this size (supported by
	// text-embedding-3 models and later, which shorten their vectors);
	// 0 takes the model's own size.
	Dimensions int

	// Timeout bounds each request; default DefaultOpenAITimeout,
	// negative for none. A request that exceeds it fails with a
	// retryable *provider.Error.
	Timeout time.Duration

	// MaxInputs is the most texts sent in one request; Embed splits
	// larger batches. <= 0 means DefaultOpenAIMaxInputs (2048, OpenAI's
	// limit); lower it for servers with smaller limits.
	MaxInputs int
	// MaxInputTokens and MaxRequestTokens are the token limits Limits
	// reports to the pipeline, which packs batches within them. Defaults
	// are OpenAI's: 8,192 per input and 300,000 per request; negative
	// means no limit.
	MaxInputTokens   int
	MaxRequestTokens int

	// FloatEncoding asks for vectors as JSON numbers rather than base64,
	// for servers that do not support encoding_format "base64". Base64
	// (the default) is about a third of the size and much cheaper to
	// decode.
	FloatEncoding bool
}

// OpenAI embeds texts with OpenAI's embeddings API, or that of any
// compatible server, through github.com/sashabaranov/go-openai.
//
// Embed sends batches of up to MaxInputs texts, one request after the
// other, and does not retry: the pipeline retries retryable errors. An
// OpenAI is safe for concurrent use by many goroutines, which share its
// HTTP connections.
//
// Errors: a refusal of the API is a *provider.Error with the HTTP status, the
// provider's error code (or type) and message, and RetryAfter from the
// retry-after-ms or Retry-After headers, or for a 429 from the
// x-ratelimit-reset-requests / -tokens headers of the exhausted limit. An
// input over the model's context is reported as a *provider.Error that also
// matches ErrInputTooLong. A request that got no usable answer (network
// error, Timeout exceeded, malformed body) is a *provider.Error with StatusCode
// 0, which is Retryable and does not match context errors. When ctx is
// done, Embed returns an error matching ctx.Err(). An answer with the
// wrong number of vectors, wrong dimensions or NaN fails with
// ErrCountMismatch, ErrDimensionMismatch or ErrInvalidVector.
type OpenAI struct {
	description
	client  *openai.Client
	invalid error // from OpenAIConfig.Validate: every call fails with it
	model   string
	dims    int // requested; 0 for the model's own
	timeout time.Duration
	format  openai.EmbeddingEncodingFormat
	// floats is set once the server answered floats to a base64 request:
	// later requests ask for floats, which it does understand.
	floats atomic.Bool
}

var (
	_ Embedder    = (*OpenAI)(nil)
	_ Dimensioner = (*OpenAI)(nil)
	_ Namer       = (*OpenAI)(nil)
	_ Limiter     = (*OpenAI)(nil)
)

// openAIModelDimensions are the native sizes of OpenAI's embedding models.
var openAIModelDimensions = map[string]int{
	"text-embedding-3-small": 1536,
	"text-embedding-3-large": 3072,
	"text-embedding-ada-002": 1536,
}

// NewOpenAI returns an OpenAI embedder configured by opts. Without an
// APIKey for OpenAI's own API or Azure, its calls fail with
// ErrMissingAPIKey (see provider.OpenAIConfig.Validate).
func NewOpenAI(opts OpenAIOptions) *OpenAI {
	if opts.Model == "" {
		opts.Model = DefaultOpenAIModel
	}
	o := &OpenAI{
		client:  openaix.NewClient(opts.OpenAIConfig, DefaultAzureAPIVersion, false),
		invalid: opts.Validate(),
		model:   opts.Model,
		dims:    max(opts.Dimensions, 0),
		timeout: opts.Timeout,
		format:  openai.EmbeddingEncodingFormatBase64,
	}
	if o.timeout == 0 {
		o.timeout = DefaultOpenAITimeout
	}
	if opts.FloatEncoding {
		o.format = openai.EmbeddingEncodingFormatFloat
	}
	o.description = describe("openai", o.model, o.dims, openAIModelDimensions[o.model],
		Limits{MaxInputs: opts.MaxInputs, MaxInputTokens: opts.MaxInputTokens, MaxRequestTokens: opts.MaxRequestTokens},
		Limits{MaxInputs: DefaultOpenAIMaxInputs, MaxInputTokens: DefaultOpenAIInputTokens, MaxRequestTokens: DefaultOpenAIReqTokens})
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

// Dimensions returns OpenAIOptions.Dimensions if set, else the native size
// of OpenAI's models (1536 for text-embedding-3-small and ada-002, 3072 for
// text-embedding-3-large), else 0: unknown until the first answer. Answers
// of another size are refused with ErrDimensionMismatch.
func (o *OpenAI) Dimensions() int { return o.knownDims }

// Name returns "openai:<model>:<dimensions>", or "openai:<model>" when the
// dimension is unknown. It does not include the base URL: the same model
// served elsewhere is taken to give the same vectors.
func (o *OpenAI) Name() string { return o.name }

// Limits returns the request limits of the provider (OpenAI's by default).
func (o *OpenAI) Limits() Limits { return o.limits }

// Embed returns the vectors of texts, in order. See OpenAI for errors.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if o.invalid != nil {
		return nil, fmt.Errorf("embed: openai %s: %w", o.model, o.invalid)
	}
	return inBatches(ctx, texts, o.limits.MaxInputs, o.embed)
}

// embed makes one request for texts.
func (o *OpenAI) embed(ctx context.Context, texts []string) ([][]float32, error) {
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if o.timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()
	slot := new(httpx.Slot)
	var fast [][]float32 // vectors decoded by fastDecode
	format := o.format
	if o.floats.Load() {
		format = openai.EmbeddingEncodingFormatFloat
	}
	slot.OnSuccess = openaix.InBandErrors
	if format == openai.EmbeddingEncodingFormatBase64 {
		slot.OnSuccess = func(resp *http.Response) (*http.Response, error) {
			resp, floats, err := fastDecode(resp, &fast)
			if floats {
				o.floats.Store(true)
			}
			return resp, err
		}
	}
	// go-openai makes the request without the inputs; the transport
	// sends this body instead (see openAIRequestBody).
	slot.Body = openAIRequestBody(texts, o.model, string(format), o.dims)
	reqCtx = httpx.WithSlot(reqCtx, slot)
	resp, err := o.client.CreateEmbeddings(reqCtx, openai.EmbeddingRequestStrings{
		Input:          []string{},
		Model:          openai.EmbeddingModel(o.model),
		EncodingFormat: format,
		Dimensions:     o.dims,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("embed: openai %s: %w", o.model, ctx.Err())
		}
		return nil, o.apiError(err, slot, reqCtx.Err() != nil)
	}
	if fast != nil {
		if len(fast) != len(texts) {
			return nil, fmt.Errorf("%w: openai %s answered %d vectors for %d texts", ErrCountMismatch, o.model, len(fast), len(texts))
		}
		if _, err := Check(fast, len(texts), o.knownDims); err != nil {
			return nil, fmt.Errorf("embed: openai %s: %w", o.model, err)
		}
		return fast, nil
	}
	vecs := make([][]float32, len(texts))
	if len(resp.Data) != len(texts) {
		return nil, fmt.Errorf("%w: openai %s answered %d vectors for %d texts", ErrCountMismatch, o.model, len(resp.Data), len(texts))
	}
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(texts) || vecs[d.Index] != nil {
			return nil, fmt.Errorf("%w: openai %s answered a vector with index %d for %d texts", ErrCountMismatch, o.model, d.Index, len(texts))
		}
		vecs[d.Index] = d.Embedding
	}
	if _, err := Check(vecs, len(texts), o.knownDims); err != nil {
		return nil, fmt.Errorf("embed: openai %s: %w", o.model, err)
	}
	return vecs, nil
}

// apiError turns an error of go-openai into a *provider.Error.
func (o *OpenAI) apiError(err error, slot *httpx.Slot, timedOut bool) error {
	pe, _ := openaix.Failure(err, slot, timedOut, o.timeout)
	if pe.StatusCode == http.StatusBadRequest &&
		(pe.Code == "context_length_exceeded" || strings.Contains(pe.Message, "maximum context length")) {
		pe.Err = fmt.Errorf("%w: %w", ErrInputTooLong, pe.Err)
	}
	return pe
}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// fastDecode reads a base64 embedding answer whole and decodes its vectors
// into *vecs (see decodeBase64Embeddings), giving go-openai a short
// stand-in. An answer of float arrays, which servers that do not know
// "base64" send, is decoded too (floats reports it); an answer in another
// shape is given to go-openai unchanged.
func fastDecode(resp *http.Response, vecs *[][]float32) (_ *http.Response, floats bool, err error) {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	if resp.ContentLength > 0 {
		// ReadFrom wants MinRead bytes free before each read, the one
		// that finds the end too: without them, a buffer of exactly the
		// body's length would be copied into one twice as large.
		buf.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		bodyBuffers.Put(buf)
		return nil, false, err
	}
	body := buf.Bytes()
	var replaced []byte
	if v, usage, err := decodeBase64Embeddings(body); err == nil {
		*vecs = v
		replaced = standIn(usage)
	} else if v, usage, ok := decodeFloatEmbeddings(body); ok {
		*vecs, floats = v, true
		replaced = standIn(usage)
	} else {
		replaced = bytes.Clone(body)
		openaix.MarkInBand(resp, replaced) // an error in a 200 body
	}
	bodyBuffers.Put(buf)
	resp.Body = io.NopCloser(bytes.NewReader(replaced))
	resp.ContentLength = int64(len(replaced))
	resp.Header.Del("Content-Length")
	return resp, floats, nil
}

// decodeFloatEmbeddings decodes an embedding answer whose vectors are
// arrays of numbers, and returns them by index with the raw usage. It
// reports false for any other shape (base64 strings, an error body) or an
// answer whose indices are not 0 to n-1.
func decodeFloatEmbeddings(body []byte) (vecs [][]float32, usage []byte, ok bool) {
	var r struct {
		Data []struct {
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Usage json.RawMessage `json:"usage"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Data) == 0 {
		return nil, nil, false
	}
	vecs = make([][]float32, len(r.Data))
	for _, d := range r.Data {
		if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil || len(d.Embedding) == 0 || d.Embedding[0] != '[' {
			return nil, nil, false
		}
		var v []float32
		if json.Unmarshal(d.Embedding, &v) != nil {
			return nil, nil, false
		}
		vecs[d.Index] = v
	}
	return vecs, r.Usage, true
}
