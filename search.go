package rag

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/internal/telemetry"
	"github.com/ragkit-go/rag/rank"
	"github.com/ragkit-go/rag/rerank"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/tune"
)

// SearchMode selects how Search finds candidates.
type SearchMode int

const (
	// VectorSearch ranks chunks by cosine similarity of their embeddings
	// to the query's. The default.
	VectorSearch SearchMode = iota
	// LexicalSearch ranks chunks by BM25 (or the store's own full-text
	// search): exact words, names and codes.
	LexicalSearch
	// HybridSearch runs both and fuses the two rankings (see Fusion).
	HybridSearch
)

// Fusion selects how hybrid search combines its two rankings.
type Fusion int

const (
	// AgreementFusion is the default: weighted score fusion (as
	// WeightedScores) whose vector weight is set for each query by how
	// much the two sides agree, VectorWeight × the share of their first
	// ten hits they have in common (rank.AgreementFuse). It assumes the
	// lexical side is sound on its own and the vector side may be weak:
	// a vector ranking that shares nothing with BM25's gets almost no
	// vote, so a weak embedder cannot drag hybrid search below lexical
	// search, while one that agrees adds its evidence. With an embedder
	// much better than BM25 on your documents it underuses it: measure
	// with Pipeline.TuneFusion.
	AgreementFusion Fusion = iota
	// RRF is reciprocal rank fusion: score = Σ 1/(k + rank), ranks from 1,
	// k = SearchOptions.RRFK (default 60). It needs no score calibration,
	// and gives both sides an equal vote, however weak one is.
	RRF
	// WeightedScores min-max normalises each side's scores and adds them
	// with weights VectorWeight and 1 − VectorWeight.
	WeightedScores
)

// String returns "agreement", "rrf" or "weighted".
func (f Fusion) String() string { return f.method().String() }

// String returns "chunks", "max" or "sum".
func (d DocumentScore) String() string {
	switch d {
	case DocumentMax:
		return "max"
	case DocumentSum:
		return "sum"
	}
	return "chunks"
}

// DocumentScore selects whether Search returns chunks or documents, and
// how a document is scored from its chunks.
type DocumentScore int

const (
	// NoCollapse returns chunks: several hits may come from one document.
	// The default.
	NoCollapse DocumentScore = iota
	// DocumentMax returns one hit per document, its best chunk, scored by
	// that chunk's score.
	DocumentMax
	// DocumentSum returns one hit per document, its best chunk, scored by
	// the sum of the scores of its chunks among the candidates: documents
	// with many matching chunks rank higher. Meant for non-negative scores
	// (BM25, fused scores, cosine similarity of related texts).
	DocumentSum
)

// SearchOptions are the parameters of one search. A nil *SearchOptions
// means the defaults.
type SearchOptions struct {
	// TopK is the number of hits wanted. Default: 5.
	TopK int
	// Filter restricts the search to chunks whose document matches it.
	Filter *store.Filter

	// Mode is vector (default), lexical or hybrid search. Lexical and
	// hybrid search need a store that implements store.TextSearcher or
	// Options.Lexical; without either they fail with ErrNoLexical.
	Mode SearchMode
	// Fusion, RRFK and VectorWeight tune hybrid search: AgreementFusion
	// by default; RRFK (default 60) is RRF's k; VectorWeight (in (0, 1];
	// 0 means the default, 0.5; outside, Search fails with
	// ErrInvalidOptions)
	// weighs the vector side in WeightedScores fusion, and is its weight
	// at full agreement in AgreementFusion. Pipeline.TuneFusion chooses
	// them from labelled queries.
	Fusion       Fusion
	RRFK         int
	VectorWeight float64
	// Depth is the number of candidates each side fetches for fusion,
	// MMR, reranking and Documents. Default: max(4 × TopK, 50).
	Depth int

	// Documents collapses the hits to one per document (DocumentMax or
	// DocumentSum), after reranking: each is the document's best chunk,
	// its Score the document's, and TopK counts documents. Documents are
	// found among the Depth candidates, so fewer than TopK may come back
	// when the best chunks crowd into a few documents.
	Documents DocumentScore

	// MMR diversifies the hits by maximal marginal relevance over the
	// candidates, trading relevance for novelty by MMRLambda: in [0, 1],
	// 1 is relevance alone and 0 novelty alone; nil means 0.5
	// (rank.DefaultLambda); outside [0, 1] Search fails with
	// ErrInvalidOptions. Write MMRLambda: new(0.9).
	MMR       bool
	MMRLambda *float64

	// NoRerank skips the pipeline's reranker for this search.
	NoRerank bool
	// MinScore drops hits scoring below it (cosine similarity, BM25, the
	// fused score, or the reranker's score, whichever ordered the hits).
	MinScore float64
	// IncludeExpired returns documents whose ExpiresAt has passed too;
	// by default they are never returned.
	IncludeExpired bool
}

