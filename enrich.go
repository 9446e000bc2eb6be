package rag

import (
	"fmt"

	"github.com/ragkit-go/rag/internal/enrich"
	"github.com/ragkit-go/rag/llm"
)

// EnrichOptions turn on enrichment at ingestion: a chat model reads each
// document that is stored (unchanged documents are skipped, as for
// embedding) and writes a short summary and a few topic tags.
//
// The summary becomes one more record of the document, after its chunks
// (Hit.IsSummary tells it from them, by MetaSummaryChunk): it is embedded
// and found by Search like the chunks, and Answer can cite it. The tags go
// in the metadata of every record of the document, under MetaTags. Enrichment runs in the ingestion
// workers, at most Concurrency documents at a time, while other documents
// are chunked, embedded and written. Turning enrichment on or changing its
// model or prompt makes the next ingestion of each document store it again.
//
// A document whose enrichment fails, after the pipeline's retries, fails
// like one whose embedding fails: the store keeps its previous version.
type EnrichOptions struct {
	// Model writes the summaries and tags. Default: Options.Model.
	Model llm.Model
	// Concurrency is the number of documents enriched at once. Default: 4.
	Concurrency int
	// MaxInputTokens bounds the document text sent to the model
	// (cl100k_base tokens); longer documents are cut. Default: 4000.
	MaxInputTokens int
	// MaxTags is the most tags kept for a document. Default: 5; negative
	// for none.
	MaxTags int
	// Prompt replaces DefaultEnrichPrompt. It must ask for the same
	// reply format; "%d" in it is replaced by MaxTags.
	Prompt string
}

// DefaultEnrichPrompt is the system prompt of enrichment. The model's
// reply is read as a "SUMMARY:" line (or paragraph) and a "TAGS:" line of
// comma-separated tags.
const DefaultEnrichPrompt = enrich.DefaultPrompt

// newEnricher returns the pipeline's enricher on o.
func newEnricher(p *Pipeline, o EnrichOptions) (*enrich.Enricher, error) {
	m := p.gen.model
	if o.Model != nil {
		m = p.retrying(o.Model)
	}
	if m == nil {
		return nil, fmt.Errorf("rag: enrichment: %w", ErrNoModel)
	}
	return enrich.New(enrich.Options{
		Model: m, Concurrency: o.Concurrency, MaxInputTokens: o.MaxInputTokens, MaxTags: o.MaxTags, Prompt: o.Prompt,
		Tokenizer: p.ingest.Tokenizer, MaxChunkTokens: p.ingest.MaxInputTokens, Logger: p.logger,
	}), nil
}
