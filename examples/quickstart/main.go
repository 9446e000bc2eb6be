// Command quickstart ingests a small corpus that ships with it, runs a few
// queries and prints the ranked hits.
//
// With OPENAI_API_KEY set it embeds with OpenAI's text-embedding-3-small;
// without it, it runs fully offline on the Hashing embedder, a lexical
// baseline that needs no network.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path"
	"strings"

	"github.com/ragkit-go/rag"
	ragembed "github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
)

//go:embed corpus/*.md
var corpus embed.FS

func main() {
	ctx := context.Background()

	var embedder ragembed.Embedder
	if key := os.Getenv("OPENAI_API_KEY"); key != "" {
		embedder = ragembed.NewOpenAI(ragembed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: key}})
		fmt.Println("embedder: OpenAI text-embedding-3-small")
	} else {
		embedder = ragembed.NewHashing(ragembed.HashingOptions{})
		fmt.Println("embedder: Hashing (offline lexical baseline; set OPENAI_API_KEY to use OpenAI)")
	}

	p, err := rag.New(rag.Options{Embedder: embedder})
	if err != nil {
		log.Fatal(err)
	}

	docs, err := load()
	if err != nil {
		log.Fatal(err)
	}
	report, err := p.Ingest(ctx, docs...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ingested %d documents as %d chunks with %d embedding request(s) in %v\n\n",
		report.Stored, report.Chunks, report.Requests, report.Elapsed.Round(1e6))

	for _, q := range []string{
		"How do goroutines communicate?",
		"Why are there two high tides every day?",
		"What makes sourdough bread rise?",
		"ranking documents by term frequency and document length",
	} {
		hits, err := p.Search(ctx, q, &rag.SearchOptions{TopK: 3})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("Q: %s\n", q)
		for i, h := range hits {
			fmt.Printf("  %d. %.3f  %-36s %s\n", i+1, h.Score, h.Title, h.Source)
		}
		fmt.Println()
	}
}

// load reads the corpus: each file's first line is its title.
func load() ([]rag.Document, error) {
	names, err := fs.Glob(corpus, "corpus/*.md")
	if err != nil {
		return nil, err
	}
	docs := make([]rag.Document, 0, len(names))
	for _, name := range names {
		b, err := corpus.ReadFile(name)
		if err != nil {
			return nil, err
		}
		text := string(b)
		title, _, _ := strings.Cut(text, "\n")
		docs = append(docs, rag.Document{
			ID:      strings.TrimSuffix(path.Base(name), ".md"),
			Title:   strings.TrimPrefix(title, "# "),
			Source:  name,
			Content: text,
		})
	}
	return docs, nil
}