// DefaultTopK is the number of hits a search returns by default.
const DefaultTopK = 5

// ErrInvalidOptions: a search option is out of its range.
var ErrInvalidOptions = errors.New("rag: invalid search options")

// ErrNoLexical: a lexical or hybrid search on a pipeline with no lexical
// index. It matches errors.ErrUnsupported.
var ErrNoLexical = fmt.Errorf("rag: no lexical index: set Options.Lexical or use a store with full-text search (store.TextSearcher): %w", errors.ErrUnsupported)

// Search returns the chunks most relevant to query, best first.
//
// The query is embedded (with the embedder's query mode, if it has one),
// identical concurrent queries are embedded once and recent query vectors
// are cached. In hybrid mode the vector and lexical searches run
// concurrently. Then, in order and as configured: MMR diversification, the
// reranker, MinScore, TopK. Scores are those of the last step that ordered
// the hits. A TopK larger than the collection is not an error.
//
// An empty query fails with ErrEmptyQuery and an invalid filter with an
// error matching store.ErrInvalidFilter, before any embedding call.
func (p *Pipeline) Search(ctx context.Context, query string, opts *SearchOptions) ([]Hit, error) {
	return p.own.Search(ctx, query, opts)
}

// Search is Pipeline.Search within the scope.
func (sc *scope) Search(ctx context.Context, query string, opts *SearchOptions) (hits []Hit, err error) {
	p := sc.p
	topK, mode := DefaultTopK, VectorSearch
	if opts != nil {
		topK, mode = cmp.Or(max(opts.TopK, 0), DefaultTopK), opts.Mode
	}
	sctx, op := p.tel.Start(ctx, telemetry.OpRetrieval, "", "", trace.SpanKindInternal, false,
		telemetry.RequestTopK.Int(topK), telemetry.SearchMode.String(modeName(mode)))
	if p.tel.Content() {
		op.Set(telemetry.RetrievalQueryText.String(query))
	}
	defer func() {
		op.Set(telemetry.Hits.Int(len(hits)))
		op.End(ctx, err)
	}()
	return sc.search(sctx, query, opts)
}

// modeName names a search mode in spans.
func modeName(m SearchMode) string {
	switch m {
	case VectorSearch:
		return "vector"
	case LexicalSearch:
		return "lexical"
	case HybridSearch:
		return "hybrid"
	}
	return "unknown"
}

