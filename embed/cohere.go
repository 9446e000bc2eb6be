package embed

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ragkit-go/rag/internal/jsonapi"
)

// Defaults of CohereOptions.
const (
	DefaultCohereModel     = "embed-v4.0"
	DefaultCohereBaseURL   = "https://api.cohere.com"
	DefaultCohereMaxInputs = 96 // Cohere's limit on texts per request
	DefaultCohereTimeout   = 2 * time.Minute
)

// CohereOptions configures a Cohere embedder. Only APIKey is needed;
// every other zero value means the default.
type CohereOptions struct {
	// APIKey is sent as "Authorization: Bearer <APIKey>". NewCohere does
	// not read the environment.
	APIKey string

	// Model is the embedding model; default DefaultCohereModel,
	// embed-v4.0.
	Model string

	// Dimensions > 0 is sent as output_dimension (embed-v4.0 takes 256,
	// 512, 1024 or 1536); 0 takes the model's default size.
	Dimensions int

	// BaseURL is the API's base URL, default DefaultCohereBaseURL;
	// requests go to BaseURL + "/v2/embed".
	BaseURL string

	// HTTPClient sends the requests. It is not modified: the embedder
	// uses a copy whose Transport reports the headers of answers (see
	// provider.WithHeaderObserver). Default: a client sharing one
	// transport that keeps up to 100 idle connections per host, so
	// concurrent callers reuse connections.
	HTTPClient *http.Client

	// Timeout bounds each request; default DefaultCohereTimeout, negative
	// for none. A request that exceeds it fails with a retryable
	// *provider.Error.
	Timeout time.Duration

	// MaxInputs is the most texts sent in one request; Embed splits
	// larger batches. <= 0 means DefaultCohereMaxInputs (96).
	MaxInputs int

	// MaxInputTokens and MaxRequestTokens are the token limits Limits
	// reports to the pipeline. 0 takes the model's documented limits:
	// a context of 128,000 tokens for embed-v4.0 and 512 for the v3
	// models, and no per-request limit, which Cohere does not document;
	// negative means no limit.
	MaxInputTokens   int
	MaxRequestTokens int

	// NoTruncation sends truncate: "NONE", so that Cohere refuses a text
	// longer than the model's context instead of cutting its end.
	NoTruncation bool
}

// Cohere embeds texts with Cohere's Embed API v2 (POST /v2/embed), telling
// documents from search queries: Embed sends input_type
// "search_document", EmbedQueries input_type "search_query", as Cohere's
// v3 and later models require.
//
// Embed and EmbedQueries send batches of up to MaxInputs texts, one
// request after the other, and do not retry: the pipeline retries
// retryable errors. A Cohere is safe for concurrent use by many
// goroutines, which share its HTTP connections.
//
// Errors: a refusal of the API is an *provider.Error with the HTTP status,
// Cohere's message and RetryAfter from the Retry-After header (seconds or
// an HTTP date). A request that got no usable answer (network error,
// Timeout exceeded, malformed body) is an *provider.Error with StatusCode 0,
// which is Retryable and does not match context errors. When ctx is done,
// the error matches ctx.Err(). An answer with the wrong number of vectors,
// wrong dimensions or empty vectors fails with ErrCountMismatch,
// ErrDimensionMismatch or ErrInvalidVector.
type Cohere struct {
	description
	ep       *jsonapi.Endpoint
	model    string
	dims     int // requested output_dimension; 0 for the model's own
	truncate string
}

var (
	_ Embedder      = (*Cohere)(nil)
	_ QueryEmbedder = (*Cohere)(nil)
	_ Dimensioner   = (*Cohere)(nil)
	_ Namer         = (*Cohere)(nil)
	_ Limiter       = (*Cohere)(nil)
)

// cohereModel holds what Cohere documents of a model: its default vector
// size and its context.
type cohereModel struct{ dims, inputTokens int }

