package pgvector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ragkit-go/rag/store"
)

var _ store.Scoper = (*Store)(nil)

// Scope returns the view of the table confined to one tenant (see
// store.Scoper). Every row has a tenant column, "" for the default tenant
// (the Store itself, and every row a table held before it had the
// column), and every statement of the view names its tenant, whatever
// the filter: the primary key is (tenant, id) and the document index
// (tenant, doc_id), so the same document and record IDs in two tenants
// are two documents, and a tenant's rows are found without reading
// another's. With Options.PartitionByTenant the tenant has a partition of
// its own, created by its first write.
//
// Approximate searches of a view use pgvector's iterative index scan
// (0.8 and later): the HNSW walk goes on until it has TopK rows of the
// tenant, so a tenant holding 1% of the table still gets its top k
// (TestTenantHNSWRecall measures it). On an older pgvector, whose HNSW
// search returns at most ef_search rows before the tenant is filtered,
// a view's searches are exact, unless the table is partitioned (then the
// tenant's partition has its own graph).
//
// A view is cheap (no statement runs): call Scope once a request if you
// like. It shares the store's pool and lifetime: the store's Close closes
// it, its own Close does nothing, and its Scope fails with
// store.ErrScoped. Scope fails with ErrSchema if the table was made by an
// earlier version of this package and has no tenant column (New with
// Migrate adds it), with store.ErrInvalidTenant for an invalid name, and
// with store.ErrClosed after Close.
func (s *Store) Scope(tenant string) (store.Store, error) {
	if err := store.CheckTenant(tenant); err != nil {
		return nil, fmt.Errorf("pgvector: scope: %w", err)
	}
	if s.view {
		return nil, fmt.Errorf("pgvector: scope %q: %w", tenant, store.ErrScoped)
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("pgvector: scope: %w", store.ErrClosed)
	}
	if !s.tenantCol.Load() {
		return nil, fmt.Errorf("%w: table %s has no tenant column (it was made by an earlier version): open it once with Options.Migrate to add it: %w", ErrSchema, s.table, errors.ErrUnsupported)
	}
	return &Store{shared: s.shared, tenant: tenant, view: true}, nil
}

// Tenant returns the tenant of the store: "" for a Store made by New, the
// tenant's name for a view made by Scope.
func (s *Store) Tenant() string { return s.tenant }

// tenantCond returns the SQL condition that confines a statement to the
// store's tenant, on the table alias prefix (as "t." or ""), adding the
// tenant as a parameter of b. A table without the tenant column is the
// default tenant's alone: the condition is TRUE.
func (s *Store) tenantCond(b *builder, prefix string) string {
	if !s.tenantCol.Load() {
		return "TRUE"
	}
	return prefix + "tenant = " + b.arg(s.tenant) + "::text"
}

// hnswSource returns the relation and the tenant condition of an
// approximate search. The condition is written so that no B-tree index
// matches it (the tenant concatenated with the empty string, compared
// with the parameter): otherwise the planner, which without
// statistics takes any equality for selective, reads the tenant through
// the primary key or the document index and sorts it, exactly, instead
// of walking the HNSW graph with the tenant as the iterative scan's
// filter. A filter that names documents (an Eq or In on _id at its top
// level) keeps the plain condition: the index (tenant, doc_id) then finds
// the named documents' rows, as an HNSW walk filtered down to a few rows
// might not. A partitioned table is read through the tenant's own
// partition (its graph holds the tenant's rows alone); the condition
// stays, in case two tenants' partition names ever collided.
func (s *Store) hnswSource(b *builder, f *store.Filter) (from, cond string) {
	if !s.tenantCol.Load() {
		return s.table, "TRUE"
	}
	if namesDocuments(f) {
		return s.table, s.tenantCond(b, "t.")
	}
	from = s.table
	if s.partitioned.Load() {
		from = s.qualified(s.partitionName(s.tenant))
	}
	return from, "(t.tenant || '') = " + b.arg(s.tenant) + "::text"
}

// namesDocuments reports whether f restricts the rows to named documents:
// an Eq or In on _id at its top level or in a top-level And.
func namesDocuments(f *store.Filter) bool {
	if f == nil {
		return false
	}
	switch f.Op {
	case store.OpAnd:
		return slices.ContainsFunc(f.Filters, namesDocuments)
	case store.OpEq, store.OpIn:
		return f.Field == store.FieldDocID
	}
	return false
}

