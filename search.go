package rag

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
)

// SearchOptions are the parameters of one search. A nil *SearchOptions
// means the defaults.
type SearchOptions struct {
	// TopK is the number of hits wanted. Default: 5.
	TopK int
	// Filter restricts the search to chunks whose document matches it.
	Filter *store.Filter
	// NoRerank skips the pipeline's reranker for this search.
	NoRerank bool
	// RerankDepth is the number of candidates fetched for the reranker to
	// reorder. Default: 4 × TopK, at least 20.
	RerankDepth int
	// MinScore drops hits scoring below it (cosine similarity, or the
	// reranker's score when a reranker ordered the hits).
	MinScore float64
}

// DefaultTopK is the number of hits a search returns by default.
const DefaultTopK = 5

// Search returns the chunks most relevant to query, best first.
//
// The query is embedded (with the embedder's query mode, if it has one),
// identical concurrent queries are embedded once and recent query vectors
// are cached. A TopK larger than the collection is not an error. An empty
// query fails with ErrEmptyQuery and an invalid filter with an error
// matching store.ErrInvalidFilter, before any embedding call.
func (p *Pipeline) Search(ctx context.Context, query string, opts *SearchOptions) ([]Hit, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if o.TopK <= 0 {
		o.TopK = DefaultTopK
	}
	if strings.TrimSpace(query) == "" {
		return nil, ErrEmptyQuery
	}
	if !utf8.ValidString(query) {
		return nil, fmt.Errorf("rag: search: query is not valid UTF-8: %w", ErrInvalidUTF8)
	}
	if err := o.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("rag: search: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vec, err := p.queries.embed(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("rag: embedding the query: %w", err)
	}
	rerank := p.reranker != nil && !o.NoRerank
	k := o.TopK
	if rerank {
		k = max(o.RerankDepth, 4*o.TopK, 20)
	}
	res, err := p.store.Search(ctx, store.Query{Vector: vec, TopK: k, Filter: o.Filter})
	if err != nil {
		return nil, fmt.Errorf("rag: search: %w", err)
	}
	hits := make([]Hit, len(res))
	for i, r := range res {
		hits[i] = hitOf(r)
	}
	if rerank && len(hits) > 0 {
		if hits, err = p.rerank(ctx, query, hits); err != nil {
			return nil, err
		}
	}
	if o.MinScore != 0 {
		hits = slices.DeleteFunc(hits, func(h Hit) bool { return h.Score < o.MinScore })
	}
	if len(hits) > o.TopK {
		hits = hits[:o.TopK]
	}
	return hits, nil
}

func hitOf(r store.Result) Hit {
	return Hit{
		ID: r.ID, DocID: r.DocID, Title: r.Title, Source: r.Source, Tags: r.Tags, Metadata: r.Metadata,
		Chunk: r.Chunk, Start: r.Start, End: r.End, Text: r.Text, Score: float64(r.Score),
	}
}

// rerank reorders hits by the reranker's scores, best first (ties keep
// their vector order).
func (p *Pipeline) rerank(ctx context.Context, query string, hits []Hit) ([]Hit, error) {
	texts := make([]string, len(hits))
	for i, h := range hits {
		texts[i] = h.Text
	}
	scores, err := p.reranker.Rerank(ctx, query, texts)
	if err != nil {
		return nil, fmt.Errorf("rag: reranking: %w", err)
	}
	if len(scores) != len(hits) {
		return nil, fmt.Errorf("rag: reranking: %d passages, %d scores", len(hits), len(scores))
	}
	for i := range hits {
		hits[i].Score = scores[i]
	}
	slices.SortStableFunc(hits, func(a, b Hit) int { return cmp.Compare(b.Score, a.Score) })
	return hits, nil
}

// queryEmbedder embeds search queries: once for identical concurrent
// queries (singleflight), from a small cache for repeated ones, and with
// the pipeline's retry policy.
type queryEmbedder struct {
	p     *Pipeline
	e     embed.Embedder
	model string
	group singleflight.Group
	cache *embed.MemoryCache
}

// queryTimeout bounds a shared query embedding, which no caller's
// cancellation stops.
const queryTimeout = time.Minute

func newQueryEmbedder(p *Pipeline) *queryEmbedder {
	return &queryEmbedder{p: p, e: p.embedder, model: "query:" + p.model, cache: embed.NewMemoryCache(8 << 20)}
}

func (q *queryEmbedder) embed(ctx context.Context, query string) ([]float32, error) {
	key := embed.CacheKey(q.model, query)
	if v, ok := q.cache.Get(ctx, key); ok {
		return v, nil
	}
	ch := q.group.DoChan(key, func() (any, error) {
		// The call is shared: it must not fail because the first caller
		// gave up, so it runs without that caller's cancellation.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryTimeout)
		defer cancel()
		var vecs [][]float32
		err := retry(ctx, &q.p.ingest, func(ctx context.Context, _ int) error {
			var err error
			if qe, ok := q.e.(embed.QueryEmbedder); ok {
				vecs, err = qe.EmbedQueries(ctx, []string{query})
			} else {
				vecs, err = q.e.Embed(ctx, []string{query})
			}
			if err != nil {
				return err
			}
			return q.p.checkVectors(vecs, 1)
		}, nil)
		if err != nil {
			return nil, err
		}
		q.cache.Put(ctx, key, vecs[0])
		return vecs[0], nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return slices.Clone(r.Val.([]float32)), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
