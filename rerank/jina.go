package rerank

import (
	"context"
	"encoding/json"
	"net/http"
)

// JinaOptions configures a Jina AI reranker. The zero value, with an
// APIKey, uses jina-reranker-v2-base-multilingual at https://api.jina.ai.
type JinaOptions struct {
	APIKey string
	// Model defaults to "jina-reranker-v2-base-multilingual".
	Model string
	// BaseURL defaults to "https://api.jina.ai"; requests go to
	// BaseURL + "/v1/rerank".
	BaseURL string
	// HTTPClient sends the requests; it is not modified. Default: a
	// client over a shared transport; without a Timeout of its own, each
	// request is bounded to 120 s.
	HTTPClient *http.Client
	// MaxDocuments is the number of passages per request; larger sets are
	// split. 0 means 1000.
	MaxDocuments int
	// Concurrency bounds the requests one Rerank call has in flight; 0
	// means DefaultConcurrency.
	Concurrency int
	// MaxRetries is the number of retries of a failed request; 0 means
	// DefaultMaxRetries, a negative value means none.
	MaxRetries int
}

// Jina reranks with Jina AI's Reranker API (POST /v1/rerank). It is safe
// for concurrent use.
type Jina struct{ ce crossEncoder }

var _ Reranker = (*Jina)(nil)

// NewJina returns a Jina reranker.
func NewJina(opts JinaOptions) *Jina {
	model := opts.Model
	if model == "" {
		model = "jina-reranker-v2-base-multilingual"
	}
	return &Jina{ce: crossEncoder{
		provider:    "jina",
		api:         newEndpoint("jina", opts.BaseURL, "https://api.jina.ai", "/v1/rerank", opts.APIKey, opts.HTTPClient),
		maxDocs:     positive(opts.MaxDocuments, 1000),
		concurrency: positive(opts.Concurrency, DefaultConcurrency),
		retry:       retryPolicy(opts.MaxRetries),
		body: func(query string, docs []string) any {
			return jinaRequest{Model: model, Query: query, Documents: docs, TopN: len(docs), ReturnDocuments: false}
		},
		results: func(data []byte) ([]indexScore, error) {
			var r jinaResponse
			if err := json.Unmarshal(data, &r); err != nil {
				return nil, err
			}
			return r.Results, nil
		},
	}}
}

type jinaRequest struct {
	Model           string   `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            int      `json:"top_n"`
	ReturnDocuments bool     `json:"return_documents"`
}

type jinaResponse struct {
	Model   string       `json:"model"`
	Results []indexScore `json:"results"`
	Usage   struct {
		TotalTokens int `json:"total_tokens"`
	} `json:"usage"`
}

// Rerank returns one relevance score per passage, in order. It asks for
// every result (top_n = number of passages) and sends sets larger than
// MaxDocuments in several concurrent requests.
func (j *Jina) Rerank(ctx context.Context, query string, passages []string) ([]float64, error) {
	return j.ce.rerank(ctx, query, passages)
}
