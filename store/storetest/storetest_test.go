package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/storetest"
)

// memStore is a minimal reference store built on store.BruteForce. The
// suite must pass on it; it also shows how little a correct store needs.
type memStore struct {
	mu   sync.RWMutex
	dim  int
	docs map[string]store.StoredDocument
}

func newMemStore() *memStore { return &memStore{docs: map[string]store.StoredDocument{}} }

var _ store.VectorTaker = (*memStore)(nil)

func (s *memStore) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	return s.upsert(ctx, docs, false)
}

// UpsertTakingVectors keeps the caller's vectors themselves.
func (s *memStore) UpsertTakingVectors(ctx context.Context, docs []store.StoredDocument) error {
	return s.upsert(ctx, docs, true)
}

func (s *memStore) upsert(ctx context.Context, docs []store.StoredDocument, take bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	copies := make([]store.StoredDocument, len(docs))
	for i, d := range docs {
		c := store.StoredDocument{ID: d.ID, Hash: d.Hash, Records: make([]store.Record, len(d.Records))}
		for j, r := range d.Records {
			c.Records[j] = store.CloneRecord(r)
			if take {
				c.Records[j].Vector = r.Vector
			}
		}
		copies[i] = c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dim, err := store.CheckDocuments(copies, s.dim)
	if err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	if s.dim == 0 {
		s.dim = dim
	}
	for _, d := range copies {
		if len(d.Records) == 0 {
			delete(s.docs, d.ID)
		} else {
			s.docs[d.ID] = d
		}
	}
	return nil
}

func (s *memStore) Search(ctx context.Context, q store.Query) ([]store.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := q.Filter.Validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := store.CheckVector(q.Vector, s.dim); err != nil {
		return nil, err
	}
	var recs []store.Record
	for _, d := range s.docs {
		recs = append(recs, d.Records...)
	}
	return store.BruteForce(recs, q), nil
}

func (s *memStore) Delete(ctx context.Context, ids ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.docs, id)
	}
	return nil
}

func (s *memStore) Hashes(ctx context.Context, ids ...string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]string{}
	for _, id := range ids {
		if d, ok := s.docs[id]; ok {
			out[id] = d.Hash
		}
	}
	return out, nil
}

func (s *memStore) DocumentIDs(ctx context.Context, f *store.Filter) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id, d := range s.docs {
		if slices.ContainsFunc(d.Records, func(r store.Record) bool { return f.Match(&r) }) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func TestReferenceStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newMemStore() }, storetest.Options{})
}

func TestReferenceStoreReopen(t *testing.T) {
	// "Reopening" a memStore hands the same instance back: it exercises the
	// Reopen subtest's own logic.
	storetest.Run(t, func(t *testing.T) store.Store { return newMemStore() }, storetest.Options{
		Dimensions: 5,
		Reopen:     func(t *testing.T, s store.Store) store.Store { return s },
	})
}
