package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/queue"
)

// profile is how a pipeline is set up, the same in the workers and in
// the direct Ingest it is compared with.
type profile struct {
	Batch, Concurrency int
	Budget             int // shared tokens per minute; 0: none
	LocalTPM           int // this process's own tokens per minute; 0: none
	Jobs               int // jobs a worker process holds at once
}

func (p profile) args() []string {
	return []string{"-batch", fmt.Sprint(p.Batch), "-concurrency", fmt.Sprint(p.Concurrency),
		"-budget", fmt.Sprint(p.Budget), "-local-tpm", fmt.Sprint(p.LocalTPM), "-jobs", fmt.Sprint(p.Jobs)}
}

// paragraphs makes one chunk of each paragraph, its tokens its words (the
// fake provider counts tokens the same way).
var paragraphs = chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
	var out []chunk.Chunk
	start := 0
	for start < len(text) {
		end := strings.Index(text[start:], "\n\n")
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		if s := strings.TrimSpace(text[start:end]); s != "" {
			out = append(out, chunk.Chunk{Text: text[start:end], Index: len(out), Start: start, End: end, Tokens: len(strings.Fields(s))})
		}
		start = end + 2
	}
	return out, nil
})

func words(s string) int { return len(strings.Fields(s)) }

func newPipeline(pool *pgxpool.Pool, embedURL string, p profile) (*rag.Pipeline, error) {
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: embedURL, APIKey: "test"}, Dimensions: 64})
	o := rag.Options{
		Embedder: e, Store: &pgStore{pool: pool}, Chunker: paragraphs,
		Logger: slog.New(slog.DiscardHandler),
	}
	o.Ingest.BatchSize, o.Ingest.Concurrency = p.Batch, p.Concurrency
	o.Ingest.TokensPerMinute = p.LocalTPM
	o.Ingest.NoCache = true
	if p.Budget > 0 {
		o.Ingest.SharedBudget = queue.NewBudget(pool, queue.BudgetOptions{Name: "bench", TokensPerMinute: p.Budget, MaxRequestTokens: 20 * p.Batch})
	}
	return rag.New(o)
}

// runWorker is a worker process: it works jobs until SIGTERM (then stops
// cleanly) or SIGKILL. It prints "ready" once River's client has started.
func runWorker(args []string) error {
	fl := flag.NewFlagSet("worker", flag.ExitOnError)
	dsn := fl.String("dsn", "", "database")
	embedURL := fl.String("embed", "", "fake provider URL")
	var p profile
	fl.IntVar(&p.Batch, "batch", 256, "texts per embedding request")
	fl.IntVar(&p.Concurrency, "concurrency", 8, "embedding requests in flight")
	fl.IntVar(&p.Budget, "budget", 0, "shared tokens per minute")
	fl.IntVar(&p.LocalTPM, "local-tpm", 0, "this process's own tokens per minute")
	fl.IntVar(&p.Jobs, "jobs", 200, "jobs held at once")
	fl.Parse(args) //nolint:errcheck // ExitOnError
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		return err
	}
	// River's listener, fetches and completions, the jobs' claims and
	// outcomes, and the store's writes share it.
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	pl, err := newPipeline(pool, *embedURL, p)
	if err != nil {
		return err
	}
	stream := pl.Stream(context.Background())
	q, err := queue.New(pool, queue.Options{
		Ingester: stream, Workers: p.Jobs, JobTimeout: 10 * time.Second, RescueAfter: 12 * time.Second,
		PollInterval: 200 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return err
	}
	if err := q.Start(context.Background()); err != nil {
		return err
	}
	fmt.Println("ready")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		return err
	}
	return stream.Close()
}
