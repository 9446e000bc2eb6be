package rag

import (
	"fmt"
	"time"

	"github.com/ragkit-go/rag/store"
)

// The handler's wire format: the JSON bodies of its requests and
// responses, as openapi.json describes them, and their conversions to and
// from the pipeline's types. Field names are snake_case; an absent field
// takes the pipeline's default.

// documentJSON is a document in a request.
type documentJSON struct {
	ID        string         `json:"id,omitempty"`
	Title     string         `json:"title,omitempty"`
	Source    string         `json:"source,omitempty"`
	Tags      []string       `json:"tags,omitempty"`
	Content   string         `json:"content"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
}

// ingestRequestJSON is the body of POST /documents: one document, or
// {"documents": [...]}. A body with "documents" and a document's own
// fields is malformed.
type ingestRequestJSON struct {
	Documents []documentJSON `json:"documents"`
	documentJSON
}

// document converts d. JSON arrays of strings in metadata become
// []string; other values stay as the decoder made them (strings,
// float64, bools), and document.Validate rejects what no store holds
// (null, objects, mixed arrays).
func (d *documentJSON) document() Document {
	doc := Document{ID: d.ID, Title: d.Title, Source: d.Source, Tags: d.Tags, Content: d.Content}
	if d.ExpiresAt != nil {
		doc.ExpiresAt = *d.ExpiresAt
	}
	if d.Metadata != nil {
		doc.Metadata = make(map[string]any, len(d.Metadata))
		for k, v := range d.Metadata {
			doc.Metadata[k] = metadataValue(v)
		}
	}
	return doc
}

// metadataValue turns a JSON array of strings into a []string.
func metadataValue(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	ss := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return v
		}
		ss[i] = s
	}
	return ss
}

// ingestReportJSON is an IngestReport on the wire.
type ingestReportJSON struct {
	Documents    []documentResultJSON `json:"documents"`
	Stored       int                  `json:"stored"`
	Unchanged    int                  `json:"unchanged"`
	Failed       int                  `json:"failed"`
	Chunks       int                  `json:"chunks"`
	CachedChunks int                  `json:"cached_chunks"`
	Tokens       int                  `json:"tokens"`
	Requests     int                  `json:"requests"`
	Retries      int                  `json:"retries"`
	Bytes        int64                `json:"bytes"`
	ElapsedMS    float64              `json:"elapsed_ms"`
}

// documentResultJSON is one document's outcome.
type documentResultJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "stored", "unchanged", "failed"
	Chunks int    `json:"chunks"`
	// Code and Error say why it failed.
	Code  ProblemCode `json:"code,omitempty"`
	Error string      `json:"error,omitempty"`
}

func reportJSON(r *IngestReport) *ingestReportJSON {
	out := &ingestReportJSON{
		Documents: make([]documentResultJSON, len(r.Documents)),
		Stored:    r.Stored, Unchanged: r.Unchanged, Failed: r.Failed,
		Chunks: r.Chunks, CachedChunks: r.CachedChunks, Tokens: r.Tokens,
		Requests: r.Requests, Retries: r.Retries, Bytes: r.Bytes,
		ElapsedMS: float64(r.Elapsed.Microseconds()) / 1000,
	}
	for i, d := range r.Documents {
		res := documentResultJSON{ID: d.ID, Status: d.Status.String(), Chunks: d.Chunks}
		if d.Err != nil {
			pr := problemOf(d.Err)
			res.Code, res.Error = pr.Code, pr.Detail
		}
		out.Documents[i] = res
	}
	return out
}

// searchOptionsJSON are SearchOptions on the wire.
type searchOptionsJSON struct {
	TopK           int         `json:"top_k,omitempty"`
	Filter         *filterJSON `json:"filter,omitempty"`
	Mode           string      `json:"mode,omitempty"`      // "vector" (default), "lexical", "hybrid"
	Fusion         string      `json:"fusion,omitempty"`    // "agreement" (default), "rrf", "weighted"
	Documents      string      `json:"documents,omitempty"` // "chunks" (default), "max", "sum"
	RRFK           int         `json:"rrf_k,omitempty"`
	VectorWeight   float64     `json:"vector_weight,omitempty"`
	Depth          int         `json:"depth,omitempty"`
	MMR            bool        `json:"mmr,omitempty"`
	MMRLambda      *float64    `json:"mmr_lambda,omitempty"`
	Rerank         *bool       `json:"rerank,omitempty"` // default true: the pipeline's reranker, if any
	MinScore       float64     `json:"min_score,omitempty"`
	IncludeExpired bool        `json:"include_expired,omitempty"`
}

// searchRequestJSON is the body of POST /search.
type searchRequestJSON struct {
	Query string `json:"query"`
	searchOptionsJSON
}

// options converts o, checking what the pipeline leaves to its defaults:
// the names of modes and the handler's bounds on TopK and Depth.
func (o *searchOptionsJSON) options(maxTopK int) (*SearchOptions, error) {
	so := &SearchOptions{
		TopK: o.TopK, RRFK: o.RRFK, VectorWeight: o.VectorWeight, Depth: o.Depth,
		MMR: o.MMR, MMRLambda: o.MMRLambda, MinScore: o.MinScore, IncludeExpired: o.IncludeExpired,
	}
	if o.Rerank != nil && !*o.Rerank {
		so.NoRerank = true
	}
	if o.TopK < 0 || o.Depth < 0 || o.RRFK < 0 {
		return nil, fmt.Errorf("%w: top_k, depth and rrf_k must not be negative", ErrInvalidOptions)
	}
	if maxTopK > 0 && (o.TopK > maxTopK || o.Depth > 10*maxTopK) {
		return nil, fmt.Errorf("%w: top_k is at most %d and depth at most %d here", ErrInvalidOptions, maxTopK, 10*maxTopK)
	}
	var ok bool
	if so.Mode, ok = pick(o.Mode, map[string]SearchMode{"": VectorSearch, "vector": VectorSearch, "lexical": LexicalSearch, "hybrid": HybridSearch}); !ok {
		return nil, fmt.Errorf("%w: mode %q (want vector, lexical or hybrid)", ErrInvalidOptions, o.Mode)
	}
	if so.Fusion, ok = pick(o.Fusion, map[string]Fusion{"": AgreementFusion, "agreement": AgreementFusion, "rrf": RRF, "weighted": WeightedScores}); !ok {
		return nil, fmt.Errorf("%w: fusion %q (want agreement, rrf or weighted)", ErrInvalidOptions, o.Fusion)
	}
	if so.Documents, ok = pick(o.Documents, map[string]DocumentScore{"": NoCollapse, "chunks": NoCollapse, "max": DocumentMax, "sum": DocumentSum}); !ok {
		return nil, fmt.Errorf("%w: documents %q (want chunks, max or sum)", ErrInvalidOptions, o.Documents)
	}
	if o.Filter != nil {
		f, err := o.Filter.filter(0)
		if err != nil {
			return nil, err
		}
		if err := f.Validate(); err != nil {
			return nil, err
		}
		so.Filter = f
	}
	return so, nil
}

func pick[T any](name string, names map[string]T) (T, bool) {
	v, ok := names[name]
	return v, ok
}

// filterJSON is a store.Filter on the wire: {"op": "eq", "field":
// "lang", "value": "go"}, {"op": "and", "filters": [...]}. A time is
// given in "time" (RFC 3339) instead of "value", since JSON has none.
type filterJSON struct {
	Op      store.Op      `json:"op"`
	Field   string        `json:"field,omitempty"`
	Value   any           `json:"value,omitempty"`
	Time    *time.Time    `json:"time,omitempty"`
	Filters []*filterJSON `json:"filters,omitempty"`
}

// maxFilterDepth bounds the nesting of a filter from a request.
const maxFilterDepth = 32

func (f *filterJSON) filter(depth int) (*store.Filter, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: null sub-filter", store.ErrInvalidFilter)
	}
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", store.ErrInvalidFilter, maxFilterDepth)
	}
	out := &store.Filter{Op: f.Op, Field: f.Field, Value: f.Value}
	if f.Time != nil {
		if f.Value != nil {
			return nil, fmt.Errorf("%w: both value and time", store.ErrInvalidFilter)
		}
		out.Value = f.Time.UTC()
	}
	for _, sub := range f.Filters {
		s, err := sub.filter(depth + 1)
		if err != nil {
			return nil, err
		}
		out.Filters = append(out.Filters, s)
	}
	return out, nil
}

// hitJSON is a Hit on the wire.
type hitJSON struct {
	ID       string         `json:"id"`
	DocID    string         `json:"doc_id"`
	Title    string         `json:"title,omitempty"`
	Source   string         `json:"source,omitempty"`
	Tags     []string       `json:"tags,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Headings []string       `json:"headings,omitempty"`
	Chunk    int            `json:"chunk"`
	Start    int            `json:"start"`
	End      int            `json:"end"`
	Text     string         `json:"text"`
	Score    float64        `json:"score"`
}