// cohereModels are the documented embedding models
// (docs.cohere.com/docs/cohere-embed).
var cohereModels = map[string]cohereModel{
	"embed-v4.0":                    {1536, 128_000},
	"embed-english-v3.0":            {1024, 512},
	"embed-english-light-v3.0":      {384, 512},
	"embed-multilingual-v3.0":       {1024, 512},
	"embed-multilingual-light-v3.0": {384, 512},
}

// NewCohere returns a Cohere embedder configured by opts.
func NewCohere(opts CohereOptions) *Cohere {
	if opts.Model == "" {
		opts.Model = DefaultCohereModel
	}
	m := cohereModels[opts.Model]
	c := &Cohere{
		ep:    newEndpoint("cohere", opts.Model, opts.BaseURL, DefaultCohereBaseURL, "/v2/embed", opts.APIKey, opts.HTTPClient, opts.Timeout, DefaultCohereTimeout),
		model: opts.Model,
		dims:  max(opts.Dimensions, 0),
		description: describe("cohere", opts.Model, opts.Dimensions, m.dims,
			Limits{MaxInputs: opts.MaxInputs, MaxInputTokens: opts.MaxInputTokens, MaxRequestTokens: opts.MaxRequestTokens},
			Limits{MaxInputs: DefaultCohereMaxInputs, MaxInputTokens: m.inputTokens}),
	}
	if opts.NoTruncation {
		c.truncate = "NONE"
	}
	return c
}

// Dimensions returns CohereOptions.Dimensions if set, else the default
// size of a known model (1536 for embed-v4.0), else 0: unknown until the
// first answer. Answers of another size are refused with
// ErrDimensionMismatch.
func (c *Cohere) Dimensions() int { return c.knownDims }

// Name returns "cohere:<model>:<dimensions>", or "cohere:<model>" when
// the dimension is unknown. It names document vectors, those of Embed.
func (c *Cohere) Name() string { return c.name }

// Limits returns the request limits: MaxInputs and the model's token
// limits (see CohereOptions).
func (c *Cohere) Limits() Limits { return c.limits }

// Embed returns the vectors of texts embedded as documents (input_type
// "search_document"), in order. See Cohere for errors.
func (c *Cohere) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return inBatches(ctx, texts, c.limits.MaxInputs, func(ctx context.Context, part []string) ([][]float32, error) {
		return c.embed(ctx, part, "search_document")
	})
}

// EmbedQueries returns the vectors of queries embedded as search queries
// (input_type "search_query"), in order. Its contract is Embed's.
func (c *Cohere) EmbedQueries(ctx context.Context, queries []string) ([][]float32, error) {
	return inBatches(ctx, queries, c.limits.MaxInputs, func(ctx context.Context, part []string) ([][]float32, error) {
		return c.embed(ctx, part, "search_query")
	})
}

// cohereFloat is the only embedding type asked for.
var cohereFloat = []string{"float"}

type cohereRequest struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension int      `json:"output_dimension,omitempty"`
	Truncate        string   `json:"truncate,omitempty"`
}

type cohereResponse struct {
	ID         string `json:"id"`
	Embeddings struct {
		Float [][]float32 `json:"float"`
	} `json:"embeddings"`
	ResponseType string `json:"response_type"`
}

// embed makes one request for texts.
func (c *Cohere) embed(ctx context.Context, texts []string, inputType string) ([][]float32, error) {
	var resp cohereResponse
	err := c.ep.Post(ctx, cohereRequest{
		Model:           c.model,
		Texts:           texts,
		InputType:       inputType,
		EmbeddingTypes:  cohereFloat,
		OutputDimension: c.dims,
		Truncate:        c.truncate,
	}, &resp)
	if err != nil {
		return nil, inputTooLong(err)
	}
	vecs := resp.Embeddings.Float
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("%w: cohere %s answered %d float vectors for %d texts", ErrCountMismatch, c.model, len(vecs), len(texts))
	}
	if _, err := Check(vecs, len(texts), c.knownDims); err != nil {
		return nil, fmt.Errorf("embed: cohere %s: %w", c.model, err)
	}
	return vecs, nil
}
