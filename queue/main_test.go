package queue_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/queue"
)

// dsn is the Postgres the tests create their databases on: RAG_RIVER_DSN,
// or one .ci/postgres-start.sh starts for the run when the PostgreSQL
// binaries are installed. Empty: the Postgres tests skip (never in CI).
var (
	dsn     string
	skipWhy string
)

func TestMain(m *testing.M) {
	dsn = os.Getenv("RAG_RIVER_DSN")
	started := false
	if dsn == "" {
		bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
		if len(bins) == 0 && os.Getenv("CI") != "true" {
			skipWhy = "no RAG_RIVER_DSN and no PostgreSQL binaries (/usr/lib/postgresql/*/bin); run `export RAG_RIVER_DSN=\"$(bash .ci/postgres-start.sh)\"`"
		} else {
			// A server the script started before (for someone else) is
			// reused and left running.
			_, err := os.Stat("../.ci/postgres/dsn")
			running := err == nil
			out, err := exec.Command("bash", "../.ci/postgres-start.sh").Output()
			if err != nil {
				fmt.Fprintln(os.Stderr, "queue tests: .ci/postgres-start.sh:", err)
				os.Exit(1)
			}
			dsn, started = strings.TrimSpace(string(out)), !running
		}
	}
	code := m.Run()
	if started {
		exec.Command("bash", "../.ci/postgres-stop.sh").Run() //nolint:errcheck // best effort
	}
	os.Exit(code)
}

var dbSeq atomic.Int64

// newPool returns a pool on a new, migrated database of the test's own.
func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if dsn == "" {
		t.Skip(skipWhy)
	}
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("rag_queue_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		admin, err := pgxpool.New(context.Background(), dsn)
		if err == nil {
			admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck // best effort
			admin.Close()
		}
	})
	if err := queue.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
