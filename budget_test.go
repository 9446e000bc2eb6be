package rag_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
)

// timeline records when each embedding request was made.
type timeline struct {
	mu    sync.Mutex
	times []time.Time
}

func (tl *timeline) embedder() embed.Embedder {
	h := hashing()
	return embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		tl.mu.Lock()
		tl.times = append(tl.times, time.Now())
		tl.mu.Unlock()
		return h.Embed(ctx, texts)
	})
}

// maxInWindow returns the most requests made within any window of w.
func (tl *timeline) maxInWindow(w time.Duration) int {
	tl.mu.Lock()
	ts := slices.Clone(tl.times)
	tl.mu.Unlock()
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best := 0
	for i, j := 0, 0; i < len(ts); i++ {
		for j < len(ts) && ts[j].Sub(ts[i]) < w {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// TestOneBudgetPerPipeline: two concurrent Ingest calls and concurrent
// searches together stay within the pipeline's one requests-per-minute
// budget. Its bucket holds a tenth of a minute's worth (60 requests at 600
// a minute) and refills at 10 a second, so no window of one second may
// see more than 60 + 10 (+1 for the edge). With a budget per Ingest call,
// or searches outside it, the 2×40 documents and 20 queries would all go
// at once. Slowness of the machine can only lower the counts.
func TestOneBudgetPerPipeline(t *testing.T) {
	const rpm = 600
	tl := &timeline{}
	p := newPipeline(t, tl.embedder(), func(o *rag.Options) {
		o.Ingest.RequestsPerMinute = rpm
		o.Ingest.BatchSize = 1
		o.Ingest.Linger = time.Microsecond
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			docs := make([]rag.Document, 40)
			for i := range docs {
				docs[i] = rag.Document{ID: fmt.Sprintf("g%d-%d", g, i), Content: fmt.Sprintf("document %d of ingest %d", i, g)}
			}
			if _, err := p.Ingest(ctx, docs...); err != nil {
				t.Error(err)
			}
		})
	}
	for q := range 20 {
		wg.Go(func() {
			if _, err := p.Search(ctx, fmt.Sprintf("query number %d", q), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(tl.times); n != 100 {
		t.Fatalf("%d requests, want 80 documents + 20 queries", n)
	}
	burst, perSecond := rpm/10, rpm/60
	if got, limit := tl.maxInWindow(time.Second), burst+perSecond+1; got > limit {
		t.Fatalf("%d requests within one second; the budget allows %d", got, limit)
	}
}
