package pgvector_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
	"github.com/ragkit-go/rag/store/storetest"
)

// TestConformancePartitioned runs the suite, tenant rules included, on a
// table partitioned by tenant: each tenant's rows in a partition the
// tenant's first write creates.
func TestConformancePartitioned(t *testing.T) {
	testPool(t)
	opts := pgvector.Options{PartitionByTenant: true}
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, opts)
	}, storetest.Options{Reopen: reopen(opts)})
}

// partitions returns the partitions of a table.
func partitions(t *testing.T, table string) []string {
	t.Helper()
	rows, err := testPool(t).Query(ctx, "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1::text) ORDER BY 1", table)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// A partitioned table has a partition for the default tenant from the
// start and one more for each tenant that wrote; approximate searches of
// every tenant, with and without partitions, return its own records only,
// also for a tenant that never wrote.
func TestTenantPartitionsAndApproximate(t *testing.T) {
	for _, part := range []bool{false, true} {
		t.Run(fmt.Sprintf("partitioned=%v", part), func(t *testing.T) {
			const dim = 8
			name := newTable(t)
			base := newStore(t, pgvector.Options{Table: name, Dimensions: dim, PartitionByTenant: part, M: 4, EfConstruction: 8})
			approx := newStore(t, pgvector.Options{Table: name, Approximate: true})
			rng := rand.New(rand.NewPCG(3, 3))
			tenants := []string{"", "acme", "O'Brien & Co"} // a quote: the partition DDL quotes it
			for i, tn := range tenants {
				v := scope(t, base, tn)
				var docs []store.StoredDocument
				for j := range 20 * (i + 1) {
					d := makeDoc(rng, fmt.Sprintf("d%02d", j), 3, dim)
					for k := range d.Records {
						d.Records[k].Metadata = map[string]any{"owner": tn}
					}
					docs = append(docs, d)
				}
				mustUpsert(t, v, docs...)
			}
			if part {
				if got := partitions(t, name); len(got) != len(tenants) {
					t.Errorf("partitions %v, want %d", got, len(tenants))
				}
			}
			for i, tn := range append(tenants, "never wrote") {
				v := scope(t, approx, tn)
				rs, err := v.Search(ctx, store.Query{Vector: randVec(rng, dim), TopK: 1000})
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				if i < len(tenants) {
					want = 60 * (i + 1)
				}
				if len(rs) != want {
					t.Errorf("tenant %q: approximate search with TopK 1000 found %d records, want all %d", tn, len(rs), want)
				}
				for _, r := range rs {
					if r.Metadata["owner"] != tn {
						t.Fatalf("tenant %q found a record of tenant %v", tn, r.Metadata["owner"])
					}
				}
				// A filter naming a document finds all its records.
				rs, err = v.Search(ctx, store.Query{Vector: randVec(rng, dim), TopK: 10, Filter: store.Eq(store.FieldDocID, "d05")})
				if err != nil {
					t.Fatal(err)
				}
				if want = min(want, 3); len(rs) != want {
					t.Errorf("tenant %q: approximate search of document d05 found %d records, want %d", tn, len(rs), want)
				}
				for _, r := range rs {
					if r.Metadata["owner"] != tn || r.DocID != "d05" {
						t.Fatalf("tenant %q, document d05: found %s of tenant %v", tn, r.ID, r.Metadata["owner"])
					}
				}
			}
		})
	}
}

func scope(t testing.TB, s *pgvector.Store, tenant string) store.Store {
	t.Helper()
	if tenant == "" {
		return s
	}
	v, err := s.Scope(tenant)
	if err != nil {
		t.Fatalf("Scope(%q): %v", tenant, err)
	}
	return v
}

// legacyDDL is the table an earlier version of this package made: no
// tenant column, the record ID its primary key.
const legacyDDL = `CREATE TABLE %s (
	id          text PRIMARY KEY,
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
	embedding   vector(4) NOT NULL,
	tsv         tsvector GENERATED ALWAYS AS (
		setweight(to_tsvector('english'::regconfig, title), 'A') ||
		setweight(to_tsvector('english'::regconfig, text), 'B')) STORED
)`

// A table an earlier version made opens as it is: its rows are the
// default tenant's, written and read as before, and Scope fails with
// ErrSchema. Opened with Migrate it gains the tenant column: the same rows
// are still the default tenant's, and tenants may reuse their IDs.
func TestLegacyTable(t *testing.T) {
	name := newTable(t)
	p := testPool(t)
	if _, err := p.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exec(ctx, fmt.Sprintf(legacyDDL, pgx.Identifier{name}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exec(ctx, "INSERT INTO "+pgx.Identifier{name}.Sanitize()+" (id, doc_id, chunk, chunk_start, chunk_end, text, doc_hash, embedding) VALUES ('old#0', 'old', 0, 0, 3, 'old text', 'h-old', '[1,0,0,0]')"); err != nil {
		t.Fatal(err)
	}
	q := store.Query{Vector: []float32{1, 0, 0, 0}, TopK: 10}

	old, err := pgvector.New(ctx, p, pgvector.Options{Table: name})
	if err != nil {
		t.Fatalf("New on a table without the tenant column: %v", err)
	}
	if rs, err := old.Search(ctx, q); err != nil || !slices.Equal(ids(rs), []string{"old#0"}) {
		t.Fatalf("search of the old table: %v, %v", ids(rs), err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	mustUpsert(t, old, makeDoc(rng, "new", 1, 4))
	if h, err := old.Hashes(ctx, "old", "new"); err != nil || len(h) != 2 {
		t.Fatalf("Hashes on the old table: %v, %v", h, err)
	}
	if _, err := old.Scope("acme"); !errors.Is(err, pgvector.ErrSchema) || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Scope on a table without the tenant column: %v, want ErrSchema and errors.ErrUnsupported", err)
	}
	if _, err := pgvector.New(ctx, p, pgvector.Options{Table: name, PartitionByTenant: true}); !errors.Is(err, pgvector.ErrSchema) {
		t.Errorf("PartitionByTenant on an unpartitioned table: %v, want ErrSchema", err)
	}

	up := newStore(t, pgvector.Options{Table: name}) // Migrate
	if rs, err := up.Search(ctx, q); err != nil || !slices.Contains(ids(rs), "old#0") || len(rs) != 2 {
		t.Fatalf("search after the migration: %v, %v", ids(rs), err)
	}
	acme, err := up.Scope("acme")
	if err != nil {
		t.Fatalf("Scope after the migration: %v", err)
	}
	if rs, err := acme.Search(ctx, q); err != nil || len(rs) != 0 {
		t.Errorf("a new tenant sees %v, %v; want nothing", ids(rs), err)
	}
	d := makeDoc(rng, "old", 1, 4) // the same IDs as the default tenant's
	d.Records[0].ID = "old#0"
	mustUpsert(t, acme, d)
	if h, err := up.Hashes(ctx, "old"); err != nil || h["old"] != "h-old" {
		t.Errorf("the default tenant's hash of old after acme wrote old: %v, %v", h, err)
	}
	if h, err := acme.Hashes(ctx, "old"); err != nil || h["old"] != "h-old" || len(h) != 1 {
		t.Errorf("acme's hashes: %v, %v", h, err) // makeDoc's hash is h-<id> too
	}
	if err := acme.Delete(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if rs, err := up.Search(ctx, q); err != nil || !slices.Contains(ids(rs), "old#0") {
		t.Errorf("acme's Delete(old) deleted the default tenant's: %v, %v", ids(rs), err)
	}
}

// TestTenantHNSWRecall measures the recall@10 of approximate (HNSW)
// search for a tenant holding 1% of 20,000 random 128-dimensional vectors
// (the other 99% spread over nine other tenants), against the exact
// search of the same tenant, on a plain table (the tenant is a filter of
// pgvector's relaxed-order iterative index scan) and on a table
// partitioned by tenant (the tenant's partition has a graph of its own),
// and requires at least 0.95 in both at ef_search = 100: of Search (with
// the plan the planner chooses: on a small partition, a sequential scan)
// and of the HNSW walk itself (the same statement, with sequential scans
// disabled, the HNSW index in use). It logs load and build times, and the
// recall and time a query at several ef_search values.
//
//	RAG_PG_RECALL=1 go test -run TestTenantHNSWRecall -v ./store/pgvector/
func TestTenantHNSWRecall(t *testing.T) {
	if os.Getenv(recallEnv) == "" {
		t.Skipf("set %s=1 to measure filtered HNSW recall on 20,000 vectors (two minutes)", recallEnv)
	}
	const (
		n, dim, queries, k = 20000, 128, 100, 10
		tenants            = 10
		small              = n / 100 // the tenant measured: 1%
		required           = 0.95
		requiredEf         = 100
	)
	for _, part := range []bool{false, true} {
		t.Run(fmt.Sprintf("partitioned=%v", part), func(t *testing.T) {
			name := newTable(t)
			exact := newStore(t, pgvector.Options{Table: name, Dimensions: dim, DeferIndex: true, PartitionByTenant: part})
			rng := rand.New(rand.NewPCG(20000, 1))
			start := time.Now()
			// Twenty rounds, as a live service would write: 990 vectors
			// to one of t1..t9, then 10 to t0.
			written := 0
			batch := func(tn string, count int) {
				docs := make([]store.StoredDocument, count)
				for i := range docs {
					id := fmt.Sprintf("v%05d", written+i)
					docs[i] = store.StoredDocument{ID: id, Records: []store.Record{{ID: id, DocID: id, Text: id, Vector: randVec(rng, dim)}}}
				}
				mustUpsert(t, scope(t, exact, tn), docs...)
				written += count
			}
			for round := range 20 {
				batch(fmt.Sprintf("t%d", 1+round%(tenants-1)), n/20-small/20)
				batch("t0", small/20)
			}
			load := time.Since(start)
			start = time.Now()
			if err := exact.CreateIndex(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d vectors of %d dimensions in %d tenants, t0 holding %d: load %v, HNSW build %v", n, dim, tenants, small, load.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			var held int
			if err := testPool(t).QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()+" WHERE tenant = 't0'").Scan(&held); err != nil || held != small {
				t.Fatalf("t0 holds %d rows (%v), want %d", held, err, small)
			}

			ex := scope(t, exact, "t0")
			qs := make([][]float32, queries)
			truth := make([][]string, queries)
			for i := range qs {
				qs[i] = randVec(rng, dim)
				rs, err := ex.Search(ctx, store.Query{Vector: qs[i], TopK: k})
				if err != nil {
					t.Fatal(err)
				}
				truth[i] = ids(rs)
			}
			efs := []int{40, 100, 200}
			if e := os.Getenv("RAG_PG_RECALL_EFS"); e != "" {
				efs = nil
				for _, f := range strings.Split(e, ",") {
					v, _ := strconv.Atoi(f)
					efs = append(efs, v)
				}
			}
			recallOf := func(got [][]string) float64 {
				hits := 0
				for i := range got {
					for _, id := range got[i] {
						if slices.Contains(truth[i], id) {
							hits++
						}
					}
				}
				return float64(hits) / float64(queries*k)
			}
			for _, ef := range efs {
				approx := newStore(t, pgvector.Options{Table: name, Approximate: true, EfSearch: ef})
				v := scope(t, approx, "t0").(*pgvector.Store)
				// What Search returns, with the plan the planner picks:
				// for a small partition, a sequential scan (exact).
				got := make([][]string, queries)
				start = time.Now()
				for i, q := range qs {
					rs, err := v.Search(ctx, store.Query{Vector: q, TopK: k})
					if err != nil {
						t.Fatal(err)
					}
					if len(rs) != k {
						t.Errorf("ef_search=%d: query %d: %d results, want %d", ef, i, len(rs), k)
					}
					got[i] = ids(rs)
				}
				perQuery := (time.Since(start) / queries).Round(time.Microsecond)
				searchRecall := recallOf(got)
				indexed := walksHNSW(searchPlan(t, v, store.Query{Vector: qs[0], TopK: k}, ef, false), part)
				// The HNSW walk itself: the same statement with sequential
				// scans disabled.
				start = time.Now()
				for i, q := range qs {
					got[i] = hnswIDs(t, v, store.Query{Vector: q, TopK: k}, ef)
				}
				hnswPerQuery := (time.Since(start) / queries).Round(time.Microsecond)
				hnswRecall := recallOf(got)
				plan := searchPlan(t, v, store.Query{Vector: qs[0], TopK: k}, ef, true)
				t.Logf("ef_search=%d: tenant t0: Search recall@%d %.4f, %v a query (HNSW index chosen: %v); HNSW walk recall@%d %.4f, %v a query",
					ef, k, searchRecall, perQuery, indexed, k, hnswRecall, hnswPerQuery)
				if ef == requiredEf {
					if !walksHNSW(plan, part) {
						t.Errorf("ef_search=%d: with sequential scans off, the plan does not use the HNSW index:\n%s", ef, plan)
					}
					for what, r := range map[string]float64{"Search": searchRecall, "the HNSW walk": hnswRecall} {
						if r < required {
							t.Errorf("recall@%d of %s for tenant t0 at ef_search=%d is %.4f, want at least %s", k, what, ef, r, strconv.FormatFloat(required, 'f', -1, 64))
						}
					}
				}
			}
		})
	}
}

// walksHNSW reports whether plan scans the HNSW index of a tenant's rows:
// the table's (name_embedding_hnsw), or on a partition the one Postgres
// derives from it (partition_embedding_idx).
func walksHNSW(plan string, partitioned bool) bool {
	suffix := "_embedding_hnsw"
	if partitioned {
		suffix = "_embedding_idx"
	}
	return regexp.MustCompile(`Index Scan using \S+` + suffix + ` on `).MatchString(plan)
}

// hnswIDs runs the statement of s's approximate search for q with
// sequential scans disabled, so that the planner walks the HNSW index, and
// returns the IDs found.
func hnswIDs(t *testing.T, s *pgvector.Store, q store.Query, ef int) []string {
	t.Helper()
	sql, args, err := pgvector.SearchSQL(s, q, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = pgx.BeginFunc(ctx, testPool(t), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('hnsw.ef_search', $1::text, true), set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('enable_seqscan', 'off', true)", strconv.Itoa(ef)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT x.id FROM ("+sql+") AS x", args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
