package chromem

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragkit-go/rag/store"
)

var _ store.Lister = (*Store)(nil)

// DocumentIDs returns the sorted IDs of the documents having a record f
// matches (nil f: every document); see store.Lister. It reads the store
// under the read lock, so it sees each document whole, and looks only at
// the named documents when f has an _id equality or membership at its top
// level.
func (s *Store) DocumentIDs(ctx context.Context, f *store.Filter) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("chromem: list documents: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkOpen(); err != nil {
		return nil, fmt.Errorf("chromem: list documents: %w", err)
	}
	matches := func(d *docEntry) bool {
		if f == nil {
			return true
		}
		for _, k := range d.keys {
			if f.Match(&s.recs[k].rec) {
				return true
			}
		}
		return false
	}
	ids := []string{}
	if named, ok := docIDs(f); ok {
		for _, id := range named { // docIDs returns each ID once
			if d, ok := s.docs[id]; ok && matches(d) {
				ids = append(ids, id)
			}
		}
	} else {
		n := 0
		for id, d := range s.docs {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if matches(d) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}
