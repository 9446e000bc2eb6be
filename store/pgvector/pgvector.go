package pgvector

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/store"
)

// Defaults of Options.
const (
	DefaultTable            = "rag_chunks"
	DefaultM                = 16 // pgvector's default
	DefaultEfConstruction   = 64 // pgvector's default
	DefaultEfSearch         = 40 // pgvector's default
	DefaultTextSearchConfig = "english"

	// MaxIndexedDimensions is the largest dimension the HNSW index covers:
	// up to 2,000 dimensions the vectors are indexed as they are
	// (vector_cosine_ops); up to 4,000 the index holds half-precision
	// copies (halfvec_cosine_ops on embedding::halfvec(n)) while the table
	// keeps full precision. Larger vectors are stored and searched exactly
	// but get no HNSW index.
	MaxIndexedDimensions = 4000

	// MaxDimensions is the largest dimension pgvector's vector type holds.
	MaxDimensions = 16000

	maxTableName = 48 // leaves room for index-name suffixes within Postgres's 63 bytes
)

// Sentinel errors of package pgvector.
var (
	// ErrInvalidOptions: Options holds a value New cannot use (a bad table
	// name, HNSW parameters out of range, a nil pool).
	ErrInvalidOptions = errors.New("pgvector: invalid options")
	// ErrNoTable: the table does not exist and Options.Migrate is false.
	ErrNoTable = errors.New("pgvector: table does not exist")
	// ErrSchema: the table exists but is not one this package made (its
	// embedding column is missing or not of type vector).
	ErrSchema = errors.New("pgvector: unexpected table schema")
)

// Options configures New. The zero value needs an existing table named
// "rag_chunks"; set Migrate to create it.
type Options struct {
	// Table names the table, optionally schema-qualified ("rag.chunks").
	// Each part must be an identifier of letters, digits and underscores
	// not starting with a digit; the table part at most 48 bytes. Names
	// are quoted, so they are case-sensitive. Empty means DefaultTable.
	Table string

	// Dimensions fixes the vector dimension. When zero, an existing table
	// tells it, or else the first Upsert that writes a vector sets it and
	// creates the table (Migrate must then be true). A table that exists
	// with another dimension makes New fail with a *store.DimensionError.
	Dimensions int

	// Migrate lets New create the vector extension, and New or the first
	// Upsert create the table and its indexes (CREATE ... IF NOT EXISTS;
	// concurrent creators are serialised by an advisory lock). Without it
	// New requires the table to exist.
	Migrate bool

	// DeferIndex leaves out the HNSW index when the table is created; call
	// CreateIndex after a bulk load, which builds the graph far faster than
	// inserting into it row by row.
	DeferIndex bool

	// M and EfConstruction are the HNSW build parameters (pgvector's m,
	// 2..100, and ef_construction, 4..1000 and at least 2*M); zero means
	// DefaultM and DefaultEfConstruction. They apply when the index is
	// created.
	M, EfConstruction int

	// Approximate makes Search use the HNSW index: faster on large tables,
	// but it may miss true neighbours, so it does not meet the exactness
	// rule of store.Store. The default, false, is exact search (a scan of
	// the filtered rows). On pgvector 0.8 and later approximate searches
	// use a relaxed-order iterative index scan, so a filtered search keeps
	// scanning until it has TopK rows (up to pgvector's
	// hnsw.max_scan_tuples); on older versions a search returns at most
	// ef_search rows and a filter may leave fewer than TopK. A search with a
	// zero query vector is always exact (the index holds no zero vectors).
	Approximate bool

	// EfSearch is hnsw.ef_search for approximate searches (1..1000): the
	// size of the candidate list, trading speed for recall. Zero means
	// DefaultEfSearch. Before pgvector 0.8 each search raises it to TopK
	// (at most 1000). When the planner estimates a sequential scan cheaper
	// than the index scan (small tables, large ef_search) it takes it, and
	// the result is exact.
	EfSearch int

	// TextSearchConfig is the Postgres text search configuration of the
	// full-text column ("english", "simple", ...); empty means
	// DefaultTextSearchConfig. It is fixed when the table is created;
	// SearchText must use the same one.
	TextSearchConfig string

	// PartitionByTenant creates the table partitioned by LIST on its
	// tenant column (see Store.Scope): one partition a tenant, created by
	// the tenant's first write (and one for the default tenant, with the
	// table), each with its own indexes. A tenant's searches then scan, or
	// walk the HNSW graph of, its own partition only, and dropping a
	// tenant is dropping its partition. Worth it for tenants large enough
	// to deserve an index of their own; every partition costs the planner
	// a little, so thousands of small tenants are better served by the
	// plain table, where the tenant comes first in the primary key and the
	// document index and an HNSW search of a small tenant is an iterative
	// scan (see Approximate). It applies when New or the first Upsert
	// creates the table: New fails with ErrSchema if the table exists
	// unpartitioned; a partitioned table is used as such whatever the
	// option says.
	PartitionByTenant bool
}

