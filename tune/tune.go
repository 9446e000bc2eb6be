// Package tune chooses how hybrid search fuses its two sides, from a few
// labelled queries.
//
// Which fusion is best depends on the embedder: with a strong embedding
// model reciprocal rank fusion usually helps, with a weak one it drags the
// result below lexical search alone. Tune measures instead of guessing: it
// runs the vector and the lexical retrieval once per labelled query, at
// the deepest candidate depth it will try, replays every setting of a grid
// (method, RRF k, vector weight, candidate depth) on those lists with the
// same fusion the pipeline uses (rank.Hybrid), and keeps the setting with
// the best score (nDCG@10 by default) on a training split of the queries.
// The queries it held out score the choice without having chosen it; if
// the choice does worse there than the baseline (the library's default
// fusion), Tune falls back to the baseline rather than keep a setting that
// only fitted the training queries.
//
// A Setting maps field for field onto the hybrid options of a search
// (rag.SearchOptions' Fusion, RRFK, VectorWeight, Depth), and
// rag.Pipeline.TuneFusion returns it as such.
//
// Tune depends only on two functions that run the retrievals, so it works
// with any retriever; scores and rankings are deterministic for
// deterministic retrievers.
package tune

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/rank"
)

// Hit is one retrieved item: a chunk, say, of a document.
type Hit struct {
	ID    string  // the item's ID, the key of fusion
	DocID string  // the document it belongs to, the unit of judgement
	Score float64 // higher is better
}

// Retriever returns up to k items for query, best first. Tune calls it
// concurrently (up to Options.Concurrency calls at once) and does not
// modify or keep the slice beyond the Tune call.
type Retriever func(ctx context.Context, query string, k int) ([]Hit, error)

// Setting is a hybrid fusion and its parameters.
type Setting struct {
	rank.HybridParams
	// Depth is the number of candidates each side contributes.
	Depth int
}

// String describes the setting, such as "weighted w=0.30 depth=100".
func (s Setting) String() string {
	out := s.Method.String()
	switch s.Method {
	case rank.MethodRRF:
		out += " k=" + strconv.Itoa(s.RRFK)
	default:
		out += " w=" + strconv.FormatFloat(s.VectorWeight, 'f', 2, 64)
	}
	return out + " depth=" + strconv.Itoa(s.Depth)
}

// Options configure Tune. The zero value works: every method, the grids
// below, a third of the queries held out.
type Options struct {
	// Methods to try. Default: all three.
	Methods []rank.Method
	// RRFKs are the k values tried for RRF. Default: 5, 10, 20, 40, 60, 100.
	RRFKs []int
	// Weights are the vector weights tried for weighted and agreement
	// fusion, each in (0, 1]. Default: 0.1, 0.2, ..., 0.9.
	Weights []float64
	// Depths are the candidate depths tried. Default: 50, 100, 200.
	Depths []int
	// Baseline is the setting the choice must beat on held-out queries.
	// Default: agreement fusion at the default weight, at the middle of
	// Depths.
	Baseline *Setting
	// HoldOut is the fraction of queries held out, in (0, 1); at least one
	// query is held out and at least one trains. Default: 1/3.
	HoldOut float64
	// Seed selects the split; the same seed and queries give the same
	// split.
	Seed uint64
	// Metric is what the choice maximises. Default: eval.NDCG(10).
	Metric *eval.Metric
	// Concurrency bounds the retrievals running at once. Default: 4.
	Concurrency int
}

// Trial is a setting with its mean Metric over the training and the
// held-out queries.
type Trial struct {
	Setting        Setting
	Train, HeldOut float64
}

// Result is what Tune found.
type Result struct {
	// Best is the setting to use: Chosen, or Baseline when FellBack.
	Best Trial
	// Chosen is the setting with the best training score (the first in
	// grid order among equals).
	Chosen Trial
	// Baseline is Options.Baseline's trial.
	Baseline Trial
	// FellBack reports that Chosen scored below Baseline on the held-out
	// queries, so Best is Baseline.
	FellBack bool
	// Vector and Lexical score each side alone, at the deepest depth
	// (their Setting holds only the depth).
	Vector, Lexical Trial
	// Trials are every setting tried, in grid order.
	Trials []Trial
	// Train and HeldOut are the IDs of the queries of each split, sorted.
	Train, HeldOut []string
	// Metric is the label of the metric, such as "nDCG@10".
	Metric string
}

// ErrTooFewQueries: Tune needs at least two labelled queries with a
// relevant document, one to train on and one to hold out.
var ErrTooFewQueries = errors.New("tune: fewer than two labelled queries with a relevant document")

