package main

import (
	"context"
	"fmt"
	"os"
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
	// Each process holds 20 jobs, so that none waits for the budget
	// longer than its timeout. Enough documents for about the given time at the limit: about 370
	// tokens (runes) a document on average (3 paragraphs of 20 words).
	n := tpm / 60 * seconds / 370
	fmt.Printf("\n### Shared budget: 3 worker processes, provider limit %d tokens/minute (429 beyond it), %d documents\n\n", tpm, n)
	fmt.Println("| budget | time | tokens accepted | budget used (accepted / (limit × time + the provider's bucket at the start)) | requests | answered 429 |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range []struct {
		name string
		prof profile
	}{
		{"one queue.Budget shared in Postgres", profile{Batch: 16, Concurrency: 4, Jobs: 20, JobTimeout: time.Minute, Budget: tpm}},
		{"none shared: each process limited to the whole limit locally", profile{Batch: 16, Concurrency: 4, Jobs: 20, JobTimeout: time.Minute, LocalTPM: tpm}},
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
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 64, Latency: 50 * time.Millisecond, CountTokens: runes, TokensPerMinute: tpm})
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
	// What the provider allowed in that time: what its bucket held at the
	// start (a tenth of a minute's worth, after drain) and its refill.
	allowed := float64(tpm)/10 + float64(tpm)*elapsed.Minutes()
	used := float64(tokens) / allowed
	if os.Getenv("BENCH_TIMELINE") != "" {
		for _, r := range srv.Requests() {
			if r.Time.After(start) {
				fmt.Fprintf(os.Stderr, "%6.2fs %d tokens status %d\n", r.Time.Sub(start).Seconds(), r.Tokens, r.Status)
			}
		}
	}
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
		texts = append(texts, strings.Repeat("a", k))
		left -= k
	}
	_, err := e.Embed(ctx, texts)
	return err
}
