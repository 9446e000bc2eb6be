package pgvector_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
)

// The whole flow: a pool of the caller's, a store that creates its table,
// a document written atomically, an exact filtered vector search and a
// full-text search. (Not run by go test: it needs a database.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	s, err := pgvector.New(ctx, pool, pgvector.Options{Table: "docs", Migrate: true})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Upsert(ctx, []store.StoredDocument{{
		ID:   "go",
		Hash: "v1",
		Records: []store.Record{{
			ID: "go#0", DocID: "go", Text: "Go has goroutines.", Title: "Go",
			Vector:   []float32{0.1, 0.9, 0.2},
			Metadata: map[string]any{"lang": "en", "year": 2009},
		}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	hits, err := s.Search(ctx, store.Query{
		Vector: []float32{0.1, 0.8, 0.3},
		TopK:   5,
		Filter: store.And(store.Eq("lang", "en"), store.Gte("year", 2000)),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%.3f %s\n", h.Score, h.ID)
	}
	words, err := s.SearchText(ctx, "goroutine", 5, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range words {
		fmt.Println(h.ID, h.Title)
	}
}

// Table names are validated (and quoted) before any query is sent, so a
// name cannot carry SQL.
func ExampleNew_invalidTable() {
	pool, err := pgxpool.New(context.Background(), "postgres://localhost/unused")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	_, err = pgvector.New(context.Background(), pool, pgvector.Options{Table: "chunks; DROP TABLE users"})
	fmt.Println(errors.Is(err, pgvector.ErrInvalidOptions))
	fmt.Println(err)
	// Output:
	// true
	// pgvector: invalid options: table "chunks; DROP TABLE users": "chunks; DROP TABLE users" is not an identifier of letters, digits and '_'
}
