// Command ingest ingests a directory of text and Markdown files with a live
// progress line, then prints the report and answers a query.
//
//	go run ./examples/ingest -dir ./docs
//	go run ./examples/ingest -dir ./docs -store ./rag-data -q "how do I install it?"
//
// With OPENAI_API_KEY set it embeds with OpenAI (OPENAI_BASE_URL points it at
// any compatible server: Ollama, vLLM, LM Studio); without it, it runs
// offline on the Hashing embedder. With -store, the chunks are kept in a
// persistent store/chromem directory, so a second run skips the files that
// did not change. Search is hybrid: BM25 and vectors, fused.
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"iter"
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
	dir := flag.String("dir", ".", "directory to ingest (*.txt, *.md, *.markdown)")
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

	var lastDraw time.Time
	var last rag.Progress
	draw := func(pr rag.Progress) {
		fmt.Printf("\r%6d documents (%d stored, %d unchanged, %d failed)  %7d chunks  %5d requests  %6.0f chunks/s ",
			pr.Documents, pr.Stored, pr.Unchanged, pr.Failed, pr.Chunks, pr.Requests, pr.ChunksPerSecond())
	}
	p, err := rag.New(rag.Options{
		Embedder: e,
		Store:    s,
		Lexical:  lex,
		Ingest: rag.IngestOptions{
			Concurrency: *concurrency,
			Progress: func(pr rag.Progress) {
				// Called after every document: draw at most 10 times a second.
				last = pr
				if time.Since(lastDraw) >= 100*time.Millisecond {
					lastDraw = time.Now()
					draw(pr)
				}
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	rep, err := p.IngestSeq(ctx, files(*dir))
	draw(last)
	fmt.Println()
	fmt.Printf("stored %d, unchanged %d, failed %d documents; %d chunks (%d from the cache), %d tokens, %d requests (%d retries) in %v\n",
		rep.Stored, rep.Unchanged, rep.Failed, rep.Chunks, rep.CachedChunks, rep.Tokens, rep.Requests, rep.Retries, rep.Elapsed.Round(time.Millisecond))
	for _, d := range rep.Documents { // IngestSeq keeps the failed ones
		fmt.Printf("  failed: %s: %v\n", d.ID, d.Err)
	}
	if err != nil && ctx.Err() != nil {
		log.Fatal(err)
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

// files walks dir lazily, yielding a document per text or Markdown file: the
// pipeline pulls them as it has room.
func files(dir string) iter.Seq[rag.Document] {
	return func(yield func(rag.Document) bool) {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if path != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".txt", ".md", ".markdown":
			default:
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				log.Printf("skipping %s: %v", path, err)
				return nil
			}
			rel, _ := filepath.Rel(dir, path)
			doc := rag.Document{ID: rel, Title: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Source: path, Content: string(b)}
			if !yield(doc) {
				return filepath.SkipAll
			}
			return nil
		})
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
