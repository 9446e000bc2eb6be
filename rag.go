package rag

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/internal/telemetry"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/rerank"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// Document is a unit of ingestion: a text with its identity and metadata.
// It is document.Document, the model loaders, queues and the pipeline
// share; see there.
type Document = document.Document

// Hit is a chunk found by Search.
type Hit struct {
	// ID is the chunk's record ID, deterministic from DocID and Chunk.
	ID string
	// DocID, Title, Source, Tags and Metadata come from the document.
	DocID    string
	Title    string
	Source   string
	Tags     []string
	Metadata map[string]any
	// Headings is the path of headings the chunk sits under, outermost
	// first, when its chunker knows the document's structure.
	Headings []string
	// SpanKind and SpanLabel say which part of its document the chunk
	// starts in, when the document had Spans (a loader marks the pages of
	// a PDF, the slides of a deck): SpanKind is a document.Span* kind
	// ("page"), SpanLabel how a reader cites it ("12", a sheet's name, a
	// chapter's title). Both are empty otherwise. Location formats them.
	SpanKind, SpanLabel string
	// Chunk is the chunk's index in its document; Start and End are its
	// byte offsets in the document's content.
	Chunk      int
	Start, End int
	// Text is the chunk's text.
	Text string

	vector []float32 // while searching, for MMR
	// Score is the relevance of the hit: cosine similarity for vector
	// search (higher is better), or the reranker's score when a reranker
	// ordered the hits.
	Score float64
}

// Options configure a Pipeline. The zero value works except for the
// embedder: see Embedder.
type Options struct {
	// Embedder turns chunks and queries into vectors. When nil, New uses
	// embed.OpenAIFromEnv: text-embedding-3-small at OpenAI if
	// OPENAI_API_KEY is set, or at OPENAI_BASE_URL (an OpenAI-compatible
	// server, which may need no key) if that is set; it fails with
	// ErrNoEmbedder otherwise.
	Embedder embed.Embedder
	// Store keeps the chunks. Default: an in-memory store/chromem.
	Store store.Store
	// Chunker splits documents. Default: chunk.NewRecursive with its
	// defaults (512 tokens of cl100k_base, with overlap).
	Chunker chunk.Chunker
	// ChunkerFor, if set, picks the chunker of each document (by its
	// Source's extension, say); a nil result means Chunker.
	ChunkerFor func(Document) chunk.Chunker
	// Reranker, if set, reorders search candidates (see SearchOptions).
	Reranker rerank.Reranker
	// Lexical, if set, keeps an in-process BM25 index in step with the
	// store, for lexical and hybrid search. A store that implements
	// store.TextSearcher (store/pgvector) serves them without it.
	Lexical *LexicalOptions
	// Logger receives debug and warning logs. Default: slog.Default().
	Logger *slog.Logger

	// Ingest tunes ingestion; its zero value works.
	Ingest IngestOptions

	// Model generates answers (Answer, AnswerStream), rewrites follow-up
	// questions, summarises long conversations and, with Enrich, writes
	// document summaries. Its calls are retried by ModelRetry (see
	// llm.Retry; a model already wrapped by llm.Retry keeps its own).
	// When nil, New uses llm.OpenAIFromEnv (llm.DefaultOpenAIModel, with
	// OPENAI_API_KEY and OPENAI_BASE_URL as for Embedder) if the
	// environment allows; otherwise those calls fail with ErrNoModel.
	Model llm.Model
	// ModelRetry is the retry policy of Model's calls; its zero value
	// takes provider.RetryPolicy's defaults. A call is never retried once
	// its answer has started streaming.
	ModelRetry provider.RetryPolicy
	// Enrich, if set, has a model write a summary and tags for each
	// document at ingestion (see EnrichOptions). Off by default.
	Enrich *EnrichOptions

	// TracerProvider and MeterProvider receive the pipeline's
	// OpenTelemetry spans and metrics; nil means the global providers
	// (otel.GetTracerProvider, otel.GetMeterProvider), which record
	// nothing until an application installs an SDK. Spans follow the
	// GenAI semantic conventions: "embeddings {model}", "chat {model}",
	// "retrieval", "rerank {model}", "ingest {model}" and
	// "answer {model}", with gen_ai.* attributes; the metrics are
	// gen_ai.client.operation.duration and gen_ai.client.token.usage.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// RecordContent puts the content of messages, questions and queries
	// on the spans (gen_ai.input.messages, gen_ai.output.messages,
	// gen_ai.retrieval.query.text). Off by default: content may be
	// private.
	RecordContent bool
}

// Pipeline ingests and searches documents. It is safe for concurrent use:
// any number of Ingest, Search and Delete calls may run at once.
type Pipeline struct {
	embedder   embed.Embedder
	own        *scope // the default tenant: the store and lexical index of Options
	chunker    chunk.Chunker
	chunkerFor func(Document) chunk.Chunker
	reranker   rerank.Reranker
	logger     *slog.Logger
	ingest     IngestOptions
	model      string   // embedder name, for cache keys and hashes
	hashSalts  []string // what document hashes depend on beyond the document: the embedder's name, enrichment
	queries    *queryEmbedder
	dims       ingest.Dimension
	modelRetry provider.RetryPolicy
	embedding  *ingest.Embedding // every embedding request: budget, retries, dimension
	gen        generation        // answer.go: the chat model and enrichment
	tel        *telemetry.Telemetry
}

