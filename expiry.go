package rag

import (
	"context"
	"fmt"
	"slices"
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
	MetaSpanKind     = document.MetaSpanKind     // kind of the span a chunk starts in (string); see Hit.SpanKind
	MetaSpanLabel    = document.MetaSpanLabel    // label of the span a chunk starts in (string); see Hit.SpanLabel
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

// purgeBatch is the number of expired documents Purge deletes at a time.
const purgeBatch = 1000

// Purge deletes every document whose expiry time has passed and returns
// how many it deleted. Expired documents are already invisible to Search
// and Answer; Purge reclaims their space.
//
// It lists the expired documents through the store's store.Lister
// capability (every store of this module has it), so it makes no
// embedding call, and deletes them with Delete, from the store and the
// lexical index alike. A store without the capability gives an error
// matching errors.ErrUnsupported. A document re-ingested with a later
// expiry while Purge runs may still be deleted if Purge listed its old
// version; ingest it again.
func (p *Pipeline) Purge(ctx context.Context) (int, error) { return p.own.Purge(ctx) }

// Purge is Pipeline.Purge within the scope.
func (sc *scope) Purge(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ids, err := store.DocumentIDs(ctx, sc.store, store.Lte(MetaExpiresAt, time.Now().UTC()))
	if err != nil {
		return 0, fmt.Errorf("rag: purge: %w", err)
	}
	deleted := 0
	for batch := range slices.Chunk(ids, purgeBatch) {
		if err := sc.Delete(ctx, batch...); err != nil {
			return deleted, err
		}
		deleted += len(batch)
		sc.p.logger.Debug("rag: purged expired documents", "count", len(batch))
	}
	return deleted, nil
}
