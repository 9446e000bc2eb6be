package chromem_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// Listing the documents whose expiry time has passed, as the pipeline's
// Purge does, without a vector search.
func ExampleStore_DocumentIDs() {
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := func(id string, expires time.Time) store.StoredDocument {
		md := map[string]any{}
		if !expires.IsZero() {
			md["rag_expires_at"] = expires // rag.MetaExpiresAt
		}
		return store.StoredDocument{ID: id, Records: []store.Record{{ID: id + "#0", DocID: id, Vector: []float32{1, 0}, Metadata: md}}}
	}
	err = s.Upsert(ctx, []store.StoredDocument{
		doc("old-news", now.Add(-time.Hour)),
		doc("offer", now.Add(24*time.Hour)),
		doc("manual", time.Time{}),
		doc("bulletin", now.Add(-48*time.Hour)),
	})
	if err != nil {
		log.Fatal(err)
	}
	expired, err := store.DocumentIDs(ctx, s, store.Lte("rag_expires_at", now))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(expired)
	// Output:
	// [bulletin old-news]
}