// New returns a Pipeline on the given options.
func New(opts Options) (*Pipeline, error) {
	p := &Pipeline{
		embedder:   opts.Embedder,
		chunker:    opts.Chunker,
		chunkerFor: opts.ChunkerFor,
		reranker:   opts.Reranker,
		logger:     opts.Logger,
		ingest:     opts.Ingest,
		modelRetry: opts.ModelRetry,
		tel:        telemetry.New(opts.TracerProvider, opts.MeterProvider, opts.RecordContent),
	}
	if p.embedder == nil {
		e, err := embed.OpenAIFromEnv(embed.OpenAIOptions{})
		if err != nil {
			return nil, ErrNoEmbedder
		}
		p.embedder = e
	}
	p.own = &scope{p: p, store: opts.Store}
	if p.own.store == nil {
		s, err := chromem.New(chromem.Options{})
		if err != nil {
			return nil, fmt.Errorf("rag: default store: %w", err)
		}
		p.own.store = s
	}
	if p.chunker == nil {
		p.chunker = chunk.NewRecursive(chunk.RecursiveOptions{})
	}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	if n, ok := p.embedder.(embed.Namer); ok {
		p.model = n.Name()
	} else {
		p.model = fmt.Sprintf("%T", p.embedder)
	}
	if d, ok := p.embedder.(embed.Dimensioner); ok {
		p.dims.Set(d.Dimensions())
	}
	if opts.Lexical != nil {
		l, err := newLexical(opts.Lexical) // lexical.go
		if err != nil {
			return nil, err
		}
		p.own.lexical = l
	}
	p.ingest = p.ingest.withDefaults(p.embedder)
	p.queries = newQueryEmbedder(p)
	if err := p.initGeneration(opts); err != nil {
		return nil, err
	}
	p.hashSalts = []string{p.model}
	if p.gen.enrich != nil {
		p.hashSalts = append(p.hashSalts, p.gen.enrich.Version()) // enriched records differ
	}
	p.embedding = &ingest.Embedding{
		Embedder: p.embedder,
		Retry:    p.ingest.Retry,
		Budget: provider.NewBudget(provider.BudgetOptions{
			RequestsPerMinute: p.ingest.RequestsPerMinute,
			TokensPerMinute:   p.ingest.TokensPerMinute,
			MaxRequestTokens:  p.ingest.BatchTokens,
		}),
		Shared:    p.ingest.SharedBudget,
		Dimension: &p.dims,
		Telemetry: p.tel,
		Logger:    p.logger,
	}
	p.embedding.Provider, p.embedding.Model = telemetry.SplitName(p.model)
	p.own.engine = p.own.engineConfig()
	return p, nil
}

// Store returns the pipeline's store, for the capabilities it has beyond
// the Store interface.
func (p *Pipeline) Store() store.Store { return p.own.store }

// Close releases what New opened: the lexical index's files, after its
// last background snapshot. It does not close Options.Store, which is the
// caller's. A closed pipeline still searches; ingesting into its lexical
// index fails, and so does Tenant. Close may be called more than once.
func (p *Pipeline) Close() error {
	if p.own.lexical == nil {
		return nil
	}
	if err := p.own.lexical.Close(); err != nil {
		return fmt.Errorf("rag: close: lexical index: %w", err)
	}
	return nil
}

// Delete removes the named documents and all their chunks. Deleting a
// document that does not exist is not an error.
func (p *Pipeline) Delete(ctx context.Context, docIDs ...string) error {
	return p.own.Delete(ctx, docIDs...)
}

// Delete is Pipeline.Delete within the scope.
func (sc *scope) Delete(ctx context.Context, docIDs ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(docIDs) == 0 {
		return nil
	}
	if err := sc.store.Delete(ctx, docIDs...); err != nil {
		return fmt.Errorf("rag: delete: %w", err)
	}
	if sc.lexical != nil {
		if err := sc.lexical.Delete(docIDs...); err != nil {
			return fmt.Errorf("rag: delete: lexical index: %w", err)
		}
	}
	return nil
}

// textSearcher returns the lexical side of search: the store's own
// full-text search if it has one, else the in-process BM25 index, else nil.
func (sc *scope) textSearcher() store.TextSearcher {
	if ts, ok := sc.store.(store.TextSearcher); ok {
		return ts
	}
	if sc.lexical != nil {
		return sc.lexical
	}
	return nil
}

// Sentinel errors of the pipeline. Errors for one document are
// *DocumentError values that wrap these, or the embedder's and store's
// errors (embed.ErrDimensionMismatch, *provider.Error, ...).
var (
	// ErrNoEmbedder: New was given no embedder and OPENAI_API_KEY is unset.
	ErrNoEmbedder = errors.New("rag: no embedder: set Options.Embedder (e.g. embed.NewOpenAI with an APIKey, or embed.NewHashing(embed.HashingOptions{}) for an offline lexical baseline) or the OPENAI_API_KEY environment variable (OPENAI_BASE_URL for a local server)")
	// ErrEmptyQuery: a search query is empty or only white space.
	ErrEmptyQuery = errors.New("rag: empty query")
)

// Errors of document validation, from package document (like os.ErrNotExist
// is fs.ErrNotExist).
var (
	// ErrEmptyContent: a document's content is empty or only white space.
	ErrEmptyContent = document.ErrEmptyContent
	// ErrInvalidUTF8: a document's content, title or metadata, or a query,
	// is not valid UTF-8.
	ErrInvalidUTF8 = document.ErrInvalidUTF8
	// ErrInvalidDocument: a document's metadata is invalid.
	ErrInvalidDocument = document.ErrInvalidDocument
)

// DocumentError is the failure of one document in Ingest: document.Error.
type DocumentError = document.Error
