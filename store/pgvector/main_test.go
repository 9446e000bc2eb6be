package pgvector_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/store/pgvector"
)

// The tests that need a database read its DSN from RAG_PG_DSN, e.g. the
// test server of .ci/pg-start.sh:
//
//	export RAG_PG_DSN="$(bash .ci/pg-start.sh)"
//
// and skip when it is not set. Every test works in tables of its own, named
// rag_test_<pid>_<n>, and drops them when done.
const dsnEnv = "RAG_PG_DSN"

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
	tableSeq atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	os.Exit(code)
}

// testPool returns the package's shared pool, or skips t when RAG_PG_DSN is
// not set. One pool serves every test: the PGlite test server is a single
// backend and its DSN limits the pool to one connection.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("%s is not set: no Postgres with pgvector to test against (run: export %s=\"$(bash .ci/pg-start.sh)\")", dsnEnv, dsnEnv)
	}
	poolOnce.Do(func() {
		pool, poolErr = pgxpool.New(context.Background(), dsn)
		if poolErr == nil {
			poolErr = pool.Ping(context.Background())
		}
	})
	if poolErr != nil {
		t.Fatalf("connect to %s: %v", dsnEnv, poolErr)
	}
	return pool
}

// newTable returns a fresh table name and drops the table when t ends.
func newTable(t testing.TB) string {
	t.Helper()
	p := testPool(t)
	name := fmt.Sprintf("rag_test_%d_%d", os.Getpid(), tableSeq.Add(1))
	t.Cleanup(func() {
		if _, err := p.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Errorf("drop table %s: %v", name, err)
		}
	})
	return name
}

// newStore returns a store on a fresh table with Migrate set.
func newStore(t testing.TB, opts pgvector.Options) *pgvector.Store {
	t.Helper()
	p := testPool(t)
	if opts.Table == "" {
		opts.Table = newTable(t)
	}
	opts.Migrate = true
	s, err := pgvector.New(context.Background(), p, opts)
	if err != nil {
		t.Fatalf("pgvector.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
