package store

import (
	"context"
	"errors"
	"fmt"
)

// Lister is implemented by stores that can list their documents without a
// vector search. The pipeline's Purge uses it to find expired documents
// (a filter Lte on the expiry key) without embedding anything.
//
// DocumentIDs returns the IDs of the documents that have at least one
// record f matches (a nil f: every document), each once, sorted in byte
// order (as strings.Compare and slices.Sort order them). An empty store,
// or a filter that matches nothing, gives an empty slice and no error.
//
// The result is a snapshot: it shows the store at one moment during the
// call, every document as it was before or after any concurrent write,
// never a mix. Nothing stays locked or open once DocumentIDs returns, so
// the caller may Delete or Upsert the listed documents while it walks the
// slice. (That is why the result is a slice and not an iterator: an
// iterator would hold a read lock, or a database connection, while its
// consumer writes to the same store.) The caller owns the slice. A store
// with millions of matching documents returns them in one slice; narrow f
// to bound it.
//
// Concurrency and errors are Search's: DocumentIDs may be called
// concurrently with every method; an invalid filter is rejected with an
// error matching ErrInvalidFilter before anything is read; a cancelled
// context gives an error matching ctx.Err(); a closed store, ErrClosed.
type Lister interface {
	DocumentIDs(ctx context.Context, f *Filter) ([]string, error)
}

// DocumentIDs lists the documents of s that f matches (see Lister). It
// uses s's Lister, looking through wrappers that expose the store they
// wrap with an Unwrap() Store method (a wrapper that must not be seen
// through implements Lister itself or has no Unwrap). When no store in
// the chain can list, it returns an error matching errors.ErrUnsupported.
func DocumentIDs(ctx context.Context, s Store, f *Filter) ([]string, error) {
	for x := s; x != nil; {
		if l, ok := x.(Lister); ok {
			return l.DocumentIDs(ctx, f)
		}
		u, ok := x.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	return nil, fmt.Errorf("store: %T cannot list documents (it does not implement store.Lister): %w", s, errors.ErrUnsupported)
}
