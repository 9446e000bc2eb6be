package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
	"github.com/ragkit-go/rag/tokenizer"
)

// paragraphs chunks at blank lines.
var paragraphs = chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
	var out []chunk.Chunk
	off := 0
	for i, p := range strings.Split(text, "\n\n") {
		out = append(out, chunk.Chunk{Text: p, Index: i, Start: off, End: off + len(p), Tokens: len(strings.Fields(p))})
		off += len(p) + 2
	}
	return out, nil
})

// config returns an engine configuration on s with the Hashing embedder
// behind embed, counting its requests.
func config(s store.Store, requests *atomic.Int64) *ingest.Config {
	h := embed.NewHashing(embed.HashingOptions{Dimensions: 32})
	dim := &ingest.Dimension{}
	return &ingest.Config{
		Store: s,
		Embed: func(ctx context.Context, texts []string, _ int) ([][]float32, int, error) {
			requests.Add(1)
			vecs, err := h.Embed(ctx, texts)
			if err == nil {
				err = dim.Check(vecs, len(texts))
			}
			return vecs, 1, err
		},
		Permanent:        func(error) bool { return true },
		Chunker:          func(document.Document) chunk.Chunker { return paragraphs },
		Tokenizer:        tokenizer.Runes(),
		HashSalts:        []string{"hashing"},
		Model:            "hashing",
		Dimension:        dim,
		BatchSize:        64,
		Concurrency:      4,
		Linger:           time.Millisecond,
		MaxPendingChunks: 1024,
	}
}

func newFlat(t *testing.T) *flat.Store {
	t.Helper()
	s, err := flat.New(flat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStreamManySubmitters: documents submitted from many goroutines each
// settle once, are all stored, and share requests.
func TestStreamManySubmitters(t *testing.T) {
	ctx := context.Background()
	s := newFlat(t)
	var requests atomic.Int64
	st := ingest.Start(ctx, config(s, &requests))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				d := document.Document{ID: fmt.Sprintf("g%d-%d", g, i), Content: fmt.Sprintf("first part %d %d\n\nsecond part %d", g, i, i)}
				if err := st.Submit(ctx, d, func(r ingest.Result) {
					mu.Lock()
					defer mu.Unlock()
					if r.Status != ingest.Stored || r.Chunks != 2 {
						t.Errorf("%s: %+v", r.ID, r)
					}
					seen[r.ID]++
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	stats, err := st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 400 {
		t.Fatalf("%d documents settled, want 400", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s settled %d times", id, n)
		}
	}
	ids, err := s.Hashes(ctx, slices.Collect(maps.Keys(seen))...)
	if err != nil || len(ids) != 400 {
		t.Fatalf("store holds %d of 400 (%v)", len(ids), err)
	}
	// 800 chunks in batches of up to 64: far fewer requests than documents.
	if r := requests.Load(); r >= 400 || stats.Requests != int(r) {
		t.Fatalf("%d requests for 400 documents (stats %d): chunks were not batched across documents", r, stats.Requests)
	}
	if err := st.Submit(ctx, document.Document{Content: "late"}, func(ingest.Result) {}); !errors.Is(err, ingest.ErrClosed) {
		t.Fatalf("Submit after Close = %v, want ErrClosed", err)
	}
}

// tornStore is a store whose Upsert, on its cut-th call, writes the first
// half of the documents and then cancels the ingestion and fails, as a
// persistent store interrupted mid-group does.
type tornStore struct {
	store.Store
	calls, cut int
	cancel     context.CancelFunc
	mu         sync.Mutex
}

func (s *tornStore) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if n != s.cut || len(docs) < 2 {
		return s.Store.Upsert(ctx, docs)
	}
	if err := s.Store.Upsert(context.Background(), docs[:len(docs)/2]); err != nil {
		return err
	}
	s.cancel()
	return context.Canceled
}

// TestReportMatchesStoreAfterCancel: a document is reported Stored if and
// only if the store holds it, whenever the cancellation comes, including
// in the middle of a group write.
func TestReportMatchesStoreAfterCancel(t *testing.T) {
	for round := range 20 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(round), 7))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			base := newFlat(t)
			s := &tornStore{Store: base, cut: 1 + rng.IntN(4), cancel: cancel}
			var requests atomic.Int64
			cfg := config(s, &requests)
			inner := cfg.Embed
			cancelAt := 1 + rng.IntN(12)
			var rngMu sync.Mutex // Embed is called concurrently
			coin := func() bool {
				rngMu.Lock()
				defer rngMu.Unlock()
				return rng.IntN(2) == 0
			}
			cfg.Embed = func(ctx context.Context, texts []string, tokens int) ([][]float32, int, error) {
				if requests.Load() == int64(cancelAt) && coin() {
					cancel()
				}
				return inner(ctx, texts, tokens)
			}
			cfg.BatchSize = 8
			var mu sync.Mutex
			reported := map[string]ingest.Status{}
			docs := func(yield func(document.Document) bool) {
				for i := range 200 {
					if !yield(document.Document{ID: fmt.Sprintf("d%03d", i), Content: fmt.Sprintf("alpha %d\n\nbeta %d", i, i)}) {
						return
					}
				}
			}
			_, _ = ingest.Run(ctx, cfg, docs, func(r ingest.Result) {
				mu.Lock()
				defer mu.Unlock()
				if _, dup := reported[r.ID]; dup {
					t.Errorf("%s reported twice", r.ID)
				}
				reported[r.ID] = r.Status
			})
			var ids []string
			for i := range 200 {
				ids = append(ids, fmt.Sprintf("d%03d", i))
			}
			have, err := base.Hashes(context.Background(), ids...)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				_, inStore := have[id]
				st, ok := reported[id]
				if inStore != (ok && st == ingest.Stored) {
					t.Errorf("%s: in store %v, reported %v (%v)", id, inStore, st, ok)
				}
			}
		})
	}
}

// TestSameIDInOrder: versions of one ID are written in submission order.
func TestSameIDInOrder(t *testing.T) {
	ctx := context.Background()
	s := newFlat(t)
	var requests atomic.Int64
	var order []string
	var mu sync.Mutex
	docs := func(yield func(document.Document) bool) {
		for i := range 30 {
			if !yield(document.Document{ID: "same", Content: fmt.Sprintf("version %d", i)}) {
				return
			}
		}
	}
	if _, err := ingest.Run(ctx, config(s, &requests), docs, func(r ingest.Result) {
		mu.Lock()
		order = append(order, r.ID)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, store.Query{Vector: embedOne(t, "version 29"), TopK: 5})
	if err != nil || len(order) != 30 || len(res) != 1 || res[0].Text != "version 29" {
		t.Fatalf("settled %d, store %+v, %v", len(order), res, err)
	}
}

func embedOne(t *testing.T, text string) []float32 {
	t.Helper()
	v, err := embed.NewHashing(embed.HashingOptions{Dimensions: 32}).Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}
