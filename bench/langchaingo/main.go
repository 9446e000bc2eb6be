// Command langchaingo embeds texts with langchaingo's
// embeddings.EmbedDocuments against an OpenAI-compatible server, for
// bench/ingest to compare with. It lives in its own module so the library
// does not depend on langchaingo.
//
//	go run . -url http://127.0.0.1:PORT/v1 -texts texts.json
//
// It prints "texts seconds" on one line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"
)

func main() {
	url := flag.String("url", "", "base URL of the OpenAI-compatible API")
	file := flag.String("texts", "", "JSON file holding an array of texts")
	flag.Parse()
	b, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	var texts []string
	if err := json.Unmarshal(b, &texts); err != nil {
		log.Fatal(err)
	}
	llm, err := openai.New(openai.WithBaseURL(*url), openai.WithToken("bench"), openai.WithEmbeddingModel("text-embedding-3-small"))
	if err != nil {
		log.Fatal(err)
	}
	e, err := embeddings.NewEmbedder(llm) // default batch size: 512
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	vecs, err := e.EmbedDocuments(context.Background(), texts)
	if err != nil {
		log.Fatal(err)
	}
	if len(vecs) != len(texts) {
		log.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	fmt.Println(len(vecs), time.Since(start).Seconds())
}
