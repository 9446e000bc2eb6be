package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/queue"
)

// budget runs 3 worker processes against a provider limited to tpm
// tokens a minute, with one queue.Budget shared through Postgres, and
// without (each process given the whole limit, as three replicas
// configured alike would be).
func (b *bench) budget(seconds int) error {
	const tpm = 120_000
	// Enough documents for about the given time at the limit: 60 tokens
	// (words) a document on average (3 paragraphs of 20).
	n := tpm / 60 * seconds / 63
	fmt.Printf("\n### Shared budget: 3 worker processes, provider limit %d tokens/minute (429 beyond it), %d documents\n\n", tpm, n)
	fmt.Println("| budget | time | tokens accepted | budget used (accepted / limit × time) | requests | answered 429 |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range []struct {
		name string
		prof profile
	}{
		{"one queue.Budget shared in Postgres", profile{Batch: 16, Concurrency: 4, Jobs: 100, Budget: tpm}},
		{"none shared: each process limited to the whole limit locally", profile{Batch: 16, Concurrency: 4, Jobs: 100, LocalTPM: tpm}},
	} {
		if err := b.budgetRun(c.name, n, tpm, c.prof); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) budgetRun(name string, n, tpm int, prof profile) error {
	ctx := context.Background()
	dsn, pool, drop, err := b.database(ctx)
	if err != nil {
		return err
	}
	defer drop()
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 64, Latency: 50 * time.Millisecond, CountTokens: words, TokensPerMinute: tpm})
	defer srv.Close()
	// The provider's bucket starts full, with a minute's allowance:
	// drain it first, so the run measures the steady limit.
	q, err := queue.New(pool, queue.Options{})
	if err != nil {
		return err
	}
	if err := drain(ctx, srv, tpm); err != nil {
		return err
	}
	before := srv.Stats()
	var workers []*worker
	defer func() {
		for _, w := range workers {
			w.stop() //nolint:errcheck // measured already
		}
	}()
	for range 3 {
		w, err := startWorker(dsn, srv.URL(), prof)
		if err != nil {
			return err
		}
		workers = append(workers, w)
	}
	docs, _ := corpus("budget", n)
	start := time.Now()
	if err := enqueue(ctx, q, docs); err != nil {
		return err
	}
	if _, err := waitFinal(ctx, q, n, 10*time.Minute); err != nil {
		return err
	}
	elapsed := time.Since(start)
	st := srv.Stats()
	tokens := st.Tokens - before.Tokens
	reqs := st.EmbedRequests - before.EmbedRequests
	refused := st.Status[429] - before.Status[429]
	used := float64(tokens) / (float64(tpm) * elapsed.Minutes())
	fmt.Printf("| %s | %.1fs | %d | %.0f%% | %d | %d (%.1f%%) |\n", name, elapsed.Seconds(), tokens, 100*used, reqs, refused, 100*float64(refused)/float64(max(reqs, 1)))
	return nil
}

// drain spends the provider's bucket down to a tenth of a minute's worth
// (what a shared Budget's own bucket holds): the steady state of a
// provider that has been busy, rather than one with a whole minute's
// allowance saved up.
func drain(ctx context.Context, srv *openaitest.Server, tpm int) error {
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "test"}, Dimensions: 64})
	left := tpm - tpm/10
	var texts []string
	for left > 0 {
		k := min(left, 8000)
		texts = append(texts, strings.TrimSpace(strings.Repeat("a ", k)))
		left -= k
	}
	_, err := e.Embed(ctx, texts)
	return err
}