// ErrInvalidOptions: an option is out of range.
var ErrInvalidOptions = errors.New("tune: invalid options")

// Tune chooses the hybrid fusion setting that maximises opts.Metric over
// the labelled queries (those of queries that qrels judges with at least
// one relevant document; qrels name documents, compared with Hit.DocID,
// and a document counts at its first item). It calls vector and lexical
// once per query with k the deepest depth, then replays every setting.
//
// It fails with ErrTooFewQueries, ErrInvalidOptions, or the first error of
// a retriever (wrapped, naming the query); retrievals still running are
// cancelled and waited for.
func Tune(ctx context.Context, queries []eval.Query, qrels eval.Qrels, vector, lexical Retriever, opts *Options) (*Result, error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	labelled, err := labelledQueries(queries, qrels)
	if err != nil {
		return nil, err
	}
	train, held := split(labelled, o.HoldOut, o.Seed)

	depth := slices.Max(o.Depths)
	depth = max(depth, o.Baseline.Depth)
	lists, err := retrieveAll(ctx, labelled, vector, lexical, depth, o.Concurrency)
	if err != nil {
		return nil, err
	}
	r := &Result{Train: ids(train), HeldOut: ids(held), Metric: o.Metric.String()}
	score := func(run func(l sides) []string) (float64, float64) {
		return mean(o.Metric, qrels, lists, train, run), mean(o.Metric, qrels, lists, held, run)
	}
	trial := func(s Setting) Trial {
		tr, ho := score(func(l sides) []string { return l.fuse(s) })
		return Trial{Setting: s, Train: tr, HeldOut: ho}
	}
	for _, s := range grid(o) {
		t := trial(s)
		r.Trials = append(r.Trials, t)
		if len(r.Trials) == 1 || t.Train > r.Chosen.Train {
			r.Chosen = t
		}
	}
	r.Baseline = trial(*o.Baseline)
	r.Best = r.Chosen
	if r.Chosen.HeldOut < r.Baseline.HeldOut {
		r.Best, r.FellBack = r.Baseline, true
	}
	alone := Setting{Depth: depth}
	r.Vector, r.Lexical = Trial{Setting: alone}, Trial{Setting: alone}
	r.Vector.Train, r.Vector.HeldOut = score(func(l sides) []string { return l.docs(l.vector) })
	r.Lexical.Train, r.Lexical.HeldOut = score(func(l sides) []string { return l.docs(l.lexical) })
	return r, nil
}

func withDefaults(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if len(o.Methods) == 0 {
		o.Methods = []rank.Method{rank.MethodAgreement, rank.MethodRRF, rank.MethodWeighted}
	}
	if len(o.RRFKs) == 0 {
		o.RRFKs = []int{5, 10, 20, 40, 60, 100}
	}
	if len(o.Weights) == 0 {
		o.Weights = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}
	}
	if len(o.Depths) == 0 {
		o.Depths = []int{50, 100, 200}
	}
	if o.HoldOut == 0 {
		o.HoldOut = 1.0 / 3
	}
	if o.Metric == nil {
		m := eval.NDCG(10)
		o.Metric = &m
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if !(o.HoldOut > 0 && o.HoldOut < 1) {
		return o, fmt.Errorf("%w: HoldOut %v is not in (0, 1)", ErrInvalidOptions, o.HoldOut)
	}
	for _, w := range o.Weights {
		if !(w > 0 && w <= 1) {
			return o, fmt.Errorf("%w: weight %v is not in (0, 1]", ErrInvalidOptions, w)
		}
	}
	for _, k := range o.RRFKs {
		if k <= 0 {
			return o, fmt.Errorf("%w: RRF k %d is not positive", ErrInvalidOptions, k)
		}
	}
	for _, d := range o.Depths {
		if d <= 0 {
			return o, fmt.Errorf("%w: depth %d is not positive", ErrInvalidOptions, d)
		}
	}
	for _, m := range o.Methods {
		if m < rank.MethodAgreement || m > rank.MethodWeighted {
			return o, fmt.Errorf("%w: unknown method %d", ErrInvalidOptions, m)
		}
	}
	if o.Baseline == nil {
		d := slices.Sorted(slices.Values(o.Depths))
		o.Baseline = &Setting{HybridParams: rank.HybridParams{Method: rank.MethodAgreement, RRFK: rank.DefaultRRFK, VectorWeight: rank.DefaultAgreementWeight}, Depth: d[len(d)/2]}
	} else if o.Baseline.Depth <= 0 {
		return o, fmt.Errorf("%w: the baseline's depth %d is not positive", ErrInvalidOptions, o.Baseline.Depth)
	}
	return o, nil
}

