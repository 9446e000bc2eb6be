package store_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/ragkit-go/rag/store"
)

// counting records which of its write methods was called.
type counting struct {
	plain
	upserts *int
}

func (c counting) Upsert(context.Context, []store.StoredDocument) error { *c.upserts++; return nil }

type taking struct {
	counting
	takes *int
}

func (t taking) UpsertTakingVectors(context.Context, []store.StoredDocument) error {
	*t.takes++
	return nil
}

// UpsertTakingVectors hands the vectors to a VectorTaker, and writes with
// Upsert to any other store, a wrapper of a taker included.
func TestUpsertTakingVectors(t *testing.T) {
	var upserts, takes int
	ctx := context.Background()
	tk := taking{counting{upserts: &upserts}, &takes}
	if err := store.UpsertTakingVectors(ctx, tk, nil); err != nil || takes != 1 || upserts != 0 {
		t.Fatalf("on a taker: err %v, %d takes, %d upserts; want 1 take", err, takes, upserts)
	}
	wrapped := struct{ store.Store }{tk} // hides UpsertTakingVectors
	if err := store.UpsertTakingVectors(ctx, wrapped, nil); err != nil || takes != 1 || upserts != 1 {
		t.Fatalf("on a wrapper: err %v, %d takes, %d upserts; want 1 upsert more", err, takes, upserts)
	}
}

// CheckDocumentsSums checks everything CheckDocuments does, and returns
// each vector's sum of squares.
func TestCheckDocumentsSums(t *testing.T) {
	doc := func(v ...float32) []store.StoredDocument {
		return []store.StoredDocument{{ID: "d", Records: []store.Record{{ID: "d#0", DocID: "d", Vector: v}}}}
	}
	nan := float32(math.NaN())
	if _, err := store.CheckDocuments(doc(1, nan), 0); !errors.Is(err, store.ErrInvalidVector) {
		t.Fatalf("CheckDocuments of a NaN: %v, want ErrInvalidVector", err)
	}
	if _, _, err := store.CheckDocumentsSums(doc(1, nan), 0); !errors.Is(err, store.ErrInvalidVector) {
		t.Fatalf("CheckDocumentsSums of a NaN: %v, want ErrInvalidVector", err)
	}
	if _, _, err := store.CheckDocumentsSums(doc(1, float32(math.Inf(-1))), 0); !errors.Is(err, store.ErrInvalidVector) {
		t.Fatalf("CheckDocumentsSums of an infinity: %v, want ErrInvalidVector", err)
	}
	if dim, ss, err := store.CheckDocumentsSums(doc(3, 4), 0); err != nil || dim != 2 || len(ss) != 1 || ss[0] != 25 {
		t.Fatalf("CheckDocumentsSums of (3, 4) = %d, %v, %v; want 2, [25], nil", dim, ss, err)
	}
	if _, _, err := store.CheckDocumentsSums(doc(), 0); !errors.Is(err, store.ErrInvalidVector) {
		t.Errorf("an empty vector: %v, want ErrInvalidVector", err)
	}
	if _, _, err := store.CheckDocumentsSums(doc(1, 2, 3), 2); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("3 dimensions in a store of 2: %v, want ErrDimensionMismatch", err)
	}
	bad := doc(1, 2)
	bad[0].Records[0].DocID = "other"
	if _, _, err := store.CheckDocumentsSums(bad, 0); !errors.Is(err, store.ErrInvalidRecord) {
		t.Errorf("a record of another document: %v, want ErrInvalidRecord", err)
	}
}
