package rag

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/store"
)

// Metadata keys the pipeline writes into the records it stores, from
// package document. They can be filtered on like any metadata key.
const (
	MetaExpiresAt    = document.MetaExpiresAt    // Document.ExpiresAt, a time.Time (UTC)
	MetaTags         = document.MetaTags         // tags enrichment wrote ([]string)
	MetaSummaryChunk = document.MetaSummaryChunk // chunk index of the summary record; see Hit.IsSummary
	MetaHeadings     = document.MetaHeadings     // heading path of a chunk ([]string); see Hit.Headings
)

// IsSummary reports whether the hit is the summary enrichment wrote for
// its document rather than a chunk of the document's text.
func (h *Hit) IsSummary() bool {
	v, ok := h.Metadata[MetaSummaryChunk].(float64)
	return ok && int(v) == h.Chunk
}

// notExpired restricts f to documents that do not expire or expire after
// now.
func notExpired(f *store.Filter, now time.Time) *store.Filter {
	live := store.Or(store.Not(store.Exists(MetaExpiresAt)), store.Gt(MetaExpiresAt, now.UTC()))
	if f == nil {
		return live
	}
	return store.And(f, live)
}

// purgeBatch is the number of expired records Purge looks up at a time.
const purgeBatch = 1000

// Purge deletes every document whose expiry time has passed and returns
// how many it deleted. Expired documents are already invisible to Search
// and Answer; Purge reclaims their space.
//
// The store.Store interface cannot list documents, so Purge finds expired
// records with filtered searches (exact, by the Store contract) of up to
// 1,000 records at a time, and deletes their documents, until none is
// left. A document re-ingested with a later expiry while Purge runs may
// still be deleted if Purge found its old version; ingest it again.
func (p *Pipeline) Purge(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dim := p.dims.Get()
	if dim == 0 {
		// Nothing embedded yet in this process: ask the embedder once.
		v, err := p.queries.embed(ctx, "expired documents")
		if err != nil {
			return 0, fmt.Errorf("rag: purge: learning the vector dimension: %w", err)
		}
		dim = len(v)
	}
	// Any valid vector will do: the filter picks the records.
	vec := make([]float32, dim)
	for i := range vec {
		vec[i] = float32(1 / math.Sqrt(float64(dim)))
	}
	filter := store.Lte(MetaExpiresAt, time.Now().UTC())
	deleted := map[string]bool{}
	for {
		res, err := p.store.Search(ctx, store.Query{Vector: vec, TopK: purgeBatch, Filter: filter})
		if err != nil {
			return len(deleted), fmt.Errorf("rag: purge: %w", err)
		}
		if len(res) == 0 {
			return len(deleted), nil
		}
		var ids []string
		for _, r := range res {
			if !deleted[r.DocID] {
				deleted[r.DocID] = true
				ids = append(ids, r.DocID)
			}
		}
		if len(ids) == 0 {
			return len(deleted), fmt.Errorf("rag: purge: the store still returns %d records of deleted documents", len(res))
		}
		if err := p.Delete(ctx, ids...); err != nil {
			for _, id := range ids {
				delete(deleted, id)
			}
			return len(deleted), err
		}
		p.logger.Debug("rag: purged expired documents", "count", len(ids))
	}
}
