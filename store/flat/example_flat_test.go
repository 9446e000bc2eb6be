package flat_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
)

func Example() {
	ctx := context.Background()
	s, err := flat.New(flat.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	rec := func(doc, id, lang string, v ...float32) store.Record {
		return store.Record{ID: id, DocID: doc, Text: id, Vector: v, Metadata: map[string]any{"lang": lang}}
	}
	err = s.Upsert(ctx, []store.StoredDocument{
		{ID: "a", Hash: "h1", Records: []store.Record{rec("a", "a#0", "en", 1, 0, 0), rec("a", "a#1", "de", 0.8, 0.6, 0)}},
		{ID: "b", Hash: "h2", Records: []store.Record{rec("b", "b#0", "en", 0, 1, 0)}},
	})
	if err != nil {
		log.Fatal(err)
	}

	results, err := s.Search(ctx, store.Query{Vector: []float32{2, 0, 0}, TopK: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Printf("%s %.2f\n", r.ID, r.Score)
	}

	english, err := s.Search(ctx, store.Query{Vector: []float32{0, 1, 0}, Filter: store.Eq("lang", "en")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(english), english[0].ID)
	// Output:
	// a#0 1.00
	// a#1 0.80
	// 2 b#0
}

// A persistent store loads its snapshot in New and writes it in Close.
func Example_persistent() {
	dir, err := os.MkdirTemp("", "flat-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vectors.flat")
	ctx := context.Background()

	s, err := flat.New(flat.Options{Path: path})
	if err != nil {
		log.Fatal(err)
	}
	doc := store.StoredDocument{ID: "d", Hash: "v1", Records: []store.Record{{ID: "d#0", DocID: "d", Vector: []float32{1, 2}}}}
	if err := s.Upsert(ctx, []store.StoredDocument{doc}); err != nil {
		log.Fatal(err)
	}
	if err := s.Close(); err != nil { // writes the snapshot
		log.Fatal(err)
	}

	s, err = flat.New(flat.Options{Path: path, Quantize: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	hashes, err := s.Hashes(ctx, "d")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Len(), hashes["d"])
	// Output: 1 v1
}