func hitOfJSON(h *Hit) hitJSON {
	return hitJSON{
		ID: h.ID, DocID: h.DocID, Title: h.Title, Source: h.Source, Tags: h.Tags, Metadata: h.Metadata,
		Headings: h.Headings, Chunk: h.Chunk, Start: h.Start, End: h.End, Text: h.Text, Score: h.Score,
	}
}

// searchResponseJSON is the body of a POST /search answer.
type searchResponseJSON struct {
	Hits []hitJSON `json:"hits"`
}

// answerRequestJSON is the body of POST /answer.
type answerRequestJSON struct {
	Question      string             `json:"question"`
	Search        *searchOptionsJSON `json:"search,omitempty"`
	Conversation  *Conversation      `json:"conversation,omitempty"`
	RewriteQuery  bool               `json:"rewrite_query,omitempty"`
	ContextTokens int                `json:"context_tokens,omitempty"`
	HistoryTokens int                `json:"history_tokens,omitempty"`
	Neighbors     int                `json:"neighbors,omitempty"`
	MaxTokens     int                `json:"max_tokens,omitempty"`
	Temperature   *float64           `json:"temperature,omitempty"`
	Instructions  string             `json:"instructions,omitempty"`
}

func (a *answerRequestJSON) options(maxTopK int) (*AnswerOptions, error) {
	if a.ContextTokens < 0 || a.HistoryTokens < 0 || a.Neighbors < 0 || a.MaxTokens < 0 {
		return nil, fmt.Errorf("%w: context_tokens, history_tokens, neighbors and max_tokens must not be negative", ErrInvalidOptions)
	}
	o := &AnswerOptions{
		Conversation: a.Conversation, RewriteQuery: a.RewriteQuery,
		ContextTokens: a.ContextTokens, HistoryTokens: a.HistoryTokens, Neighbors: a.Neighbors,
		MaxTokens: a.MaxTokens, Temperature: a.Temperature, Instructions: a.Instructions,
	}
	if a.Search != nil {
		so, err := a.Search.options(maxTopK)
		if err != nil {
			return nil, err
		}
		o.Search = so
	}
	return o, nil
}

