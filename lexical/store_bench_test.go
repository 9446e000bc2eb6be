package lexical_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/eval"
	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/store"
)

var benchDocs = flag.Int("lexical.docs", 100_000, "documents in the Store benchmarks")

// sciFactLike makes n abstract-sized documents of SciFact sentences drawn
// at random (fixed seed), one record each, and returns them with the
// SciFact test queries.
func sciFactLike(b *testing.B, n int) ([]store.StoredDocument, []string) {
	b.Helper()
	ds, err := eval.LoadBEIR(sharedData(b, "scifact"), "test")
	if err != nil {
		b.Fatal(err)
	}
	var sentences []string
	for _, d := range ds.Corpus {
		for _, s := range strings.SplitAfter(d.Text, ". ") {
			if s = strings.TrimSpace(s); s != "" {
				sentences = append(sentences, s)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	docs := make([]store.StoredDocument, n)
	for i := range docs {
		var parts []string
		for range 8 {
			parts = append(parts, sentences[rng.IntN(len(sentences))])
		}
		id := fmt.Sprintf("d%07d", i)
		docs[i] = store.StoredDocument{ID: id, Hash: "h", Records: []store.Record{{
			ID: id + "#0", DocID: id, Text: strings.Join(parts, " "), End: 1,
			Title: ds.Corpus[rng.IntN(len(ds.Corpus))].Title,
		}}}
	}
	var qs []string
	for _, q := range ds.Queries {
		qs = append(qs, q.Text)
	}
	return docs, qs
}

func fill(b *testing.B, s *lexical.Store, docs []store.StoredDocument) {
	b.Helper()
	for i := 0; i < len(docs); i += 256 {
		if err := s.Upsert(docs[i:min(i+256, len(docs))]...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreSearch: SearchText with the pipeline's expiry filter, when
// no document expires (folded away) and when one in a thousand does, and
// the Index alone on the same texts.
func BenchmarkStoreSearch(b *testing.B) {
	docs, qs := sciFactLike(b, *benchDocs)
	s, err := lexical.NewStore(lexical.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fill(b, s, docs)
	ix := lexical.New(lexical.Options{})
	for _, d := range docs {
		if err := ix.Upsert(d.ID, []lexical.Entry{{ID: d.Records[0].ID, Text: d.Records[0].Text}}); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	now := time.Now()
	expiry := store.Or(store.Not(store.Exists("rag_expires_at")), store.Gt("rag_expires_at", now))
	run := func(b *testing.B, f *store.Filter) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.SearchText(ctx, qs[i%len(qs)], 10, f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("index", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			ix.Search(qs[i%len(qs)], 10, nil)
		}
	})
	b.Run("no-filter", func(b *testing.B) { run(b, nil) })
	b.Run("expiry-none-expire", func(b *testing.B) { run(b, expiry) })
	var expiring []store.StoredDocument
	for i := 0; i < len(docs); i += 1000 {
		d := docs[i]
		d.Records = []store.Record{d.Records[0]}
		d.Records[0].Metadata = map[string]any{"rag_expires_at": now.Add(time.Hour)}
		expiring = append(expiring, d)
	}
	fill(b, s, expiring)
	b.Run("expiry-some-expire", func(b *testing.B) { run(b, expiry) })
}

// BenchmarkStoreUpsertOne: one small document written into a large
// persistent Store (a synced log append).
func BenchmarkStoreUpsertOne(b *testing.B) {
	docs, _ := sciFactLike(b, *benchDocs)
	s, err := lexical.NewStore(lexical.StoreOptions{Path: filepath.Join(b.TempDir(), "bm25")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, docs)
	if err := s.Compact(); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprint("small-", i%100)
		if err := s.Upsert(store.StoredDocument{ID: id, Hash: "h", Records: []store.Record{{ID: id + "#0", DocID: id, Text: "a small new note"}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreReopen: NewStore on a snapshot of the documents.
func BenchmarkStoreReopen(b *testing.B) {
	docs, _ := sciFactLike(b, *benchDocs)
	path := filepath.Join(b.TempDir(), "bm25")
	s, err := lexical.NewStore(lexical.StoreOptions{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	fill(b, s, docs)
	if err := s.Compact(); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := lexical.NewStore(lexical.StoreOptions{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		if r.Len() != len(docs) {
			b.Fatalf("reopened %d documents, want %d", r.Len(), len(docs))
		}
		r.Close()
	}
}
