package pgvector

import "github.com/ragkit-go/rag/store"

// SearchSQL exposes the statement Search runs, for EXPLAIN in tests.
func SearchSQL(s *Store, q store.Query, approx bool) (string, []any, error) {
	sql, args, _, err := s.searchSQL(q, s.Dimensions(), approx)
	return sql, args, err
}