// search is Search without its span.
func (sc *scope) search(ctx context.Context, query string, opts *SearchOptions) ([]Hit, error) {
	p := sc.p
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	if o.TopK <= 0 {
		o.TopK = DefaultTopK
	}
	if o.Depth <= 0 {
		o.Depth = max(4*o.TopK, 50)
	}
	o.Depth = max(o.Depth, o.TopK)
	if o.RRFK <= 0 {
		o.RRFK = rank.DefaultRRFK
	}
	if o.VectorWeight == 0 {
		o.VectorWeight = rank.DefaultAgreementWeight
	}
	if !(o.VectorWeight > 0 && o.VectorWeight <= 1) {
		return nil, fmt.Errorf("%w: VectorWeight %v is outside (0, 1]", ErrInvalidOptions, o.VectorWeight)
	}
	lambda := rank.DefaultLambda
	if o.MMRLambda != nil {
		lambda = *o.MMRLambda
	}
	if !(lambda >= 0 && lambda <= 1) {
		return nil, fmt.Errorf("%w: MMRLambda %v is outside [0, 1]", ErrInvalidOptions, lambda)
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
	if !o.IncludeExpired {
		o.Filter = notExpired(o.Filter, time.Now()) // expiry.go
	}
	text := sc.textSearcher()
	if o.Mode != VectorSearch && text == nil {
		return nil, ErrNoLexical
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rerank := p.reranker != nil && !o.NoRerank
	collapse := o.Documents != NoCollapse
	k := o.TopK
	if rerank || o.MMR || o.Mode == HybridSearch || collapse {
		k = o.Depth
	}

	var vres, lres []store.Result
	var qvec []float32
	g, gctx := errgroup.WithContext(ctx)
	if o.Mode != LexicalSearch {
		g.Go(func() error {
			var err error
			if qvec, err = p.queries.embed(gctx, sc.ns, query); err != nil {
				return fmt.Errorf("rag: embedding the query: %w", err)
			}
			if vres, err = sc.store.Search(gctx, store.Query{Vector: qvec, TopK: k, Filter: o.Filter}); err != nil {
				return fmt.Errorf("rag: search: %w", err)
			}
			return nil
		})
	}
	if o.Mode != VectorSearch {
		g.Go(func() error {
			var err error
			if lres, err = text.SearchText(gctx, query, k, o.Filter); err != nil {
				return fmt.Errorf("rag: lexical search: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	var hits []Hit
	switch o.Mode {
	case VectorSearch:
		hits = hitsOf(vres)
	case LexicalSearch:
		hits = hitsOf(lres)
	default:
		hits = fuse(vres, lres, &o)
	}
	if o.MMR && len(hits) > 1 {
		var err error
		if hits, err = sc.diversify(ctx, o.Mode, qvec, hits, lambda, mmrKeep(rerank || collapse, o.TopK, o.Depth, len(hits))); err != nil {
			return nil, err
		}
	}
	if rerank && len(hits) > 0 {
		var err error
		if hits, err = p.rerank(ctx, query, hits); err != nil {
			return nil, err
		}
	}
	if collapse {
		hits = collapseDocuments(hits, o.Documents)
	}
	if o.MinScore != 0 {
		hits = slices.DeleteFunc(hits, func(h Hit) bool { return h.Score < o.MinScore })
	}
	if len(hits) > o.TopK {
		hits = hits[:o.TopK]
	}
	for i := range hits {
		hits[i].vector = nil
	}
	return hits, nil
}

// mmrKeep is how many hits MMR picks: TopK, or the whole depth when a
// reranker will choose among them or they will be collapsed afterwards.
func mmrKeep(later bool, topK, depth, n int) int {
	if later {
		return min(depth, n)
	}
	return min(topK, n)
}

func hitsOf(res []store.Result) []Hit {
	hits := make([]Hit, len(res))
	for i, r := range res {
		hits[i] = hitOf(r)
	}
	return hits
}

// fuse merges the vector and lexical candidates by o.Fusion, best first,
// ties broken by record ID.
func fuse(vres, lres []store.Result, o *SearchOptions) []Hit {
	byID := make(map[string]store.Result, len(vres)+len(lres))
	for _, r := range lres {
		byID[r.ID] = r
	}
	for _, r := range vres { // the vector side's records carry vectors
		byID[r.ID] = r
	}
	fused := rank.Hybrid(scoredOf(vres), scoredOf(lres), rank.HybridParams{Method: o.Fusion.method(), RRFK: o.RRFK, VectorWeight: o.VectorWeight})
	hits := make([]Hit, len(fused))
	for i, f := range fused {
		hits[i] = hitOf(byID[f.ID])
		hits[i].Score = f.Score
	}
	return hits
}

// method is f's fusion in package rank, which the tuner replays.
func (f Fusion) method() rank.Method {
	switch f {
	case RRF:
		return rank.MethodRRF
	case WeightedScores:
		return rank.MethodWeighted
	}
	return rank.MethodAgreement
}

// fusionOf is the Fusion of m.
func fusionOf(m rank.Method) Fusion {
	switch m {
	case rank.MethodRRF:
		return RRF
	case rank.MethodWeighted:
		return WeightedScores
	}
	return AgreementFusion
}

// collapseDocuments keeps the best hit of each document, scored by how,
// best first; documents of equal score keep the order of their best hits.
func collapseDocuments(hits []Hit, how DocumentScore) []Hit {
	items := make([]rank.Scored, len(hits))
	docs := make([]string, len(hits))
	for i, h := range hits {
		items[i], docs[i] = rank.Scored{ID: h.ID, Score: h.Score}, h.DocID
	}
	agg := rank.Max
	if how == DocumentSum {
		agg = rank.Sum
	}
	groups := rank.Collapse(items, docs, agg)
	out := make([]Hit, len(groups))
	for i, g := range groups {
		out[i] = hits[g.Best]
		out[i].Score = g.Score
	}
	return out
}

// TuneFusion chooses how hybrid search fuses its two sides on this
// pipeline's documents, from labelled queries: qrels names, for each
// query, its relevant document IDs (BEIR-style judgements; a grade above 0
// is relevant). It runs a vector and a lexical search for each query once
// (no reranker), scores every setting of opts' grid by nDCG@10 of the
// documents on a training split, checks the choice on the queries held
// out, and returns it as the hybrid part of SearchOptions (Mode, Fusion,
// RRFK, VectorWeight, Depth) to keep and reuse, with tune's full report.
// Depth is honoured by searches whose TopK is at most Depth.
//
// It fails with ErrNoLexical without a lexical side, with the errors of
// tune.Tune (tune.ErrTooFewQueries, tune.ErrInvalidOptions), or with the
// first search error.
func (p *Pipeline) TuneFusion(ctx context.Context, queries []eval.Query, qrels eval.Qrels, opts *tune.Options) (*SearchOptions, *tune.Result, error) {
	if p.own.textSearcher() == nil {
		return nil, nil, ErrNoLexical
	}
	side := func(mode SearchMode) tune.Retriever {
		return func(ctx context.Context, query string, k int) ([]tune.Hit, error) {
			hits, err := p.Search(ctx, query, &SearchOptions{Mode: mode, TopK: k, NoRerank: true})
			if err != nil {
				return nil, err
			}
			out := make([]tune.Hit, len(hits))
			for i, h := range hits {
				out[i] = tune.Hit{ID: h.ID, DocID: h.DocID, Score: h.Score}
			}
			return out, nil
		}
	}
	res, err := tune.Tune(ctx, queries, qrels, side(VectorSearch), side(LexicalSearch), opts)
	if err != nil {
		return nil, nil, err
	}
	s := res.Best.Setting
	return &SearchOptions{Mode: HybridSearch, Fusion: fusionOf(s.Method), RRFK: s.RRFK, VectorWeight: s.VectorWeight, Depth: s.Depth}, res, nil
}

func scoredOf(res []store.Result) []rank.Scored {
	s := make([]rank.Scored, len(res))
	for i, r := range res {
		s[i] = rank.Scored{ID: r.ID, Score: float64(r.Score)}
	}
	return s
}

// diversify reorders hits by MMR and keeps k of them. Candidates without a
// vector (lexical hits) are embedded, from the cache when it has them.
func (sc *scope) diversify(ctx context.Context, mode SearchMode, qvec []float32, hits []Hit, lambda float64, k int) ([]Hit, error) {
	var missing []int
	var texts []string
	for i, h := range hits {
		if len(h.vector) == 0 {
			missing = append(missing, i)
			texts = append(texts, h.Text)
		}
	}
	if len(texts) > 0 {
		vecs, err := sc.embedTexts(ctx, texts)
		if err != nil {
			return nil, fmt.Errorf("rag: embedding candidates for MMR: %w", err)
		}
		for j, i := range missing {
			hits[i].vector = vecs[j]
		}
	}
	cands := make([][]float32, len(hits))
	for i, h := range hits {
		cands[i] = h.vector
	}
	// Relevance is the cosine with the query for vector search, and the
	// score that ranked the candidates (BM25, fused) otherwise.
	var order []int
	var err error
	if mode == VectorSearch {
		order, err = rank.MMR(qvec, cands, lambda, k)
	} else {
		rel := make([]float64, len(hits))
		for i, h := range hits {
			rel[i] = h.Score
		}
		order, err = rank.MMRWithRelevance(rel, cands, lambda, k)
	}
	if err != nil {
		return nil, fmt.Errorf("rag: MMR: %w", err)
	}
	out := make([]Hit, len(order))
	for i, j := range order {
		out[i] = hits[j]
	}
	return out, nil
}

// embedTexts embeds texts with the pipeline's retry policy, taking what it
// can from the ingestion cache.
func (sc *scope) embedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	p := sc.p
	out := make([][]float32, len(texts))
	var todo []string
	var at []int
	cache := p.ingest.Cache
	for i, t := range texts {
		if cache != nil {
			if v, ok := cache.Get(ctx, embed.CacheKey(sc.cacheModel(), t)); ok {
				out[i] = v
				continue
			}
		}
		todo = append(todo, t)
		at = append(at, i)
	}
	if len(todo) == 0 {
		return out, nil
	}
	tokens := 0
	for _, t := range todo {
		tokens += p.ingest.Tokenizer.Count(t)
	}
	vecs, _, err := p.embedding.Embed(ctx, todo, tokens, false)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = vecs[j]
	}
	return out, nil
}

func hitOf(r store.Result) Hit {
	headings, _ := r.Metadata[MetaHeadings].([]string)
	spanKind, _ := r.Metadata[MetaSpanKind].(string)
	spanLabel, _ := r.Metadata[MetaSpanLabel].(string)
	return Hit{
		Headings: headings, SpanKind: spanKind, SpanLabel: spanLabel,
		ID: r.ID, DocID: r.DocID, Title: r.Title, Source: r.Source, Tags: r.Tags, Metadata: r.Metadata,
		Chunk: r.Chunk, Start: r.Start, End: r.End, Text: r.Text, Score: float64(r.Score),
		vector: r.Vector,
	}
}

// rerank reorders hits by the reranker's scores, best first (ties keep
// their vector order).
func (p *Pipeline) rerank(ctx context.Context, query string, hits []Hit) ([]Hit, error) {
	texts := make([]string, len(hits))
	for i, h := range hits {
		texts[i] = h.Text
	}
	prov, model := rerankerName(p.reranker)
	sctx, op := p.tel.Start(ctx, telemetry.OpRerank, prov, model, trace.SpanKindClient, true,
		telemetry.RerankDocuments.Int(len(texts)))
	scores, err := p.reranker.Rerank(sctx, query, texts)
	op.End(ctx, err)
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

// rerankerName returns the provider and model of a reranker that names
// itself (Name() string, "cohere:rerank-v3.5"), or the provider its type
// tells ("*rerank.Cohere" is "cohere") and no model.
func rerankerName(r rerank.Reranker) (providerName, model string) {
	if n, ok := r.(interface{ Name() string }); ok && n.Name() != "" {
		return telemetry.SplitName(n.Name())
	}
	t := fmt.Sprintf("%T", r)
	return strings.ToLower(t[strings.LastIndexByte(t, '.')+1:]), ""
}

// queryEmbedder embeds search queries: once for identical concurrent
// queries (singleflight), from a small cache for repeated ones, and with
// the pipeline's retry policy. Its cache and flights are shared by the
// pipeline's tenants, with keys of each tenant's own (see scope.ns): a
// tenant neither reads another's entries nor joins another's flights, and
// the cache stays bounded however many tenants there are.
type queryEmbedder struct {
	p     *Pipeline
	model string
	group singleflight.Group
	cache *embed.MemoryCache
}

// queryTimeout bounds a shared query embedding, which no caller's
// cancellation stops.
const queryTimeout = time.Minute

func newQueryEmbedder(p *Pipeline) *queryEmbedder {
	return &queryEmbedder{p: p, model: "query:" + p.model, cache: embed.NewMemoryCache(8 << 20)}
}

func (q *queryEmbedder) embed(ctx context.Context, ns, query string) ([]float32, error) {
	key := embed.CacheKey(q.model+ns, query)
	if v, ok := q.cache.Get(ctx, key); ok {
		return v, nil
	}
	ch := q.group.DoChan(key, func() (any, error) {
		// A flight that ended between the look-up above and this one has
		// cached the vector: use it rather than embed the query again.
		if v, ok := q.cache.Get(ctx, key); ok {
			return v, nil
		}
		// The call is shared: it must not fail because the first caller
		// gave up, so it runs without that caller's cancellation.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryTimeout)
		defer cancel()
		vecs, _, err := q.p.embedding.Embed(ctx, []string{query}, q.p.ingest.Tokenizer.Count(query), true)
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
