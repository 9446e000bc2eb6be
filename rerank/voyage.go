package rerank

import (
	"context"
	"encoding/json"
	"net/http"
)

// VoyageOptions configures a Voyage AI reranker. The zero value, with an
// APIKey, uses rerank-2 at https://api.voyageai.com.
type VoyageOptions struct {
	APIKey string
	// Model defaults to "rerank-2".
	Model string
	// BaseURL defaults to "https://api.voyageai.com"; requests go to
	// BaseURL + "/v1/rerank".
	BaseURL string
	// HTTPClient sends the requests; it is not modified. Default: a
	// client over a shared transport; without a Timeout of its own, each
	// request is bounded to 120 s.
	HTTPClient *http.Client
	// MaxDocuments is the number of passages per request; larger sets are
	// split. 0 means 1000, Voyage's limit. Voyage also limits a request's
	// total tokens (query tokens × documents + document tokens: 600K for
	// rerank-2); lower MaxDocuments for long passages.
	MaxDocuments int
	// NoTruncation sends truncation: false, so that Voyage refuses
	// passages over the model's context instead of truncating them.
	NoTruncation bool
	// Concurrency bounds the requests one Rerank call has in flight; 0
	// means DefaultConcurrency.
	Concurrency int
	// MaxRetries is the number of retries of a failed request; 0 means
	// DefaultMaxRetries, a negative value means none.
	MaxRetries int
}

// Voyage reranks with Voyage AI's reranker API (POST /v1/rerank). It is
// safe for concurrent use.
type Voyage struct{ ce crossEncoder }

var _ Reranker = (*Voyage)(nil)

// NewVoyage returns a Voyage reranker.
func NewVoyage(opts VoyageOptions) *Voyage {
	model := opts.Model
	if model == "" {
		model = "rerank-2"
	}
	truncation := !opts.NoTruncation
	return &Voyage{ce: crossEncoder{
		provider:    "voyage",
		api:         newEndpoint("voyage", opts.BaseURL, "https://api.voyageai.com", "/v1/rerank", opts.APIKey, opts.HTTPClient),
		maxDocs:     positive(opts.MaxDocuments, 1000),
		concurrency: positive(opts.Concurrency, DefaultConcurrency),
		retry:       retryPolicy(opts.MaxRetries),
		body: func(query string, docs []string) any {
			return voyageRequest{Query: query, Documents: docs, Model: model, TopK: len(docs), Truncation: &truncation}
		},
		results: func(data []byte) ([]indexScore, error) {
			var r voyageResponse
			if err := json.Unmarshal(data, &r); err != nil {
				return nil, err
			}
			return r.Data, nil
		},
	}}
}

type voyageRequest struct {
	Query      string   `json:"query"`
	Documents  []string `json:"documents"`
	Model      string   `json:"model"`
	TopK       int      `json:"top_k"`
	Truncation *bool    `json:"truncation,omitempty"`
}

type voyageResponse struct {
	Object string       `json:"object"`
	Data   []indexScore `json:"data"`
	Model  string       `json:"model"`
	Usage  struct {
		TotalTokens int `json:"total_tokens"`
	} `json:"usage"`
}

// Rerank returns one relevance score per passage, in order. It asks for
// every result (top_k = number of passages) and sends sets larger than
// MaxDocuments in several concurrent requests.
func (v *Voyage) Rerank(ctx context.Context, query string, passages []string) ([]float64, error) {
	return v.ce.rerank(ctx, query, passages)
}