// grid lists the settings to try, method by method, depth by depth.
func grid(o Options) []Setting {
	var out []Setting
	for _, m := range o.Methods {
		for _, d := range o.Depths {
			p := rank.HybridParams{Method: m, RRFK: rank.DefaultRRFK, VectorWeight: rank.DefaultAgreementWeight}
			if m == rank.MethodRRF {
				for _, k := range o.RRFKs {
					p.RRFK = k
					out = append(out, Setting{HybridParams: p, Depth: d})
				}
				continue
			}
			for _, w := range o.Weights {
				p.VectorWeight = w
				out = append(out, Setting{HybridParams: p, Depth: d})
			}
		}
	}
	return out
}

// labelledQueries returns the queries with a relevant document, each once.
func labelledQueries(queries []eval.Query, qrels eval.Qrels) ([]eval.Query, error) {
	var out []eval.Query
	seen := map[string]bool{}
	for _, q := range queries {
		if !seen[q.ID] && hasRelevant(qrels[q.ID]) {
			seen[q.ID] = true
			out = append(out, q)
		}
	}
	if len(out) < 2 {
		return nil, ErrTooFewQueries
	}
	return out, nil
}

func hasRelevant(j eval.Judgements) bool {
	for _, g := range j {
		if g > 0 {
			return true
		}
	}
	return false
}

// split shuffles the queries, in ID order first so that the input order
// does not matter, and holds out a fraction of them.
func split(qs []eval.Query, holdOut float64, seed uint64) (train, held []eval.Query) {
	qs = slices.Clone(qs)
	slices.SortFunc(qs, func(a, b eval.Query) int { return strings.Compare(a.ID, b.ID) })
	rng := rand.New(rand.NewPCG(seed, 0x7475_6e65)) // "tune"
	rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	n := int(float64(len(qs))*holdOut + 0.5)
	n = min(max(n, 1), len(qs)-1)
	return qs[n:], qs[:n]
}

func ids(qs []eval.Query) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	slices.Sort(out)
	return out
}

// sides are the two retrievals of one query, and the document of each
// item.
type sides struct {
	vector, lexical []rank.Scored
	doc             map[string]string
}

func (l sides) fuse(s Setting) []string {
	v, x := l.vector[:min(s.Depth, len(l.vector))], l.lexical[:min(s.Depth, len(l.lexical))]
	return l.docs(rank.Hybrid(v, x, s.HybridParams))
}

// docs maps items to their documents, each at its first item.
func (l sides) docs(items []rank.Scored) []string {
	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		d := l.doc[it.ID]
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

func retrieveAll(ctx context.Context, qs []eval.Query, vector, lexical Retriever, k, limit int) (map[string]sides, error) {
	got := make([]sides, len(qs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, q := range qs {
		g.Go(func() error {
			v, err := vector(gctx, q.Text, k)
			if err != nil {
				return fmt.Errorf("tune: vector retrieval of query %q: %w", q.ID, err)
			}
			x, err := lexical(gctx, q.Text, k)
			if err != nil {
				return fmt.Errorf("tune: lexical retrieval of query %q: %w", q.ID, err)
			}
			l := sides{doc: make(map[string]string, len(v)+len(x))}
			l.vector, l.lexical = scored(v, k, l.doc), scored(x, k, l.doc)
			got[i] = l
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[string]sides, len(qs))
	for i, q := range qs {
		out[q.ID] = got[i]
	}
	return out, nil
}

func scored(hits []Hit, k int, doc map[string]string) []rank.Scored {
	hits = hits[:min(k, len(hits))]
	out := make([]rank.Scored, len(hits))
	for i, h := range hits {
		out[i] = rank.Scored{ID: h.ID, Score: h.Score}
		doc[h.ID] = h.DocID
	}
	return out
}

func mean(m *eval.Metric, qrels eval.Qrels, lists map[string]sides, qs []eval.Query, run func(sides) []string) float64 {
	if len(qs) == 0 {
		return 0
	}
	var sum float64
	for _, q := range qs {
		sum += m.Score(run(lists[q.ID]), qrels[q.ID])
	}
	return sum / float64(len(qs))
}

// Split returns the IDs of the training and held-out queries Tune would
// use for queries, qrels and opts (HoldOut and Seed), sorted: to score
// other systems on the same held-out queries.
func Split(queries []eval.Query, qrels eval.Qrels, opts *Options) (train, heldOut []string, err error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, nil, err
	}
	labelled, err := labelledQueries(queries, qrels)
	if err != nil {
		return nil, nil, err
	}
	tr, ho := split(labelled, o.HoldOut, o.Seed)
	return ids(tr), ids(ho), nil
}