// Store is a store.Store on a Postgres table with pgvector. Create one with
// New.
//
// Concurrency: all methods may be called concurrently; they share the
// caller's pool. Each Upsert runs in one transaction, and each Search is one
// statement, so a search sees every document as it was before or after a
// write (Postgres MVCC), never a mix.
type Store struct {
	*shared
	tenant string // the tenant of every row the store reads and writes; "" the default
	view   bool   // a tenant's view (Scope): Close and Scope are the base's
}

// shared is the state of a table that a store shares with its tenants'
// views.
type shared struct {
	pool    *pgxpool.Pool
	opts    Options
	table   string // quoted, possibly schema-qualified name
	regName string // the same, as to_regclass text
	schema  string // the schema part of Options.Table, or ""
	base    string // unqualified table name, for index names

	dim       atomic.Int64 // 0 until the table exists
	iterative bool         // pgvector >= 0.8: hnsw.iterative_scan
	closed    atomic.Bool

	// tenantCol: the table has the tenant column (every table this
	// version creates; one an earlier version made gets it from New with
	// Migrate). Without it the store is the default tenant alone and
	// Scope fails. partitioned: the table is partitioned by tenant.
	tenantCol, partitioned atomic.Bool
	partitions             sync.Map // tenant -> struct{}: partitions known to exist
}

var (
	_ store.Store = (*Store)(nil)

	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// New returns a Store on the table named by opts, using pool for every
// query. The pool stays the caller's: Close does not close it. The
// connections must reach a Postgres with the pgvector extension (0.7 or
// later); Migrate creates the extension if the role may.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidOptions)
	}
	if err := normalizeOptions(&opts); err != nil {
		return nil, err
	}
	s := &Store{shared: &shared{pool: pool, opts: opts}}
	schema, name, qualified := strings.Cut(opts.Table, ".")
	if qualified {
		s.table = pgx.Identifier{schema, name}.Sanitize()
		s.schema = schema
	} else {
		name = schema
		s.table = pgx.Identifier{name}.Sanitize()
	}
	s.regName, s.base = s.table, name

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Migrate {
		if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
			return nil, s.wrap(ctx, "create extension vector", err)
		}
	}
	var version string
	if err := pool.QueryRow(ctx, "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'vector'), '')").Scan(&version); err != nil {
		return nil, s.wrap(ctx, "read pgvector version", err)
	}
	if version == "" {
		return nil, fmt.Errorf("pgvector: the vector extension is not installed in this database (set Options.Migrate or run CREATE EXTENSION vector)")
	}
	s.iterative = versionAtLeast(version, 0, 8)

	if opts.Migrate && opts.Dimensions > 0 {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return s.ensureTable(ctx, tx, opts.Dimensions) })
		if err != nil {
			return nil, s.wrap(ctx, "create table", err)
		}
	}
	dim, err := s.tableDim(ctx, pool)
	if err != nil {
		return nil, err
	}
	if err := s.upgrade(ctx, dim > 0); err != nil { // tenant.go
		return nil, err
	}
	switch {
	case dim == 0 && !opts.Migrate:
		return nil, fmt.Errorf("%w: %s (set Options.Migrate to create it)", ErrNoTable, s.table)
	case dim > 0 && opts.Dimensions > 0 && dim != opts.Dimensions:
		return nil, fmt.Errorf("pgvector: table %s: %w", s.table, &store.DimensionError{Want: dim, Got: opts.Dimensions})
	}
	s.dim.Store(int64(dim))
	return s, nil
}