// passageJSON is a Passage on the wire.
type passageJSON struct {
	N int `json:"n"`
	hitJSON
	Context string `json:"context,omitempty"`
}

func passagesJSON(ps []Passage) []passageJSON {
	out := make([]passageJSON, len(ps))
	for i := range ps {
		out[i] = passageJSON{N: ps[i].N, hitJSON: hitOfJSON(&ps[i].Hit), Context: ps[i].Context}
	}
	return out
}

// usageJSON is llm.Usage on the wire.
type usageJSON struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// answerJSON is an Answer on the wire: the body of a POST /answer
// answer, and (without text and citations, which came before) the data
// of the stream's done event.
type answerJSON struct {
	Question         string        `json:"question"`
	Query            string        `json:"query"`
	Text             string        `json:"text,omitempty"`
	Citations        []passageJSON `json:"citations,omitempty"`
	InvalidCitations []int         `json:"invalid_citations,omitempty"`
	FinishReason     string        `json:"finish_reason,omitempty"`
	Usage            usageJSON     `json:"usage"`
	UsageReported    bool          `json:"usage_reported"`
	// Conversation is the request's conversation with this turn added,
	// for the client to send with its next question.
	Conversation *Conversation `json:"conversation,omitempty"`
}

func answerOfJSON(a *Answer, conv *Conversation) answerJSON {
	return answerJSON{
		Question: a.Question, Query: a.Query, Text: a.Text, Citations: passagesJSON(a.Citations),
		InvalidCitations: a.InvalidCitations, FinishReason: a.FinishReason,
		Usage:         usageJSON{PromptTokens: a.Usage.PromptTokens, CompletionTokens: a.Usage.CompletionTokens},
		UsageReported: a.UsageReported, Conversation: conv,
	}
}

// statusJSON is a DocumentStatus on the wire.
type statusJSON struct {
	ID     string `json:"id"`
	Stored bool   `json:"stored"`
	Hash   string `json:"hash,omitempty"`
}
