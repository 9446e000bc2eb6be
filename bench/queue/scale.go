package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/queue"
)

// latencyBound is a profile where the provider's latency is the limit: 2
// requests of 16 texts in flight per process.
var latencyBound = profile{Batch: 16, Concurrency: 2, Jobs: 40}

// throughQueue times k worker processes on n documents: from the commit
// of their jobs to the last final status. It returns documents a second.
func (b *bench) throughQueue(k, n int, latency time.Duration, prof profile) (float64, error) {
	ctx := context.Background()
	dsn, pool, drop, err := b.database(ctx)
	if err != nil {
		return 0, err
	}
	defer drop()
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 64, Latency: latency, CountTokens: runes})
	defer srv.Close()
	q, err := queue.New(pool, queue.Options{})
	if err != nil {
		return 0, err
	}
	var workers []*worker
	defer func() {
		for _, w := range workers {
			w.stop() //nolint:errcheck // measured already
		}
	}()
	for range k {
		w, err := startWorker(dsn, srv.URL(), prof)
		if err != nil {
			return 0, err
		}
		workers = append(workers, w)
	}
	docs, _ := corpus("scale", n)
	items := make([]queue.Item, len(docs))
	for i, d := range docs {
		items[i] = queue.Item{Document: d}
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := q.EnqueueTx(ctx, tx, items...); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	c, err := waitFinal(ctx, q, n, 10*time.Minute)
	if err != nil {
		return 0, err
	}
	if c.Stored != n {
		return 0, fmt.Errorf("counts %+v; want %d stored", c, n)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func (b *bench) scale(n int) error {
	fmt.Printf("\n### Scale: %d documents (1-5 chunks each), provider latency 400 ms, per process %d requests of up to %d texts in flight\n\n", n, latencyBound.Concurrency, latencyBound.Batch)
	fmt.Println("| worker processes | documents/s | × one process |")
	fmt.Println("|---|---|---|")
	var one float64
	for k := 1; k <= 3; k++ {
		r, err := b.throughQueue(k, n, 400*time.Millisecond, latencyBound)
		if err != nil {
			return err
		}
		if k == 1 {
			one = r
		}
		fmt.Printf("| %d | %.1f | %.2f |\n", k, r, r/one)
	}
	return nil
}

// direct times one Ingest of the same documents in this process.
func (b *bench) direct(n int, latency time.Duration, prof profile) (float64, error) {
	ctx := context.Background()
	_, pool, drop, err := b.database(ctx)
	if err != nil {
		return 0, err
	}
	defer drop()
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 64, Latency: latency, CountTokens: runes})
	defer srv.Close()
	p, err := newPipeline(pool, srv.URL(), prof)
	if err != nil {
		return 0, err
	}
	docs, _ := corpus("scale", n)
	start := time.Now()
	rep, err := p.Ingest(ctx, docs...)
	if err != nil {
		return 0, err
	}
	if rep.Stored != n {
		return 0, fmt.Errorf("stored %d of %d", rep.Stored, n)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func (b *bench) overhead(n int, which string) error {
	fmt.Printf("\n### Overhead: one process, %d documents, through the queue against a direct Ingest\n\n", n)
	fmt.Println("| provider | direct Ingest, documents/s | one worker process through the queue, documents/s | queue / direct |")
	fmt.Println("|---|---|---|---|")
	for _, c := range []struct {
		key, name string
		latency   time.Duration
		prof      profile
	}{
		{"latency", "400 ms, 2 × 16 texts in flight", 400 * time.Millisecond, latencyBound},
		{"cpu", "20 ms, 8 × 256 texts in flight", 20 * time.Millisecond, profile{Batch: 256, Concurrency: 8, Jobs: 1000}},
	} {
		if !strings.Contains(which, c.key) {
			continue
		}
		d, err := b.direct(n, c.latency, c.prof)
		if err != nil {
			return err
		}
		qr, err := b.throughQueue(1, n, c.latency, c.prof)
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %.1f | %.1f | %.2f |\n", c.name, d, qr, qr/d)
	}
	return nil
}
