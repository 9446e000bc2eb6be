// Package evalcmd is the evaluation command that `rag eval` and
// cmd/rag-eval run: it evaluates retrieval configurations of the rag
// pipeline on a BEIR dataset and prints a table of nDCG@10, recall@100,
// MRR@10 and query latency.
//
//	rag eval                                  # SciFact from ../shared/data/scifact
//	rag eval -data path/to/beir/dataset -split test -modes bm25,hybrid
//	rag eval -vector char4                    # Hashing of character 4-grams, 4,096 dimensions
//
// Configurations (-modes): bm25 (lexical search alone), vector (the
// embedder alone), hybrid (both, fused by the default, agreement-weighted
// fusion), hybrid-rrf (reciprocal rank fusion), hybrid-w (weighted score
// fusion), hybrid-mmr (hybrid, then MMR), and tuned: the fusion
// Pipeline.TuneFusion learns on a part of the queries, which is then
// reported beside the others on the queries it held out (a second table).
// Every configuration returns documents (SearchOptions.Documents, max of
// the chunks' scores) from -depth candidates a side.
//
// The vector side (-vector) is the offline Hashing embedder on words
// ("words", 384 dimensions, the default) or with character 4-grams
// ("char4", 4,096 dimensions); -dims and -ngrams set other sizes. With
// -vector openai it is OpenAI's (needs OPENAI_API_KEY).
package evalcmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/rank"
	"github.com/ragkit-go/rag/tune"
)

// Run runs the command with the arguments args (without the command's
// name), printing the tables to w and flag errors to errOut.
func Run(ctx context.Context, name string, args []string, w, errOut io.Writer) error {
	flag := flag.NewFlagSet(name, flag.ContinueOnError)
	flag.SetOutput(errOut)
	data := flag.String("data", "../shared/data/scifact", "BEIR dataset directory")
	split := flag.String("split", "test", "qrels split")
	modes := flag.String("modes", "bm25,vector,hybrid,hybrid-rrf,hybrid-w,hybrid-mmr,tuned", "configurations to evaluate")
	vector := flag.String("vector", "words", "vector side: words, char4 or openai")
	dims := flag.Int("dims", 0, "Hashing dimensions (0: the -vector preset's)")
	ngrams := flag.Int("ngrams", -1, "Hashing character n-grams (-1: the -vector preset's)")
	k := flag.Int("k", 100, "documents retrieved per query")
	depth := flag.Int("depth", 200, "candidates each side fetches")
	holdOut := flag.Float64("holdout", 0.5, "fraction of the queries tuned held out")
	seed := flag.Uint64("seed", 1, "seed of the tuning split")
	depths := flag.String("tune-depths", "100,200,400", "candidate depths tuned")
	if err := flag.Parse(args); err != nil {
		return err
	}

	started := time.Now()
	ds, err := eval.LoadBEIR(*data, *split)
	if err != nil {
		return err
	}
	e, err := embedder(*vector, *dims, *ngrams)
	if err != nil {
		return err
	}
	p, err := rag.New(rag.Options{Embedder: e, Lexical: &rag.LexicalOptions{}})
	if err != nil {
		return err
	}
	docs := make([]rag.Document, len(ds.Corpus))
	for i, d := range ds.Corpus {
		// Title and text in one field, as BEIR's BM25 baseline does.
		docs[i] = rag.Document{ID: d.ID, Title: d.Title, Content: strings.TrimSpace(d.Title + "\n" + d.Text)}
	}
	start := time.Now()
	rep, err := p.Ingest(ctx, docs...)
	if err != nil {
		return err
	}
	model := "unnamed"
	if n, ok := e.(embed.Namer); ok {
		model = n.Name()
	}
	fmt.Fprintf(w, "%s: %d documents, %d chunks ingested in %v with %s; %d queries\n\n", *data, rep.Stored, rep.Chunks, time.Since(start).Round(time.Millisecond), model, len(ds.Queries))

	configs := map[string]rag.SearchOptions{
		"bm25":       {Mode: rag.LexicalSearch},
		"vector":     {Mode: rag.VectorSearch},
		"hybrid":     {Mode: rag.HybridSearch},
		"hybrid-rrf": {Mode: rag.HybridSearch, Fusion: rag.RRF},
		"hybrid-w":   {Mode: rag.HybridSearch, Fusion: rag.WeightedScores},
		"hybrid-mmr": {Mode: rag.HybridSearch, MMR: true, MMRLambda: new(0.9)},
	}
	var names []string
	tuned := false
	for _, n := range strings.Split(*modes, ",") {
		if n == "tuned" {
			tuned = true
			continue
		}
		if _, ok := configs[n]; !ok {
			return fmt.Errorf("unknown configuration %q", n)
		}
		names = append(names, n)
	}
	runs := map[string]eval.Run{}
	var reports []*eval.Report
	var lat []string
	for _, n := range names {
		o := configs[n]
		o.TopK, o.Depth, o.Documents = *k, *depth, rag.DocumentMax
		run, times, err := search(ctx, p, ds.Queries, &o)
		if err != nil {
			return err
		}
		runs[n] = run
		reports = append(reports, eval.Evaluate(n, ds.Qrels, run, metrics()...))
		lat = append(lat, fmt.Sprintf("| %s | %v | %v |", n, times[len(times)/2].Round(time.Microsecond), times[len(times)*95/100].Round(time.Microsecond)))
	}
	if len(reports) > 0 {
		fmt.Fprintf(w, "All %d queries:\n\n%s\n", len(ds.Queries), eval.Table(reports...))
	}
	if tuned {
		if err := tuneFusion(ctx, w, p, ds, runs, names, *k, *depth, *holdOut, *seed, *depths); err != nil {
			return err
		}
	}
	if len(lat) > 0 {
		fmt.Fprintln(w, "| configuration | query p50 | query p95 |")
		fmt.Fprintln(w, "|---|---:|---:|")
		for _, l := range lat {
			fmt.Fprintln(w, l)
		}
	}
	fmt.Fprintf(w, "\nelapsed %v\n", time.Since(started).Round(time.Millisecond))
	return nil
}

