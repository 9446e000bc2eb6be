package rerank

import (
	"context"
	"encoding/json"
	"net/http"
)

// CohereOptions configures a Cohere reranker. The zero value, with an
// APIKey, uses rerank-v3.5 at https://api.cohere.com.
type CohereOptions struct {
	APIKey string
	// Model defaults to "rerank-v3.5".
	Model string
	// BaseURL defaults to "https://api.cohere.com"; requests go to
	// BaseURL + "/v2/rerank".
	BaseURL string
	// HTTPClient sends the requests; it is not modified. Default: a
	// client over a shared transport; without a Timeout of its own, each
	// request is bounded to 120 s.
	HTTPClient *http.Client
	// MaxDocuments is the number of passages per request; larger sets are
	// split. 0 means 1000, Cohere's recommended maximum.
	MaxDocuments int
	// MaxTokensPerDoc is sent as max_tokens_per_doc when positive (Cohere
	// truncates longer passages; its default is 4096).
	MaxTokensPerDoc int
	// Concurrency bounds the requests one Rerank call has in flight; 0
	// means DefaultConcurrency.
	Concurrency int
	// MaxRetries is the number of retries of a failed request (see
	// DefaultMaxRetries for the policy); 0 means DefaultMaxRetries, a
	// negative value means none.
	MaxRetries int
}

// Cohere reranks with Cohere's Rerank API (POST /v2/rerank). It is safe
// for concurrent use.
type Cohere struct{ ce crossEncoder }

var _ Reranker = (*Cohere)(nil)

// NewCohere returns a Cohere reranker.
func NewCohere(opts CohereOptions) *Cohere {
	model := opts.Model
	if model == "" {
		model = "rerank-v3.5"
	}
	maxTokens := opts.MaxTokensPerDoc
	return &Cohere{ce: crossEncoder{
		provider:    "cohere",
		api:         newEndpoint("cohere", opts.BaseURL, "https://api.cohere.com", "/v2/rerank", opts.APIKey, opts.HTTPClient),
		maxDocs:     positive(opts.MaxDocuments, 1000),
		concurrency: positive(opts.Concurrency, DefaultConcurrency),
		retry:       retryPolicy(opts.MaxRetries),
		body: func(query string, docs []string) any {
			return cohereRequest{Model: model, Query: query, Documents: docs, TopN: len(docs), MaxTokensPerDoc: maxTokens}
		},
		results: func(data []byte) ([]indexScore, error) {
			var r cohereResponse
			if err := json.Unmarshal(data, &r); err != nil {
				return nil, err
			}
			return r.Results, nil
		},
	}}
}

type cohereRequest struct {
	Model           string   `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            int      `json:"top_n"`
	MaxTokensPerDoc int      `json:"max_tokens_per_doc,omitempty"`
}

type cohereResponse struct {
	ID      string       `json:"id"`
	Results []indexScore `json:"results"`
}

// Rerank returns one relevance score in [0, 1] per passage, in order. It
// asks for every result (top_n = number of passages) and sends sets larger
// than MaxDocuments in several concurrent requests.
func (c *Cohere) Rerank(ctx context.Context, query string, passages []string) ([]float64, error) {
	return c.ce.rerank(ctx, query, passages)
}
