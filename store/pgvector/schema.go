package pgvector

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ragkit-go/rag/store"
)

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tableDim returns the dimension of the table's embedding column, or 0 if
// the table does not exist.
func (s *Store) tableDim(ctx context.Context, q querier) (int, error) {
	var (
		exists bool
		typmod int
		typ    string
	)
	err := q.QueryRow(ctx, `
SELECT c.oid IS NOT NULL, coalesce(a.atttypmod, -1), coalesce(format_type(a.atttypid, a.atttypmod), '')
FROM (SELECT to_regclass($1::text) AS oid) AS c
LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'embedding' AND NOT a.attisdropped`,
		s.regName).Scan(&exists, &typmod, &typ)
	if err != nil {
		return 0, s.wrap(ctx, "inspect table", err)
	}
	if !exists {
		return 0, nil
	}
	if !strings.HasPrefix(typ, "vector(") || typmod <= 0 {
		return 0, fmt.Errorf("%w: table %s has no embedding column of type vector(n) (found %q)", ErrSchema, s.table, typ)
	}
	return typmod, nil
}

// ensureTable creates the table for vectors of dim dimensions and its
// indexes, if missing, inside tx, holding a transaction-scoped advisory lock
// on the table name so that concurrent creators (in any process) take turns.
// If the table exists with another dimension it returns a
// *store.DimensionError.
func (s *Store) ensureTable(ctx context.Context, tx pgx.Tx, dim int) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", "ragkit-go/rag/store/pgvector:"+s.regName); err != nil {
		return err
	}
	have, err := s.tableDim(ctx, tx)
	if err != nil {
		return err
	}
	if have > 0 {
		if have != dim {
			return &store.DimensionError{Want: have, Got: dim}
		}
		return s.readTenancy(ctx, tx) // another store made it, maybe otherwise
	}
	cfg := s.opts.TextSearchConfig // validated identifier
	partition := ""
	if s.opts.PartitionByTenant {
		partition = " PARTITION BY LIST (tenant)"
	}
	stmts := []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	tenant      text NOT NULL DEFAULT '',
	id          text NOT NULL,
	doc_id      text NOT NULL,
	chunk       bigint NOT NULL,
	chunk_start bigint NOT NULL,
	chunk_end   bigint NOT NULL,
	text        text NOT NULL,
	title       text NOT NULL DEFAULT '',
	source      text NOT NULL DEFAULT '',
	tags        text[] NOT NULL DEFAULT '{}',
	metadata    jsonb NOT NULL DEFAULT '{}',
	doc_hash    text NOT NULL DEFAULT '',
	embedding   vector(%d) NOT NULL,
	tsv         tsvector GENERATED ALWAYS AS (
		setweight(to_tsvector('%s'::regconfig, title), 'A') ||
		setweight(to_tsvector('%s'::regconfig, text), 'B')) STORED,
	PRIMARY KEY (tenant, id)
)%s`, s.table, dim, cfg, cfg, partition),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (tenant, doc_id)", s.index("tenant_doc_id_idx"), s.table),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin (metadata)", s.index("metadata_idx"), s.table),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin (tags)", s.index("tags_idx"), s.table),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING gin (tsv)", s.index("tsv_idx"), s.table),
		// Statistics of the expression approximate searches confine a
		// tenant with (see hnswSource): without them the planner takes
		// any tenant for 0.5% of the table, prices the HNSW scan 200 times
		// too dear and scans the whole table instead.
		fmt.Sprintf("CREATE STATISTICS IF NOT EXISTS %s ON (tenant || '') FROM %s", s.index("tenant_stx"), s.table),
	}
	if !s.opts.DeferIndex {
		if ddl := s.hnswDDL(dim); ddl != "" {
			stmts = append(stmts, ddl)
		}
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	s.tenantCol.Store(true)
	s.partitioned.Store(s.opts.PartitionByTenant)
	if s.opts.PartitionByTenant {
		return s.createPartition(ctx, tx, "") // the default tenant's
	}
	return nil
}

// index returns the quoted name of one of the table's indexes.
func (s *Store) index(suffix string) string {
	return pgx.Identifier{s.base + "_" + suffix}.Sanitize()
}

// hnswDDL returns the CREATE INDEX statement of the HNSW index for vectors
// of dim dimensions, or "" when pgvector cannot index that many.
func (s *Store) hnswDDL(dim int) string {
	var target string
	switch {
	case dim <= 2000:
		target = "embedding vector_cosine_ops"
	case dim <= MaxIndexedDimensions:
		target = fmt.Sprintf("(embedding::halfvec(%d)) halfvec_cosine_ops", dim)
	default:
		return ""
	}
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s USING hnsw (%s) WITH (m = %d, ef_construction = %d)",
		s.index("embedding_hnsw"), s.table, target, s.opts.M, s.opts.EfConstruction)
}

// CreateIndex builds the HNSW index if it does not exist yet: after a bulk
// load into a store made with Options.DeferIndex, or to add the index to a
// table made without it. It is a no-op when the table does not exist yet or
// its vectors are too long to index (see MaxIndexedDimensions). Building
// takes time proportional to the table size and blocks writes to the table
// meanwhile (plain CREATE INDEX, not CONCURRENTLY).
func (s *Store) CreateIndex(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	dim, err := s.currentDim(ctx)
	if err != nil || dim == 0 {
		return err
	}
	ddl := s.hnswDDL(dim)
	if ddl == "" {
		return nil
	}
	if _, err := s.pool.Exec(ctx, ddl); err != nil {
		return s.wrap(ctx, "create HNSW index", err)
	}
	// A table loaded before its index is usually analysed only later by
	// autovacuum; until then the planner prices searches blind.
	if _, err := s.pool.Exec(ctx, "ANALYZE "+s.table); err != nil {
		return s.wrap(ctx, "analyze", err)
	}
	return nil
}

// currentDim returns the table's dimension, looking it up again while it
// is unknown (another process may have created the table since).
func (s *Store) currentDim(ctx context.Context) (int, error) {
	if d := s.dim.Load(); d > 0 {
		return int(d), nil
	}
	d, err := s.tableDim(ctx, s.pool)
	if err != nil {
		return 0, err
	}
	if d > 0 {
		s.dim.CompareAndSwap(0, int64(d))
	}
	return d, nil
}
