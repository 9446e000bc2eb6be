package embed

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ragkit-go/rag/internal/jsonapi"
)

// Defaults of VoyageOptions.
const (
	DefaultVoyageModel     = "voyage-3.5"
	DefaultVoyageBaseURL   = "https://api.voyageai.com/v1"
	DefaultVoyageMaxInputs = 1000 // Voyage's limit on texts per request
	DefaultVoyageTimeout   = 2 * time.Minute
)

// VoyageOptions configures a Voyage AI embedder. Only APIKey is needed;
// every other zero value means the default.
type VoyageOptions struct {
	// APIKey is sent as "Authorization: Bearer <APIKey>". NewVoyage does
	// not read the environment.
	APIKey string

	// Model is the embedding model; default DefaultVoyageModel,
	// voyage-3.5.
	Model string

	// Dimensions > 0 is sent as output_dimension (voyage-3-large,
	// voyage-3.5, voyage-3.5-lite, voyage-code-3 and the voyage-4 models
	// take 256, 512, 1024 or 2048); 0 takes the model's default size.
	Dimensions int

	// BaseURL is the API's base URL, default DefaultVoyageBaseURL;
	// requests go to BaseURL + "/embeddings".
	BaseURL string

	// HTTPClient sends the requests. It is not modified: the embedder
	// uses a copy whose Transport reports the headers of answers (see
	// provider.WithHeaderObserver). Default: a client sharing one
	// transport that keeps up to 100 idle connections per host, so
	// concurrent callers reuse connections.
	HTTPClient *http.Client

	// Timeout bounds each request; default DefaultVoyageTimeout, negative
	// for none. A request that exceeds it fails with a retryable
	// *provider.Error.
	Timeout time.Duration

	// MaxInputs is the most texts sent in one request; Embed splits
	// larger batches. <= 0 means DefaultVoyageMaxInputs (1000).
	MaxInputs int

	// MaxInputTokens and MaxRequestTokens are the token limits Limits
	// reports to the pipeline, which packs batches within them. 0 takes
	// the model's documented limits (for voyage-3.5: a context of 32,000
	// tokens and 320,000 tokens per request; none for models not known
	// to this package); negative means no limit.
	MaxInputTokens   int
	MaxRequestTokens int

	// NoTruncation sends truncation: false, so that Voyage refuses a text
	// longer than the model's context (an *provider.Error matching
	// ErrInputTooLong) instead of truncating it.
	NoTruncation bool
}

// Voyage embeds texts with Voyage AI's embeddings API (POST /embeddings),
// telling documents from search queries: Embed sends input_type
// "document", EmbedQueries input_type "query", and Voyage embeds each
// with its own prompt, so queries find their documents better.
//
// Embed and EmbedQueries send batches of up to MaxInputs texts, one
// request after the other, and do not retry: the pipeline retries
// retryable errors. A Voyage is safe for concurrent use by many
// goroutines, which share its HTTP connections.
//
// Errors: a refusal of the API is an *provider.Error with the HTTP status,
// Voyage's message (its "detail") and RetryAfter from the Retry-After
// header (seconds or an HTTP date). A refusal of a text longer than the
// model's context also matches ErrInputTooLong. A request that got no
// usable answer (network error, Timeout exceeded, malformed body) is an
// *provider.Error with StatusCode 0, which is Retryable and does not match
// context errors. When ctx is done, the error matches ctx.Err(). An answer
// with the wrong number of vectors or indexes, wrong dimensions or empty
// vectors fails with ErrCountMismatch, ErrDimensionMismatch or
// ErrInvalidVector.
type Voyage struct {
	description
	ep         *jsonapi.Endpoint
	model      string
	dims       int // requested output_dimension; 0 for the model's own
	truncation *bool
}

var (
	_ Embedder      = (*Voyage)(nil)
	_ QueryEmbedder = (*Voyage)(nil)
	_ Dimensioner   = (*Voyage)(nil)
	_ Namer         = (*Voyage)(nil)
	_ Limiter       = (*Voyage)(nil)
)

// voyageModel holds what Voyage documents of a model: its default vector
// size, its context and its tokens per request (0 when not documented).
type voyageModel struct{ dims, inputTokens, requestTokens int }

