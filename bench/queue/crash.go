package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/queue"
)

// crash enqueues n documents in rounds; in each round one of 3 workers is
// SIGKILLed at a random moment and restarted. Then it checks every
// document.
func (b *bench) crash(n, rounds int) error {
	ctx := context.Background()
	dsn, pool, drop, err := b.database(ctx)
	if err != nil {
		return err
	}
	defer drop()
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 64, Latency: 100 * time.Millisecond, CountTokens: runes})
	defer srv.Close()
	prof := profile{Batch: 64, Concurrency: 4, Jobs: 200}
	q, err := queue.New(pool, queue.Options{})
	if err != nil {
		return err
	}
	docs, want := corpus("crash", n)
	workers := make([]*worker, 3)
	for i := range workers {
		if workers[i], err = startWorker(dsn, srv.URL(), prof); err != nil {
			return err
		}
	}
	defer func() {
		for _, w := range workers {
			w.kill()
		}
	}()
	start := time.Now()
	per := (n + rounds - 1) / rounds
	kills := 0
	for r := range rounds {
		lo, hi := min(r*per, n), min((r+1)*per, n)
		if err := enqueue(ctx, q, docs[lo:hi]); err != nil {
			return err
		}
		// A random moment while the round's documents are being worked:
		// once a random 10-90% of them are final.
		target := lo + int(float64(hi-lo)*(0.1+0.8*rand.Float64()))
		c, err := waitFinal(ctx, q, target, 10*time.Minute)
		if err != nil {
			return err
		}
		i := rand.IntN(len(workers))
		workers[i].kill()
		kills++
		fmt.Printf("round %d: killed worker %d with %d documents pending, %d running, %d final\n", r+1, i, c.Pending, c.Running, c.Stored+c.Unchanged+c.Failed)
		if workers[i], err = startWorker(dsn, srv.URL(), prof); err != nil {
			return err
		}
	}
	c, err := waitFinal(ctx, q, n, 10*time.Minute)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	for _, w := range workers {
		if err := w.stop(); err != nil {
			return fmt.Errorf("worker stop: %w", err)
		}
	}
	workers = nil

	// Check every document against the store and its status.
	type got struct{ rows, distinct, maxChunk int }
	inStore := map[string]got{}
	rows, err := pool.Query(ctx, `SELECT d.doc_id, count(c.seq), count(DISTINCT c.chunk), coalesce(max(c.chunk), -1)
		FROM bench_doc d LEFT JOIN bench_chunk c USING (doc_id) GROUP BY d.doc_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var g got
		if err := rows.Scan(&id, &g.rows, &g.distinct, &g.maxChunk); err != nil {
			return err
		}
		inStore[id] = g
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var orphans int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM bench_chunk c WHERE NOT EXISTS (SELECT 1 FROM bench_doc d WHERE d.doc_id = c.doc_id)`).Scan(&orphans); err != nil {
		return err
	}
	ids := make([]string, 0, n)
	for id := range want {
		ids = append(ids, id)
	}
	st, err := q.Status(ctx, ids...)
	if err != nil {
		return err
	}
	var lost, dup, partial, notFinal, untrue, stored, unchanged int
	for id, k := range want {
		g, ok := inStore[id]
		switch {
		case !ok:
			lost++
		case g.rows > g.distinct:
			dup += g.rows - g.distinct
		}
		if ok && (g.distinct != k || g.maxChunk != k-1) {
			partial++
		}
		s := st[id]
		if !s.Final() {
			notFinal++
		}
		switch s.State {
		case queue.Stored:
			stored++
			if !ok || s.Chunks != k {
				untrue++
			}
		case queue.Unchanged:
			unchanged++
			if !ok {
				untrue++
			}
		default:
			untrue++ // nothing failed: a failed status would be untrue
		}
	}
	var jobStates string
	if err := pool.QueryRow(ctx, `SELECT string_agg(s, ', ') FROM (SELECT state || ' attempt ' || attempt || ': ' || count(*) AS s FROM river_job GROUP BY state, attempt ORDER BY state, attempt) x`).Scan(&jobStates); err != nil {
		return err
	}
	fmt.Println("River jobs by state and attempt:", jobStates)
	var redelivered int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE attempt > 1 OR coalesce((metadata->>'snoozes')::int, 0) > 0`).Scan(&redelivered); err != nil {
		return err
	}
	fmt.Printf("\n### Crash test: %d documents, 3 worker processes, %d SIGKILLs (one per round, random moment), restarted\n\n", n, kills)
	fmt.Println("| documents | chunks expected | lost | duplicated chunks | partial documents | orphan chunks | statuses not final | statuses untrue | stored | unchanged (re-delivered after the write) | jobs tried more than once | time |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	total := 0
	for _, k := range want {
		total += k
	}
	fmt.Printf("| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %.1fs |\n\n", n, total, lost, dup, partial, orphans, notFinal, untrue, stored, unchanged, redelivered, elapsed.Seconds())
	_ = c
	if lost+dup+partial+orphans+notFinal+untrue > 0 {
		return fmt.Errorf("crash test failed")
	}
	return nil
}
