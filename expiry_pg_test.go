package rag_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/store/pgvector"
)

// The expiry filter Search adds and Purge's lookups must compile to SQL on
// store/pgvector too. Needs RAG_PG_DSN (see .ci/pg-start.sh); skipped
// without it.
func TestExpiryPgvector(t *testing.T) {
	dsn := os.Getenv("RAG_PG_DSN")
	if dsn == "" {
		t.Skip("RAG_PG_DSN is not set: no Postgres with pgvector to test against")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // after the table is dropped (cleanups run last first)
	table := fmt.Sprintf("rag_answer_test_%d", os.Getpid())
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			t.Errorf("drop table: %v", err)
		}
	})
	s, err := pgvector.New(ctx, pool, pgvector.Options{Table: table, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 64}), Store: s, Chunker: byParagraph, Model: llmtest.New()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest(ctx, answerDocs...); err != nil {
		t.Fatal(err)
	}
	testExpiry(t, p)
}
