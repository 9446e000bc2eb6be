package flat

import (
	"context"
	"slices"

	"github.com/ragkit-go/rag/store"
)

var _ store.Lister = (*Store)(nil)

// DocumentIDs implements store.Lister: the sorted IDs of the documents
// having a record f matches (nil f: every document). It reads the store
// under the read lock, like Search, so it sees every write whole.
func (s *Store) DocumentIDs(ctx context.Context, f *store.Filter) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	match := compileFilter(f)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	ids := []string{}
	n := 0
	for id, e := range s.docs {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if match == nil || slices.ContainsFunc(e.rows, func(row int32) bool { return match(&s.recs[row]) }) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
