package rag

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/store"
)

// DocumentStatus is what the store holds of one document.
type DocumentStatus struct {
	// ID is the document's ID, as asked.
	ID string
	// Stored says the store holds a version of the document. An expired
	// document is stored until Purge deletes it, though no search returns
	// it.
	Stored bool
	// Hash is the hash the stored version was made from (document.Hash
	// of the document with the pipeline's salts: the embedder's name and
	// enrichment version); empty when not stored. Ingest compares it to
	// skip unchanged documents, and a caller can compare two statuses to
	// tell whether a document changed between them.
	Hash string
}

// Status reports what the store holds of each named document, one
// DocumentStatus per ID in the order given (an ID given twice is reported
// twice). A document the store does not hold is not an error: its Stored
// is false. It reads the stored hashes in one call (store.Store.Hashes)
// and makes no embedding call. The chunk count is not reported: no store
// contract gives it without reading the records.
func (p *Pipeline) Status(ctx context.Context, ids ...string) ([]DocumentStatus, error) {
	return documentStatus(ctx, p.own.store, ids)
}

// Status is Pipeline.Status for the tenant's documents.
func (t *Tenant) Status(ctx context.Context, ids ...string) ([]DocumentStatus, error) {
	return documentStatus(ctx, t.sc.store, ids)
}

// documentStatus is Status on the documents of s.
func documentStatus(ctx context.Context, s store.Store, ids []string) ([]DocumentStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []DocumentStatus{}, nil
	}
	hashes, err := s.Hashes(ctx, ids...)
	if err != nil {
		return nil, fmt.Errorf("rag: status: %w", err)
	}
	out := make([]DocumentStatus, len(ids))
	for i, id := range ids {
		h, ok := hashes[id]
		out[i] = DocumentStatus{ID: id, Stored: ok, Hash: h}
	}
	return out, nil
}