func normalizeOptions(o *Options) error {
	if o.Table == "" {
		o.Table = DefaultTable
	}
	parts := strings.Split(o.Table, ".")
	if len(parts) > 2 {
		return fmt.Errorf("%w: table %q: at most one '.' (schema.table)", ErrInvalidOptions, o.Table)
	}
	for _, p := range parts {
		if !identRE.MatchString(p) {
			return fmt.Errorf("%w: table %q: %q is not an identifier of letters, digits and '_'", ErrInvalidOptions, o.Table, p)
		}
	}
	if len(parts[len(parts)-1]) > maxTableName {
		return fmt.Errorf("%w: table %q: name longer than %d bytes", ErrInvalidOptions, o.Table, maxTableName)
	}
	if o.Dimensions < 0 || o.Dimensions > MaxDimensions {
		return fmt.Errorf("%w: Dimensions %d out of range 0..%d", ErrInvalidOptions, o.Dimensions, MaxDimensions)
	}
	if o.M == 0 {
		o.M = DefaultM
	}
	if o.EfConstruction == 0 {
		o.EfConstruction = DefaultEfConstruction
	}
	if o.EfSearch == 0 {
		o.EfSearch = DefaultEfSearch
	}
	if o.M < 2 || o.M > 100 {
		return fmt.Errorf("%w: M %d out of range 2..100", ErrInvalidOptions, o.M)
	}
	if o.EfConstruction < 4 || o.EfConstruction > 1000 || o.EfConstruction < 2*o.M {
		return fmt.Errorf("%w: EfConstruction %d out of range 4..1000 or below 2*M", ErrInvalidOptions, o.EfConstruction)
	}
	if o.EfSearch < 1 || o.EfSearch > 1000 {
		return fmt.Errorf("%w: EfSearch %d out of range 1..1000", ErrInvalidOptions, o.EfSearch)
	}
	if o.TextSearchConfig == "" {
		o.TextSearchConfig = DefaultTextSearchConfig
	}
	if !identRE.MatchString(o.TextSearchConfig) {
		return fmt.Errorf("%w: TextSearchConfig %q is not an identifier", ErrInvalidOptions, o.TextSearchConfig)
	}
	return nil
}

// versionAtLeast reports whether a pgvector version string such as
// "0.8.1" is at least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

// Dimensions returns the vector dimension of the table, or 0 while the
// table has not been created.
func (s *Store) Dimensions() int { return int(s.dim.Load()) }

// Table returns the quoted, possibly schema-qualified table name the store
// uses, ready to put in SQL.
func (s *Store) Table() string { return s.table }

// Close marks the store closed: later calls return store.ErrClosed, on the
// store and on its tenants' views (the Close of a view does nothing). It
// does not close the pool, which belongs to the caller, and it does not
// wait for calls in flight. Close is idempotent.
func (s *Store) Close() error {
	if s.view {
		return nil
	}
	s.closed.Store(true)
	return nil
}

// begin checks what every method checks first.
func (s *Store) begin(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// wrap adds context to a database error and makes sure an error caused by
// a cancelled or expired context matches ctx.Err().
func (s *Store) wrap(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("pgvector: %s on %s: %w: %w", what, s.table, cerr, err)
	}
	return fmt.Errorf("pgvector: %s on %s: %w", what, s.table, err)
}

// isUniqueViolation reports whether err is Postgres's unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isUndefinedTable reports whether err is Postgres's undefined_table.
func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
