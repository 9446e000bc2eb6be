// Command ingest syncs a directory into a pipeline with Pipeline.Sync
// (every format the library's loaders read) with a live progress line,
// then prints the report and answers a query.
//
//	go run ./examples/ingest -dir ./docs
//	go run ./examples/ingest -dir ./docs -store ./rag-data -q "how do I install it?"
//
// With OPENAI_API_KEY set it embeds with OpenAI (OPENAI_BASE_URL points it at
// any compatible server: Ollama, vLLM, LM Studio); without it, it runs
// offline on the Hashing embedder. With -store, the chunks are kept in a
// persistent store/chromem directory, so a second run does not even read
// the files that did not change, and deletes those that are gone. Search
// is hybrid: BM25 and vectors, fused.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

func main() {
	dir := flag.String("dir", ".", "directory to ingest")
	storeDir := flag.String("store", "", "persistent store directory (default: in memory)")
	query := flag.String("q", "", "a query to run after ingesting")
	concurrency := flag.Int("concurrency", 8, "embedding requests in flight")
	flag.Parse()

	// Ctrl-C cancels the ingest: it returns promptly with only whole
	// documents stored.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var e embed.Embedder
	if os.Getenv("OPENAI_API_KEY") != "" || os.Getenv("OPENAI_BASE_URL") != "" {
		var err error
		if e, err = embed.OpenAIFromEnv(embed.OpenAIOptions{}); err != nil {
			log.Fatal(err)
		}
	} else {
		e = embed.NewHashing(embed.HashingOptions{})
		fmt.Println("embedder: Hashing (offline; set OPENAI_API_KEY or OPENAI_BASE_URL for a real model)")
	}

	var s store.Store
	lex := &rag.LexicalOptions{} // BM25 beside the vectors, for hybrid search
	if *storeDir != "" {
		lex.Path = filepath.Join(*storeDir, "bm25.idx")
		cs, err := chromem.New(chromem.Options{Path: *storeDir})
		if err != nil {
			log.Fatal(err)
		}
		defer cs.Close()
		s = cs
	}

	p, err := rag.New(rag.Options{
		Embedder: e,
		Store:    s,
		Lexical:  lex,
		Ingest:   rag.IngestOptions{Concurrency: *concurrency},
	})
	if err != nil {
		log.Fatal(err)
	}

	var lastDraw time.Time
	var last rag.SyncProgress
	draw := func(pr rag.SyncProgress) {
		fmt.Printf("\r%6d/%d files (%d unchanged, %d failed)  %7d chunks  %5d requests  %6.0f chunks/s ",
			pr.Settled, pr.Files, pr.Unchanged, pr.Failed, pr.Ingest.Chunks, pr.Ingest.Requests, pr.Ingest.ChunksPerSecond())
	}
	root, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := p.Sync(ctx, os.DirFS(*dir), &rag.SyncOptions{
		Root:    filepath.ToSlash(root), // the tree's name in the store: vanished files are deleted from it only
		Exclude: []string{".*", "node_modules"},
		Progress: func(pr rag.SyncProgress) {
			// Called as files settle and requests return: draw at most 10 times a second.
			last = pr
			if time.Since(lastDraw) >= 100*time.Millisecond {
				lastDraw = time.Now()
				draw(pr)
			}
		},
	})
	if err != nil {
		log.Fatal(err) // a missing directory, a cancelled sync
	}
	draw(last)
	fmt.Println()
	in := rep.Ingest
	fmt.Printf("files: %d stored, %d unchanged, %d deleted, %d failed; %d chunks (%d from the cache), %d tokens, %d requests (%d retries) in %v\n",
		rep.Stored, rep.Unchanged, rep.Deleted, rep.Failed, in.Chunks, in.CachedChunks, in.Tokens, in.Requests, in.Retries, rep.Elapsed.Round(time.Millisecond))
	for _, f := range rep.Files { // nothing is skipped silently
		if f.Status == rag.FileFailed {
			fmt.Printf("  failed: %v\n", f.Err)
		}
	}

	if *query != "" {
		hits, err := p.Search(ctx, *query, &rag.SearchOptions{TopK: 5, Mode: rag.HybridSearch})
		if err != nil {
			log.Fatal(err)
		}
		for i, h := range hits {
			fmt.Printf("%d. %.3f %s\n   %s\n", i+1, h.Score, h.Source, firstLine(h.Text))
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}
