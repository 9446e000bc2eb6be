package ingest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
)

// TestEmbeddingCutsHungAttempt: once latencies are known, an attempt that
// never answers is cut (at the floor, here) and made again, long before
// the policy's RequestTimeout, and the retry's answer is returned.
func TestEmbeddingCutsHungAttempt(t *testing.T) {
	var calls atomic.Int64
	e := &Embedding{
		Embedder: embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			if calls.Add(1) == 1 {
				<-ctx.Done() // hangs until cut
				return nil, ctx.Err()
			}
			return [][]float32{{1, 0}}, nil
		}),
		Retry:     provider.RetryPolicy{RequestTimeout: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Dimension: &Dimension{},
	}
	observe(&e.docs, latencyMinSamples, time.Millisecond)
	vecs, requests, err := e.Embed(context.Background(), []string{"a"}, 1, false)
	if err != nil || len(vecs) != 1 || requests != 2 {
		t.Fatalf("Embed = %v, %d requests, %v; want 1 vector after 2 requests", vecs, requests, err)
	}
	if e.docs.n != latencyMinSamples+2 {
		t.Errorf("%d latencies recorded, want the cut and the answer too", e.docs.n-latencyMinSamples)
	}
	if e.queries.n != 0 {
		t.Error("a document request was recorded as a query's")
	}
}
