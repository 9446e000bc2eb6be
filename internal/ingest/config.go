// Package ingest is the pipeline's ingestion engine: documents in, chunked
// on every core, their chunks packed across documents into embedding
// requests sent concurrently, each document written to the store in one
// step once all its chunks have vectors, and each document's outcome
// reported as it settles.
//
// It knows nothing of package rag: the pipeline hands it a Config of
// interfaces and functions. It runs either as one Run over a sequence of
// documents (what Pipeline.Ingest and IngestSeq do) or as a long-lived
// Stream that any number of goroutines submit documents to, so that
// documents from many sources (the jobs of a queue, say) still share
// embedding requests.
package ingest

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/tokenizer"
)

// Config is what the engine works with. Every field is required unless
// its comment says otherwise; the pipeline fills the defaults.
type Config struct {
	Store store.Store
	// Embed makes one embedding request for texts (tokens in all), with
	// the caller's retries, rate budget and vector checks, and returns the
	// vectors, the number of requests it made (retries included) and the
	// error of the last one. It is called from Concurrency goroutines.
	Embed func(ctx context.Context, texts []string, tokens int) (vecs [][]float32, requests int, err error)
	// Permanent reports whether an embedding error will fail again for
	// the same texts: a batch that fails with a permanent error is split,
	// so one bad text fails only its own document.
	Permanent func(error) bool
	// Chunker returns the chunker of a document.
	Chunker func(document.Document) chunk.Chunker
	// Tokenizer counts the tokens of chunks whose chunker did not.
	Tokenizer tokenizer.Tokenizer
	// HashSalts are passed to document.Hash with each document.
	HashSalts []string
	// Model names the embedder in cache keys.
	Model string
	// Cache, if not nil, holds vectors by Model and text.
	Cache embed.Cache
	// Dimension is the vector dimension the pipeline knows (shared with
	// its searches), or learns from the first answer.
	Dimension *Dimension
	// Lexical, if not nil, is kept in step with the store.
	Lexical Lexical
	// Enrich, if not nil, is called with each changed document's records
	// and their token counts after chunking, and returns them with what it
	// adds (a summary record, tags in the metadata). EnrichWorkers more
	// chunking goroutines run so its model calls overlap.
	Enrich        func(ctx context.Context, d *document.Document, recs []store.Record, tokens []int) ([]store.Record, []int, error)
	EnrichWorkers int

	// Progress, if not nil, is called after each embedding request's
	// vectors are in, so that progress moves within a large document.
	// It is called from Concurrency goroutines at once, and must be
	// cheap: read Stream.Stats for the counters.
	Progress func()

	BatchSize        int           // texts per request, at most
	BatchTokens      int           // tokens per request, at most; 0 for no limit
	MaxInputTokens   int           // tokens per chunk, at most; 0 for no limit
	Concurrency      int           // requests in flight
	Linger           time.Duration // how long a partly filled batch waits
	MaxPendingChunks int           // chunks held between chunking and writing
}

// Lexical is an index kept in step with the store, such as the BM25 index
// of package lexical. Its methods may be called concurrently.
type Lexical interface {
	// Hash returns the content hash the index holds for a document.
	Hash(docID string) (string, bool)
	// Upsert replaces the records of each document, as store.Store's
	// Upsert does.
	Upsert(docs ...store.StoredDocument) error
}

// Status is what the engine did with a document: document.Status.
type Status = document.Status

// The statuses of a document.
const (
	Stored    = document.Stored    // chunked, embedded and written
	Unchanged = document.Unchanged // the store held this version: nothing embedded or written
	Failed    = document.Failed    // not written: the store holds its previous version, if any
)

// Result is the outcome of one document. Err is the document's own error
// (not wrapped with its ID) when Status is Failed.
type Result struct {
	ID     string
	Status Status
	Chunks int // chunks written (Stored), or made before failing
	Err    error
}

// Stats are the counters of a Run or a Stream.
type Stats struct {
	Tokens         int   // tokens sent to the embedder (retries not counted)
	Requests       int   // embedding requests, retries included
	Retries        int   // requests that were retries
	CachedChunks   int   // chunks whose vectors came from the cache
	EmbeddedChunks int   // chunks whose vectors came from the embedder
	EmbeddedBytes  int64 // bytes of the texts embedded (retries not counted)
	WrittenBytes   int64 // bytes of the chunk texts written to the store
}

// Dimension is the vector dimension a pipeline has seen, learned from the
// embedder or its first answer. Safe for concurrent use.
type Dimension struct{ n atomic.Int64 }

// Get returns the dimension, or 0 while none is known.
func (d *Dimension) Get() int { return int(d.n.Load()) }

// Set records n if no dimension is known yet, and reports whether n is
// the dimension now known.
func (d *Dimension) Set(n int) bool {
	if n <= 0 {
		return true
	}
	d.n.CompareAndSwap(0, int64(n))
	return d.n.Load() == int64(n)
}

// OK reports whether a vector of n dimensions fits.
func (d *Dimension) OK(n int) bool {
	k := d.n.Load()
	return k == 0 || k == int64(n)
}

// Check validates an embedder's answer for n texts against the known
// dimension, and learns the dimension from it.
func (d *Dimension) Check(vecs [][]float32, n int) error {
	if _, err := embed.Check(vecs, n, d.Get()); err != nil {
		return err
	}
	if n > 0 && !d.Set(len(vecs[0])) {
		return fmt.Errorf("%w: got %d dimensions, the pipeline has %d", embed.ErrDimensionMismatch, len(vecs[0]), d.Get())
	}
	return nil
}
