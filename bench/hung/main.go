// Command hung measures what hung requests cost an ingestion at default
// options: the wall time of one Ingest against openaitest.Server with no
// faults, and with a fraction of requests (1% by default) that are never
// answered, each run -runs times (with a different fault seed each), and
// the median of each. It prints a Markdown table.
//
//	go run ./bench/hung                        # 100,000 texts, 200 ms, 1% hung, 3 runs
//	go run ./bench/hung -texts 20000 -hang 0.02
//
// The server runs in the same process; the measure is wall time only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

var (
	nTexts  = flag.Int("texts", 100_000, "texts to ingest (one chunk each)")
	latency = flag.Duration("latency", 200*time.Millisecond, "server latency per request")
	dims    = flag.Int("dims", 256, "vector dimensions")
	hang    = flag.Float64("hang", 0.01, "fraction of requests never answered")
	runs    = flag.Int("runs", 3, "runs of each case; the median is reported")
)

func main() {
	flag.Parse()
	texts := make([]rag.Document, *nTexts)
	for i := range texts {
		texts[i] = rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprintf("passage %d about topic %d and the finding %d of study %d", i, i%97, i%13, i/7)}
	}
	fmt.Printf("hung-request benchmark: %d texts, %v latency, %d dimensions, default options\n\n", len(texts), *latency, *dims)
	fmt.Println("| hung | run | seconds | requests | hung requests | retries |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	med := map[float64]float64{}
	for _, rate := range []float64{0, *hang} {
		var secs []float64
		for r := range *runs {
			s, st := run(texts, rate, uint64(r+1))
			secs = append(secs, s)
			fmt.Printf("| %.1f%% | %d | %.2f | %d | %d | %d |\n", rate*100, r+1, s, st.requests, st.hung, st.retries)
		}
		slices.Sort(secs)
		med[rate] = secs[len(secs)/2]
	}
	fmt.Printf("\nmedian without hung requests: %.2f s; with %.1f%% hung: %.2f s (%+.0f%%)\n",
		med[0], *hang*100, med[*hang], 100*(med[*hang]/med[0]-1))
}

type stats struct{ requests, hung, retries int }

func run(docs []rag.Document, rate float64, seed uint64) (float64, stats) {
	srv := openaitest.NewServer(openaitest.Options{Latency: *latency, TimeoutRate: rate, Seed: seed})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}, Dimensions: *dims})
	p, err := rag.New(rag.Options{
		Embedder: e,
		Chunker: chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
			return []chunk.Chunk{{Text: text, End: len(text)}}, nil
		}),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	rep, err := p.Ingest(context.Background(), docs...)
	secs := time.Since(start).Seconds()
	if err != nil {
		log.Fatal(err)
	}
	st := stats{requests: rep.Requests, retries: rep.Retries}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Fault, "timeout") {
			st.hung++
		}
	}
	return secs, st
}