// voyageModels are the documented text embedding models
// (docs.voyageai.com/docs/embeddings and /reference/embeddings-api).
var voyageModels = map[string]voyageModel{
	"voyage-4-large":          {1024, 32_000, 120_000},
	"voyage-4":                {1024, 32_000, 320_000},
	"voyage-4-lite":           {1024, 32_000, 1_000_000},
	"voyage-3-large":          {1024, 32_000, 120_000},
	"voyage-3.5":              {1024, 32_000, 320_000},
	"voyage-3.5-lite":         {1024, 32_000, 1_000_000},
	"voyage-code-3":           {1024, 32_000, 120_000},
	"voyage-finance-2":        {1024, 32_000, 120_000},
	"voyage-law-2":            {1024, 16_000, 120_000},
	"voyage-multilingual-2":   {1024, 32_000, 120_000},
	"voyage-large-2-instruct": {1024, 16_000, 120_000},
	"voyage-code-2":           {1536, 16_000, 120_000},
	"voyage-large-2":          {1536, 16_000, 120_000},
	"voyage-3":                {1024, 32_000, 0},
	"voyage-3-lite":           {512, 32_000, 0},
	"voyage-2":                {1024, 4_000, 320_000},
}

// NewVoyage returns a Voyage embedder configured by opts.
func NewVoyage(opts VoyageOptions) *Voyage {
	if opts.Model == "" {
		opts.Model = DefaultVoyageModel
	}
	m := voyageModels[opts.Model]
	v := &Voyage{
		ep:    newEndpoint("voyage", opts.Model, opts.BaseURL, DefaultVoyageBaseURL, "/embeddings", opts.APIKey, opts.HTTPClient, opts.Timeout, DefaultVoyageTimeout),
		model: opts.Model,
		dims:  max(opts.Dimensions, 0),
		description: describe("voyage", opts.Model, opts.Dimensions, m.dims,
			Limits{MaxInputs: opts.MaxInputs, MaxInputTokens: opts.MaxInputTokens, MaxRequestTokens: opts.MaxRequestTokens},
			Limits{MaxInputs: DefaultVoyageMaxInputs, MaxInputTokens: m.inputTokens, MaxRequestTokens: m.requestTokens}),
	}
	if opts.NoTruncation {
		v.truncation = new(bool)
	}
	return v
}

// Dimensions returns VoyageOptions.Dimensions if set, else the default
// size of a known model (1024 for voyage-3.5), else 0: unknown until the
// first answer. Answers of another size are refused with
// ErrDimensionMismatch.
func (v *Voyage) Dimensions() int { return v.knownDims }

// Name returns "voyage:<model>:<dimensions>", or "voyage:<model>" when
// the dimension is unknown. It names document vectors, those of Embed.
func (v *Voyage) Name() string { return v.name }

// Limits returns the request limits: MaxInputs and the model's token
// limits (see VoyageOptions).
func (v *Voyage) Limits() Limits { return v.limits }

// Embed returns the vectors of texts embedded as documents (input_type
// "document"), in order. See Voyage for errors.
func (v *Voyage) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return inBatches(ctx, texts, v.limits.MaxInputs, func(ctx context.Context, part []string) ([][]float32, error) {
		return v.embed(ctx, part, "document")
	})
}

// EmbedQueries returns the vectors of queries embedded as search queries
// (input_type "query"), in order. Its contract is Embed's.
func (v *Voyage) EmbedQueries(ctx context.Context, queries []string) ([][]float32, error) {
	return inBatches(ctx, queries, v.limits.MaxInputs, func(ctx context.Context, part []string) ([][]float32, error) {
		return v.embed(ctx, part, "query")
	})
}

type voyageRequest struct {
	Input           []string `json:"input"`
	Model           string   `json:"model"`
	InputType       string   `json:"input_type,omitempty"`
	OutputDimension int      `json:"output_dimension,omitempty"`
	Truncation      *bool    `json:"truncation,omitempty"`
}

type voyageResponse struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string    `json:"object"`
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		TotalTokens int `json:"total_tokens"`
	} `json:"usage"`
}

// embed makes one request for texts.
func (v *Voyage) embed(ctx context.Context, texts []string, inputType string) ([][]float32, error) {
	var resp voyageResponse
	err := v.ep.Post(ctx, voyageRequest{
		Input:           texts,
		Model:           v.model,
		InputType:       inputType,
		OutputDimension: v.dims,
		Truncation:      v.truncation,
	}, &resp)
	if err != nil {
		return nil, inputTooLong(err)
	}
	if len(resp.Data) != len(texts) {
		return nil, fmt.Errorf("%w: voyage %s answered %d vectors for %d texts", ErrCountMismatch, v.model, len(resp.Data), len(texts))
	}
	vecs := make([][]float32, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(texts) || vecs[d.Index] != nil {
			return nil, fmt.Errorf("%w: voyage %s answered a vector with index %d for %d texts", ErrCountMismatch, v.model, d.Index, len(texts))
		}
		if d.Embedding == nil {
			d.Embedding = []float32{}
		}
		vecs[d.Index] = d.Embedding
	}
	if _, err := Check(vecs, len(texts), v.knownDims); err != nil {
		return nil, fmt.Errorf("embed: voyage %s: %w", v.model, err)
	}
	return vecs, nil
}
