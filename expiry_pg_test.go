package rag_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm/llmtest"
)

// The expiry filter Search adds and Purge's lookups must compile to SQL on
// store/pgvector too. Needs RAG_PG_DSN (see .ci/pg-start.sh); skipped
// without it.
func TestExpiryPgvector(t *testing.T) {
	ctx := context.Background()
	s := pgvectorStore(t, fmt.Sprintf("rag_answer_test_%d", os.Getpid()))
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 64}), Store: s, Chunker: byParagraph, Model: llmtest.New()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest(ctx, answerDocs...); err != nil {
		t.Fatal(err)
	}
	testExpiry(t, p)
}