func metrics() []eval.Metric { return []eval.Metric{eval.NDCG(10), eval.Recall(100), eval.MRR(10)} }

func embedder(preset string, dims, ngrams int) (embed.Embedder, error) {
	var o embed.HashingOptions
	switch preset {
	case "words":
	case "char4":
		o = embed.HashingOptions{Dimensions: 4096, CharNGrams: 4}
	case "openai":
		return embed.OpenAIFromEnv(embed.OpenAIOptions{})
	default:
		return nil, fmt.Errorf("unknown -vector %q (want words, char4 or openai)", preset)
	}
	if dims > 0 {
		o.Dimensions = dims
	}
	if ngrams >= 0 {
		o.CharNGrams = ngrams
	}
	return embed.NewHashing(o), nil
}

// search runs every query with o and returns the document rankings and
// the query times, sorted.
func search(ctx context.Context, p *rag.Pipeline, qs []eval.Query, o *rag.SearchOptions) (eval.Run, []time.Duration, error) {
	run := eval.Run{}
	var times []time.Duration
	for _, q := range qs {
		t0 := time.Now()
		hits, err := p.Search(ctx, q.Text, o)
		times = append(times, time.Since(t0))
		if err != nil {
			return nil, nil, err
		}
		ranked := make([]string, len(hits))
		for i, h := range hits {
			ranked[i] = h.DocID
		}
		run[q.ID] = ranked
	}
	slices.Sort(times)
	return run, times, nil
}

// tuneFusion learns the fusion on a part of the queries and prints every
// configuration's scores and the learned one's on the held-out part.
func tuneFusion(ctx context.Context, w io.Writer, p *rag.Pipeline, ds *eval.Dataset, runs map[string]eval.Run, names []string, k, depth int, holdOut float64, seed uint64, depths string) error {
	var tried []int
	for _, f := range strings.Split(depths, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("-tune-depths: %w", err)
		}
		tried = append(tried, d)
	}
	// The baseline is the "hybrid" configuration: the default fusion.
	baseline := tune.Setting{HybridParams: rank.HybridParams{Method: rank.MethodAgreement, RRFK: rank.DefaultRRFK, VectorWeight: rank.DefaultAgreementWeight}, Depth: depth}
	t0 := time.Now()
	opts, res, err := p.TuneFusion(ctx, ds.Queries, ds.Qrels, &tune.Options{Depths: tried, HoldOut: holdOut, Seed: seed, Baseline: &baseline})
	if err != nil {
		return err
	}
	took := time.Since(t0)
	held := eval.Qrels{}
	var heldQs []eval.Query
	for _, q := range ds.Queries {
		if slices.Contains(res.HeldOut, q.ID) {
			held[q.ID] = ds.Qrels[q.ID]
			heldQs = append(heldQs, q)
		}
	}
	var reports []*eval.Report
	for _, n := range names {
		reports = append(reports, eval.Evaluate(n, held, runs[n], metrics()...))
	}
	o := *opts
	o.TopK, o.Documents = k, rag.DocumentMax
	run, _, err := search(ctx, p, heldQs, &o)
	if err != nil {
		return err
	}
	label := "tuned (" + res.Best.Setting.String() + ")"
	reports = append(reports, eval.Evaluate(label, held, run, metrics()...))
	fmt.Fprintf(w, "Tuned in %v on %d queries (seed %d): chose %v, nDCG@10 %.4f on them (the default: %.4f)", took.Round(time.Millisecond), len(res.Train), seed, res.Chosen.Setting, res.Chosen.Train, res.Baseline.Train)
	if res.FellBack {
		fmt.Fprintf(w, "; it scored %.4f on the held-out queries, below the default's %.4f, so the default is kept", res.Chosen.HeldOut, res.Baseline.HeldOut)
	}
	fmt.Fprintf(w, ".\nThe %d held-out queries (the tuner's own replay: %.4f):\n\n%s\n", len(res.HeldOut), res.Best.HeldOut, eval.Table(reports...))
	return nil
}
