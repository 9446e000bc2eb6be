package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
)

// plain is a Store that cannot list; every method is a stub.
type plain struct{}

func (plain) Upsert(context.Context, []store.StoredDocument) error { return nil }
func (plain) Search(context.Context, store.Query) ([]store.Result, error) {
	return nil, nil
}
func (plain) Delete(context.Context, ...string) error { return nil }
func (plain) Hashes(context.Context, ...string) (map[string]string, error) {
	return map[string]string{}, nil
}

// listing can list: it answers with its IDs and remembers the filter.
type listing struct {
	plain
	ids  []string
	seen *store.Filter
}

func (l *listing) DocumentIDs(_ context.Context, f *store.Filter) ([]string, error) {
	l.seen = f
	return l.ids, nil
}

// wrapper wraps a Store without listing itself, exposing what it wraps.
type wrapper struct {
	plain
	inner store.Store
}

func (w wrapper) Unwrap() store.Store { return w.inner }

func TestDocumentIDs(t *testing.T) {
	ctx := context.Background()
	f := store.Exists("k")

	if ids, err := store.DocumentIDs(ctx, plain{}, f); !errors.Is(err, errors.ErrUnsupported) || ids != nil {
		t.Errorf("store that cannot list: %q, %v; want nil, errors.ErrUnsupported", ids, err)
	}
	if _, err := store.DocumentIDs(ctx, wrapper{inner: plain{}}, f); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("wrapper around a store that cannot list: %v, want errors.ErrUnsupported", err)
	}
	if _, err := store.DocumentIDs(ctx, wrapper{inner: nil}, f); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("wrapper around nil: %v, want errors.ErrUnsupported", err)
	}

	l := &listing{ids: []string{"a", "b"}}
	for name, s := range map[string]store.Store{"lister": l, "wrapped lister": wrapper{inner: wrapper{inner: l}}} {
		l.seen = nil
		ids, err := store.DocumentIDs(ctx, s, f)
		if err != nil || !slices.Equal(ids, l.ids) || l.seen != f {
			t.Errorf("%s: %q, %v (filter passed: %v); want %q and the filter passed on", name, ids, err, l.seen, l.ids)
		}
	}
}
