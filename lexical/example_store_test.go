package lexical_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/store"
)

func ExampleStore() {
	dir, _ := os.MkdirTemp("", "lexical-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bm25.idx")
	ctx := context.Background()

	s, err := lexical.NewStore(lexical.StoreOptions{Path: path})
	if err != nil {
		panic(err)
	}
	err = s.Upsert(store.StoredDocument{ID: "guide", Hash: "v1", Records: []store.Record{
		{ID: "guide#0", DocID: "guide", Chunk: 0, Text: "Installing the Go toolchain on Linux.", Metadata: map[string]any{"lang": "en"}},
		{ID: "guide#1", DocID: "guide", Chunk: 1, Text: "Error E1234 means the cache directory is not writable.", Metadata: map[string]any{"lang": "en"}},
	}})
	if err != nil {
		panic(err)
	}
	s.Close() // the write was durable when Upsert returned

	s, err = lexical.NewStore(lexical.StoreOptions{Path: path})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	res, _ := s.SearchText(ctx, "error E1234", 5, store.Eq("lang", "en"))
	for _, r := range res {
		fmt.Println(r.ID, r.Text)
	}
	h, _ := s.Hash("guide")
	fmt.Println("hash", h)
	// Output:
	// guide#1 Error E1234 means the cache directory is not writable.
	// hash v1
}
