package chromem_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

func Example() {
	s, err := chromem.New(chromem.Options{}) // in memory
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	err = s.Upsert(ctx, []store.StoredDocument{{
		ID:   "guide.md",
		Hash: "sha256:…",
		Records: []store.Record{
			{ID: "guide.md#0", DocID: "guide.md", Text: "Install with go get.", Vector: []float32{1, 0, 0},
				Tags: []string{"setup"}, Metadata: map[string]any{"year": 2024}},
			{ID: "guide.md#1", DocID: "guide.md", Chunk: 1, Text: "Configure the store.", Vector: []float32{0.6, 0.8, 0},
				Tags: []string{"config"}, Metadata: map[string]any{"year": 2025}},
		},
	}})
	if err != nil {
		log.Fatal(err)
	}

	rs, err := s.Search(ctx, store.Query{
		Vector: []float32{1, 0.1, 0},
		TopK:   5,
		Filter: store.Gte("year", 2025),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rs {
		fmt.Printf("%s %.3f %q\n", r.ID, r.Score, r.Text)
	}
	// Output:
	// guide.md#1 0.677 "Configure the store."
}

// A persistent store: every Upsert is on disk when it returns, and a crash
// at any moment leaves each document at one whole version.
func Example_persistent() {
	dir, err := os.MkdirTemp("", "chromem-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := chromem.New(chromem.Options{Path: dir, Compress: true})
	if err != nil {
		log.Fatal(err)
	}
	doc := store.StoredDocument{ID: "a", Hash: "v1", Records: []store.Record{
		{ID: "a#0", DocID: "a", Text: "hello", Vector: []float32{0, 1}},
	}}
	if err := s.Upsert(ctx, []store.StoredDocument{doc}); err != nil {
		log.Fatal(err)
	}
	s.Close()

	s, err = chromem.New(chromem.Options{Path: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	h, _ := s.Hashes(ctx, "a", "b")
	fmt.Println(s.Len(), h)
	// Output:
	// 1 map[a:v1]
}
