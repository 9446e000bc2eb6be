// Command rag-eval evaluates retrieval configurations of the rag pipeline
// on a BEIR dataset and prints a table of nDCG@10, recall@100, MRR@10 and
// query latency.
//
//	go run ./cmd/rag-eval                                  # SciFact from ../shared/data/scifact
//	go run ./cmd/rag-eval -data path/to/beir/dataset -split test -modes bm25,hybrid
//
// Configurations (-modes): bm25 (lexical search alone), vector (the
// embedder alone), hybrid (both, fused by reciprocal rank fusion), hybrid-w
// (weighted score fusion), hybrid-mmr (hybrid, then MMR). The embedder is
// the offline Hashing baseline unless OPENAI_API_KEY is set and -openai is
// given.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/provider"
)

func main() {
	data := flag.String("data", "../shared/data/scifact", "BEIR dataset directory")
	split := flag.String("split", "test", "qrels split")
	modes := flag.String("modes", "bm25,vector,hybrid,hybrid-w,hybrid-mmr", "configurations to evaluate")
	useOpenAI := flag.Bool("openai", false, "embed with OpenAI (needs OPENAI_API_KEY)")
	depth := flag.Int("k", 100, "hits retrieved per query")
	flag.Parse()

	ds, err := eval.LoadBEIR(*data, *split)
	if err != nil {
		log.Fatal(err)
	}
	var e embed.Embedder = embed.NewHashing(embed.HashingOptions{})
	if *useOpenAI {
		e = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: os.Getenv("OPENAI_API_KEY")}})
	}
	ctx := context.Background()
	p, err := rag.New(rag.Options{Embedder: e, Lexical: &rag.LexicalOptions{}})
	if err != nil {
		log.Fatal(err)
	}
	docs := make([]rag.Document, len(ds.Corpus))
	for i, d := range ds.Corpus {
		// Title and text in one field, as BEIR's BM25 baseline does.
		docs[i] = rag.Document{ID: d.ID, Title: d.Title, Content: strings.TrimSpace(d.Title + "\n" + d.Text)}
	}
	start := time.Now()
	rep, err := p.Ingest(ctx, docs...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d documents, %d chunks ingested in %v; %d queries\n\n", *data, rep.Stored, rep.Chunks, time.Since(start).Round(time.Millisecond), len(ds.Queries))

	configs := map[string]rag.SearchOptions{
		"bm25":       {Mode: rag.LexicalSearch},
		"vector":     {Mode: rag.VectorSearch},
		"hybrid":     {Mode: rag.HybridSearch},
		"hybrid-w":   {Mode: rag.HybridSearch, Fusion: rag.WeightedScores},
		"hybrid-mmr": {Mode: rag.HybridSearch, MMR: true, MMRLambda: 0.9},
	}
	var reports []*eval.Report
	var lat []string
	for _, name := range strings.Split(*modes, ",") {
		o, ok := configs[name]
		if !ok {
			log.Fatalf("unknown configuration %q", name)
		}
		// Fetch chunks until k distinct documents are found.
		o.TopK = *depth * 2
		o.Depth = o.TopK
		run := eval.Run{}
		var times []time.Duration
		for _, q := range ds.Queries {
			t0 := time.Now()
			hits, err := p.Search(ctx, q.Text, &o)
			times = append(times, time.Since(t0))
			if err != nil {
				log.Fatal(err)
			}
			var ranked []string
			seen := map[string]bool{}
			for _, h := range hits {
				if !seen[h.DocID] && len(ranked) < *depth {
					seen[h.DocID] = true
					ranked = append(ranked, h.DocID)
				}
			}
			run[q.ID] = ranked
		}
		r := eval.Evaluate(name, ds.Qrels, run, eval.NDCG(10), eval.Recall(100), eval.MRR(10))
		reports = append(reports, r)
		slices.Sort(times)
		lat = append(lat, fmt.Sprintf("| %s | %v | %v |", name, times[len(times)/2].Round(time.Microsecond), times[len(times)*95/100].Round(time.Microsecond)))
	}
	fmt.Println(eval.Table(reports...))
	fmt.Println("| configuration | query p50 | query p95 |")
	fmt.Println("|---|---:|---:|")
	for _, l := range lat {
		fmt.Println(l)
	}
}
