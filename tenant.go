package rag

import (
	"context"
	"fmt"
	"io/fs"
	"iter"

	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/store"
)

// ErrInvalidTenant: a tenant ID is empty, longer than store.MaxTenantLen
// bytes, not valid UTF-8, or holds a control or other non-printing
// character (see store.CheckTenant). It is store.ErrInvalidTenant.
var ErrInvalidTenant = store.ErrInvalidTenant

// Tenant is the pipeline seen by one tenant: a customer of a service that
// serves many from one store. Everything it reads and writes is the
// tenant's own, kept apart by the store rather than by a filter the
// caller must not forget: its documents (the same document ID in two
// tenants is two documents, with their own hashes, chunks and record
// IDs), its vector and lexical searches, hybrid fusion, MMR, reranking,
// the passages of its answers and its expiry. Its cache entries and
// shared query flights have keys of their own: one tenant's query never
// returns a vector another tenant's query cached, or waits on its
// flight.
//
// A Tenant has no method that reaches another tenant's data, and no
// option that names another tenant: filters apply within the tenant. The
// pipeline itself (Pipeline.Ingest, Search, ...) is the default tenant,
// which sees no tenant's documents; what a store held before it had
// tenants stays the default tenant's.
//
// A Tenant is cheap: get one per request with Pipeline.Tenant. Its methods
// are the Pipeline's, with the same contracts, and may be called
// concurrently, with each other and with those of other tenants.
type Tenant struct {
	sc *scope
}

// Tenant returns the handle of tenant id. The pipeline's store must keep
// tenants apart (store.Scoper: store/chromem, store/flat and
// store/pgvector do), and so does its lexical index, if any, which gets
// an index per tenant.
//
// It fails with an error matching ErrInvalidTenant for an invalid id,
// with one matching errors.ErrUnsupported if the store has no
// store.Scoper, and with store.ErrClosed (or lexical.ErrClosed) once the
// store (or the pipeline, for the lexical index) is closed.
func (p *Pipeline) Tenant(id string) (*Tenant, error) {
	if err := store.CheckTenant(id); err != nil {
		return nil, fmt.Errorf("rag: tenant: %w", err)
	}
	sc := &scope{p: p, tenant: id, ns: "\x00tenant\x00" + id}
	var err error
	if sc.store, err = store.Scope(p.own.store, id); err != nil {
		return nil, fmt.Errorf("rag: tenant %q: %w", id, err)
	}
	if p.own.lexical != nil {
		if sc.lexical, err = p.own.lexical.Scope(id); err != nil {
			return nil, fmt.Errorf("rag: tenant %q: lexical index: %w", id, err)
		}
	}
	sc.engine = sc.engineConfig()
	return &Tenant{sc: sc}, nil
}

// ID returns the tenant's ID.
func (t *Tenant) ID() string { return t.sc.tenant }

// Ingest is Pipeline.Ingest into the tenant's documents.
func (t *Tenant) Ingest(ctx context.Context, docs ...Document) (*IngestReport, error) {
	return t.sc.Ingest(ctx, docs...)
}

// IngestSeq is Pipeline.IngestSeq into the tenant's documents.
func (t *Tenant) IngestSeq(ctx context.Context, docs iter.Seq[Document]) (*IngestReport, error) {
	return t.sc.run(ctx, docs, 0, nil)
}

// Sync is Pipeline.Sync into the tenant's documents: the root's files
// are the tenant's, and only the tenant's vanished files are deleted.
func (t *Tenant) Sync(ctx context.Context, fsys fs.FS, opts *SyncOptions) (*SyncReport, error) {
	return t.sc.Sync(ctx, fsys, opts)
}

// Search is Pipeline.Search among the tenant's documents.
func (t *Tenant) Search(ctx context.Context, query string, opts *SearchOptions) ([]Hit, error) {
	return t.sc.Search(ctx, query, opts)
}

// Answer is Pipeline.Answer from the tenant's documents.
func (t *Tenant) Answer(ctx context.Context, question string, opts *AnswerOptions) (*Answer, error) {
	return t.sc.Answer(ctx, question, opts)
}

// AnswerStream is Pipeline.AnswerStream from the tenant's documents.
func (t *Tenant) AnswerStream(ctx context.Context, question string, opts *AnswerOptions) iter.Seq2[AnswerDelta, error] {
	return t.sc.AnswerStream(ctx, question, opts)
}

// Delete is Pipeline.Delete of the tenant's documents: another tenant's
// documents of the same IDs stay.
func (t *Tenant) Delete(ctx context.Context, docIDs ...string) error {
	return t.sc.Delete(ctx, docIDs...)
}

// Purge is Pipeline.Purge of the tenant's expired documents.
func (t *Tenant) Purge(ctx context.Context) (int, error) {
	return t.sc.Purge(ctx)
}

// scope is what the pipeline's operations read and write: the pipeline's
// own store and lexical index (the default tenant, Pipeline.own), or a
// tenant's views of them. Ingestion, search, answers, deletion and expiry
// are methods of scope, so a tenant runs the very code the pipeline does,
// on its own data; everything else (embedder, chunkers, reranker, model,
// budget, telemetry) is the pipeline's, shared.
type scope struct {
	p       *Pipeline
	tenant  string         // "" for the default tenant
	store   store.Store    // the tenant's view, or Options.Store
	lexical *lexical.Store // the tenant's BM25 index; nil unless Options.Lexical
	// ns is appended to the embedder's name in the keys of the embedding
	// cache and of the query cache and flights: "" for the default tenant
	// (so its keys are those of a pipeline without tenants), and
	// "\x00tenant\x00" + the tenant's ID for a tenant. A tenant ID holds
	// no NUL, so no two tenants share a key.
	ns     string
	engine *ingest.Config // the ingestion engine on store and lexical
}

// cacheModel is the model name in the scope's embedding cache keys.
func (sc *scope) cacheModel() string { return sc.p.model + sc.ns }
