package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/store"
)

// nopStore holds nothing: Hashes finds no document and Upsert writes
// nothing, so a benchmark measures the engine alone.
type nopStore struct{ store.Store }

func (nopStore) Hashes(context.Context, ...string) (map[string]string, error) { return nil, nil }
func (nopStore) Upsert(context.Context, []store.StoredDocument) error         { return nil }

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStreamOverhead: the engine's own CPU time and allocations a
// document (one chunk of about 450 bytes each), without a tokenizer,
// embedder or store to speak of: the chunker makes one chunk with its
// token count, the embedder hands out ready vectors, the store keeps
// nothing. With a MemoryCache, and without a cache. The CPU time is the
// process's (getrusage), so a machine busy with other work inflates it
// less than the wall time.
//
//	go test ./internal/ingest -run '^$' -bench StreamOverhead -benchmem
func BenchmarkStreamOverhead(b *testing.B) {
	const docs = 5000
	words := strings.Fields("the protein binds to a receptor in cells of mice, and \"the\" results <show> an effect & more")
	texts := make([]string, docs)
	for i := range texts {
		var sb strings.Builder
		for j := 0; sb.Len() < 450; j++ {
			sb.WriteString(words[(i*7+j*3)%len(words)])
			sb.WriteByte(' ')
		}
		fmt.Fprint(&sb, i)
		texts[i] = sb.String()
	}
	one := chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
		return []chunk.Chunk{{Text: text, End: len(text), Tokens: len(text) / 4}}, nil
	})
	vec := make([]float32, 1536)
	for i := range vec {
		vec[i] = 1
	}
	for _, cached := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%v", cached), func(b *testing.B) {
			var cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				var requests atomic.Int64
				cfg := config(nopStore{}, &requests) // then as bench/ingest has it
				cfg.Embed = func(_ context.Context, texts []string, _ int) ([][]float32, int, error) {
					vecs := make([][]float32, len(texts))
					for i := range vecs {
						vecs[i] = vec
					}
					return vecs, 1, nil
				}
				cfg.Chunker = func(document.Document) chunk.Chunker { return one }
				cfg.HashSalts = []string{"openai:text-embedding-3-small:1536"}
				cfg.Model = cfg.HashSalts[0]
				cfg.BatchSize, cfg.Concurrency, cfg.MaxPendingChunks = 256, 8, 10000
				if cached {
					cfg.Cache = embed.NewMemoryCache(0)
				}
				seq := func(yield func(document.Document) bool) {
					for i, t := range texts {
						if !yield(document.Document{ID: fmt.Sprint("doc-", i), Content: t}) {
							return
						}
					}
				}
				c0 := processCPU()
				n := 0
				if _, err := ingest.Run(context.Background(), cfg, seq, func(r ingest.Result) {
					if r.Status == ingest.Stored {
						n++
					}
				}); err != nil || n != docs {
					b.Fatalf("%d of %d stored: %v", n, docs, err)
				}
				cpu += processCPU() - c0
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*docs), "cpu-µs/doc")
		})
	}
}
