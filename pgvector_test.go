package rag_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/store/pgvector"
)

// pgvectorStore returns a store/pgvector store on a new table of the
// Postgres at RAG_PG_DSN (see .ci/pg-start.sh), dropped when t ends, or
// skips t when RAG_PG_DSN is not set.
func pgvectorStore(t *testing.T, table string) *pgvector.Store {
	t.Helper()
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
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			t.Errorf("drop table: %v", err)
		}
	})
	s, err := pgvector.New(ctx, pool, pgvector.Options{Table: table, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
