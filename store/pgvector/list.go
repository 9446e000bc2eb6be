package pgvector

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ragkit-go/rag/store"
)

var _ store.Lister = (*Store)(nil)

// DocumentIDs implements store.Lister: the IDs of the documents having a
// record f matches (nil f: every document), sorted in byte order. It is one
// statement, so it sees the table as one MVCC snapshot, with the filter
// compiled to SQL (parameterised) as in Search; the doc_id and GIN indexes
// serve it where they help. It reads no vectors.
func (s *Store) DocumentIDs(ctx context.Context, f *store.Filter) ([]string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	var where builder
	tenant := s.tenantCond(&where, "t.")
	if err := compileFilter(&where, f); err != nil {
		return nil, err
	}
	filter := where.sb.String()
	dim, err := s.currentDim(ctx)
	if err != nil {
		return nil, err
	}
	if dim == 0 {
		return []string{}, nil // no table yet: nothing stored
	}
	sql := "SELECT t.doc_id FROM " + s.table + " AS t WHERE " + tenant + " AND (" + filter + ")" +
		" GROUP BY t.doc_id ORDER BY t.doc_id COLLATE \"C\""
	rows, err := s.pool.Query(ctx, sql, where.args...)
	if err != nil {
		return nil, s.wrap(ctx, "list documents", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.wrap(ctx, "list documents", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}
