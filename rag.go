package rag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/rerank"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// Document is a unit of ingestion: a text with its identity and metadata.
type Document struct {
	// ID identifies the document. When empty, Ingest derives it from the
	// content (the hex SHA-256 of Content, first 32 characters), so the same
	// text always gets the same ID.
	ID string
	// Title, Source and Tags are stored with every chunk and can be
	// filtered on (store.FieldTitle, store.FieldSource, store.FieldTags).
	Title  string
	Source string
	Tags   []string
	// Content is the text to chunk and embed: valid UTF-8, not empty.
	Content string
	// Metadata values may be strings, booleans, numbers (any Go integer or
	// float type, kept as float64), time.Time or []string. Keys must not
	// start with '_' (reserved for built-in fields); keys starting with
	// "rag_" are written by the pipeline (see MetaExpiresAt).
	Metadata map[string]any
	// ExpiresAt, when not zero, is when the document expires: from then
	// on Search and Answer never return it, and Purge deletes it. It is
	// stored as the metadata value MetaExpiresAt.
	ExpiresAt time.Time
}

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

// RecordID returns the ID of chunk index of document docID, as Ingest
// assigns it: docID, '#', and the index in decimal.
func RecordID(docID string, index int) string { return docID + "#" + strconv.Itoa(index) }

// Options configure a Pipeline. The zero value works except for the
// embedder: see Embedder.
type Options struct {
	// Embedder turns chunks and queries into vectors. When nil, New uses
	// OpenAI's text-embedding-3-small if OPENAI_API_KEY is set, and fails
	// with ErrNoEmbedder otherwise.
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
	// document summaries. Its calls are retried with the policy of
	// IngestOptions (MaxRetries, MinBackoff, MaxBackoff), see llm.Retry.
	// When nil, New uses OpenAI's llm.DefaultOpenAIModel if
	// OPENAI_API_KEY is set; otherwise those calls fail with ErrNoModel.
	Model llm.Model
	// Enrich, if set, has a model write a summary and tags for each
	// document at ingestion (see EnrichOptions). Off by default.
	Enrich *EnrichOptions
}

// Pipeline ingests and searches documents. It is safe for concurrent use:
// any number of Ingest, Search and Delete calls may run at once.
type Pipeline struct {
	embedder   embed.Embedder
	store      store.Store
	chunker    chunk.Chunker
	chunkerFor func(Document) chunk.Chunker
	reranker   rerank.Reranker
	logger     *slog.Logger
	ingest     IngestOptions
	model      string // embedder name, for cache keys and hashes
	queries    *queryEmbedder
	dims       dimension
	lexical    *lexical.Store // nil unless Options.Lexical
	gen        generation     // answer.go: the chat model and enrichment
}

// New returns a Pipeline on the given options.
func New(opts Options) (*Pipeline, error) {
	p := &Pipeline{
		embedder:   opts.Embedder,
		store:      opts.Store,
		chunker:    opts.Chunker,
		chunkerFor: opts.ChunkerFor,
		reranker:   opts.Reranker,
		logger:     opts.Logger,
		ingest:     opts.Ingest,
	}
	if p.embedder == nil {
		key := os.Getenv("OPENAI_API_KEY")
		if key == "" {
			return nil, ErrNoEmbedder
		}
		p.embedder = embed.NewOpenAI(embed.OpenAIOptions{APIKey: key})
	}
	if p.store == nil {
		s, err := chromem.New(chromem.Options{})
		if err != nil {
			return nil, fmt.Errorf("rag: default store: %w", err)
		}
		p.store = s
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
		p.dims.set(d.Dimensions())
	}
	if opts.Lexical != nil {
		l, err := newLexical(opts.Lexical) // lexical.go
		if err != nil {
			return nil, err
		}
		p.lexical = l
	}
	p.ingest = p.ingest.withDefaults(p.embedder)
	p.queries = newQueryEmbedder(p)
	if err := p.initGeneration(opts); err != nil {
		return nil, err
	}
	return p, nil
}

// Store returns the pipeline's store, for the capabilities it has beyond
// the Store interface.
func (p *Pipeline) Store() store.Store { return p.store }

// Delete removes the named documents and all their chunks. Deleting a
// document that does not exist is not an error.
func (p *Pipeline) Delete(ctx context.Context, docIDs ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(docIDs) == 0 {
		return nil
	}
	if err := p.store.Delete(ctx, docIDs...); err != nil {
		return fmt.Errorf("rag: delete: %w", err)
	}
	if p.lexical != nil {
		if err := p.lexical.Delete(docIDs...); err != nil {
			return fmt.Errorf("rag: delete: lexical index: %w", err)
		}
	}
	return nil
}

// textSearcher returns the lexical side of search: the store's own
// full-text search if it has one, else the in-process BM25 index, else nil.
func (p *Pipeline) textSearcher() store.TextSearcher {
	if ts, ok := p.store.(store.TextSearcher); ok {
		return ts
	}
	if p.lexical != nil {
		return p.lexical
	}
	return nil
}

// Sentinel errors of the pipeline. Errors for one document are
// *DocumentError values that wrap these, or the embedder's and store's
// errors (embed.ErrDimensionMismatch, *embed.APIError, ...).
var (
	// ErrNoEmbedder: New was given no embedder and OPENAI_API_KEY is unset.
	ErrNoEmbedder = errors.New("rag: no embedder: set Options.Embedder (e.g. embed.NewOpenAI(embed.OpenAIOptions{APIKey: key}), or embed.NewHashing(embed.HashingOptions{}) for an offline lexical baseline) or the OPENAI_API_KEY environment variable")
	// ErrEmptyQuery: a search query is empty or only white space.
	ErrEmptyQuery = errors.New("rag: empty query")
	// ErrEmptyContent: a document's content is empty or only white space.
	ErrEmptyContent = errors.New("rag: document content is empty")
	// ErrInvalidUTF8: a document's content, title or metadata is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("rag: document is not valid UTF-8")
	// ErrInvalidDocument: a document's metadata is invalid.
	ErrInvalidDocument = errors.New("rag: invalid document")
	// ErrDuplicateDocument: the same document ID appears twice in one Ingest call.
	ErrDuplicateDocument = errors.New("rag: document ID appears twice in one ingest")
)

// DocumentError is the failure of one document in Ingest.
type DocumentError struct {
	DocID string
	Err   error
}

func (e *DocumentError) Error() string {
	return "rag: document " + strconv.Quote(e.DocID) + ": " + e.Err.Error()
}
func (e *DocumentError) Unwrap() error { return e.Err }

// documentID derives a document ID from its content.
func documentID(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:16])
}