// upgrade reads what the table says about tenancy (exists: the table
// exists) and, with Migrate, gives a table an earlier version made its
// tenant column: ADD COLUMN tenant (the rows become the default
// tenant's, without rewriting the table), the primary key (tenant, id)
// and the index (tenant, doc_id) in place of (id) and (doc_id). Rebuilding
// the primary key takes time in proportion to the table, once. A table
// that does not exist yet will be made with the column.
func (s *Store) upgrade(ctx context.Context, exists bool) error {
	if !exists {
		s.tenantCol.Store(true)
		s.partitioned.Store(s.opts.PartitionByTenant)
		return nil
	}
	if err := s.readTenancy(ctx, s.pool); err != nil {
		return err
	}
	if s.opts.PartitionByTenant && !s.partitioned.Load() {
		return fmt.Errorf("%w: Options.PartitionByTenant, but table %s exists unpartitioned (partitioning applies when the table is created)", ErrSchema, s.table)
	}
	if s.tenantCol.Load() || !s.opts.Migrate {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", "ragkit-go/rag/store/pgvector:"+s.regName); err != nil {
			return err
		}
		if err := s.readTenancy(ctx, tx); err != nil || s.tenantCol.Load() {
			return err // another store migrated it meanwhile
		}
		var pkey string
		err := tx.QueryRow(ctx, "SELECT coalesce((SELECT conname::text FROM pg_constraint WHERE conrelid = to_regclass($1::text) AND contype = 'p'), '')", s.regName).Scan(&pkey)
		if err != nil {
			return err
		}
		stmts := []string{"ALTER TABLE " + s.table + " ADD COLUMN tenant text NOT NULL DEFAULT ''"}
		if pkey != "" {
			stmts = append(stmts, "ALTER TABLE "+s.table+" DROP CONSTRAINT "+pgx.Identifier{pkey}.Sanitize())
		}
		stmts = append(stmts,
			"ALTER TABLE "+s.table+" ADD PRIMARY KEY (tenant, id)",
			fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (tenant, doc_id)", s.index("tenant_doc_id_idx"), s.table),
			"DROP INDEX IF EXISTS "+s.qualified(s.base+"_doc_id_idx"))
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.tenantCol.Store(false)
		return s.wrap(ctx, "add the tenant column", err)
	}
	s.tenantCol.Store(true)
	return nil
}

// readTenancy reads from the catalog whether the table has the tenant
// column and whether it is partitioned.
func (s *Store) readTenancy(ctx context.Context, q querier) error {
	var col, part bool
	err := q.QueryRow(ctx, `
SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1::text) AND attname = 'tenant' AND NOT attisdropped),
       coalesce((SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass($1::text)), false)`, s.regName).Scan(&col, &part)
	if err != nil {
		return s.wrap(ctx, "inspect table", err)
	}
	s.tenantCol.Store(col)
	s.partitioned.Store(part)
	return nil
}

// qualified returns the quoted name of a relation in the table's schema.
func (s *Store) qualified(name string) string {
	if s.schema != "" {
		return pgx.Identifier{s.schema, name}.Sanitize()
	}
	return pgx.Identifier{name}.Sanitize()
}

// partitionName is the name of a tenant's partition: the table's name,
// "_p" and 48 bits of the SHA-256 of the tenant, within Postgres's 63
// bytes (a table name has at most 48). Should two tenants ever share the
// 48 bits, the second one's writes fail (no partition holds its rows);
// they never land in the first one's partition.
func (s *Store) partitionName(tenant string) string {
	h := sha256.Sum256([]byte(tenant))
	return s.base + "_p" + hex.EncodeToString(h[:6])
}

// createPartition creates tenant's partition if it does not exist, inside
// tx, under the table's advisory lock. The statement is written by the
// server's format(), which quotes the tenant as a literal.
func (s *Store) createPartition(ctx context.Context, tx pgx.Tx, tenant string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", "ragkit-go/rag/store/pgvector:"+s.regName); err != nil {
		return err
	}
	var ddl string
	err := tx.QueryRow(ctx, "SELECT format('CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES IN (%L)', $1::text, $2::text, $3::text)",
		s.qualified(s.partitionName(tenant)), s.table, tenant).Scan(&ddl)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create the partition of tenant %q: %w", tenant, err)
	}
	return nil
}

// ensurePartition creates the store's tenant's partition, inside the
// write's transaction tx, unless it is known to exist. It reports whether
// it ran the DDL, for the caller to note the partition once tx commits.
func (s *Store) ensurePartition(ctx context.Context, tx pgx.Tx) (bool, error) {
	if !s.partitioned.Load() {
		return false, nil
	}
	if _, ok := s.partitions.Load(s.tenant); ok {
		return false, nil
	}
	return true, s.createPartition(ctx, tx, s.tenant)
}
