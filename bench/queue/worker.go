package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/queue"
	"github.com/ragkit-go/rag/tokenizer"
)

// profile is how a pipeline is set up, the same in the workers and in
// the direct Ingest it is compared with.
type profile struct {
	Batch, Concurrency int
	Budget             int           // shared tokens per minute; 0: none
	LocalTPM           int           // this process's own tokens per minute; 0: none
	Jobs               int           // jobs a worker process holds at once
	JobTimeout         time.Duration // of one attempt; 0: 10s (a killed worker's jobs are rescued 2s after it)
}

func (p profile) args() []string {
	return []string{"-batch", fmt.Sprint(p.Batch), "-concurrency", fmt.Sprint(p.Concurrency),
		"-budget", fmt.Sprint(p.Budget), "-local-tpm", fmt.Sprint(p.LocalTPM), "-jobs", fmt.Sprint(p.Jobs), "-job-timeout", p.JobTimeout.String()}
}

// paragraphs cuts documents at their blank lines, into chunks of at most
// 200 characters (runes are the tokens, as the fake provider counts them
// too): each paragraph of the corpus is one chunk, or two short ones are.
var paragraphs = chunk.NewRecursive(chunk.RecursiveOptions{
	Size: 200, Overlap: -1, Tokenizer: tokenizer.Runes(), Separators: []string{"\n\n"},
})

// runes counts tokens as paragraphs does.
func runes(s string) int { return utf8.RuneCountInString(s) }

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
	fl.DurationVar(&p.JobTimeout, "job-timeout", 10*time.Second, "timeout of one attempt")
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
		Ingester: stream, Workers: p.Jobs, JobTimeout: p.JobTimeout, RescueAfter: p.JobTimeout + 2*time.Second,
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
