package pgvector_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
)

// recallEnv enables TestHNSWRecall, which loads 20,000 vectors and builds
// an HNSW index: about a minute on the PGlite test server.
const recallEnv = "RAG_PG_RECALL"

// TestHNSWRecall measures the recall@10 of approximate (HNSW) search
// against exact search on 20,000 random 128-dimensional vectors (a fixed
// seed; random Gaussian vectors are the hard case for HNSW, real
// embeddings cluster and do better), with the default build parameters
// (m = 16, ef_construction = 64), and requires at least 0.95 at
// ef_search = 500 with the index in use (measured: 0.975 to 0.98; 0.95 to 0.96 at
// 400; the graph differs a little from build to build). It logs the load
// time, the index build time, and the recall, time and plan at several
// ef_search values: from about 700 on, the planner prefers an exact
// sequential scan.
//
//	RAG_PG_RECALL=1 go test -run TestHNSWRecall -v ./store/pgvector/
//
// RAG_PG_RECALL_M, RAG_PG_RECALL_EFC and RAG_PG_RECALL_EFS (a comma list)
// override the build parameters and the ef_search values, to explore.
func TestHNSWRecall(t *testing.T) {
	if os.Getenv(recallEnv) == "" {
		t.Skipf("set %s=1 to measure HNSW recall on 20,000 vectors (about a minute)", recallEnv)
	}
	const (
		n, dim, queries, k = 20000, 128, 100, 10
		required           = 0.95
		requiredEf         = 500
	)
	name := newTable(t)
	m, efc := envInt("RAG_PG_RECALL_M", 16), envInt("RAG_PG_RECALL_EFC", 64)
	exact := newStore(t, pgvector.Options{Table: name, Dimensions: dim, DeferIndex: true, M: m, EfConstruction: efc})
	rng := rand.New(rand.NewPCG(20000, 128))

	start := time.Now()
	for b := 0; b < n; b += 1000 {
		docs := make([]store.StoredDocument, 0, 1000)
		for i := b; i < b+1000; i++ {
			id := fmt.Sprintf("v%05d", i)
			docs = append(docs, store.StoredDocument{ID: id, Records: []store.Record{{ID: id, DocID: id, Text: id, Vector: randVec(rng, dim)}}})
		}
		mustUpsert(t, exact, docs...)
	}
	load := time.Since(start)
	start = time.Now()
	if err := exact.CreateIndex(ctx); err != nil {
		t.Fatal(err)
	}
	build := time.Since(start)
	t.Logf("%d vectors of %d dimensions: load %v, HNSW build (m=%d, ef_construction=%d) %v", n, dim, load.Round(time.Millisecond), m, efc, build.Round(time.Millisecond))

	qs := make([][]float32, queries)
	truth := make([][]string, queries)
	start = time.Now()
	for i := range qs {
		qs[i] = randVec(rng, dim)
		rs, err := exact.Search(ctx, store.Query{Vector: qs[i], TopK: k})
		if err != nil {
			t.Fatal(err)
		}
		truth[i] = ids(rs)
	}
	t.Logf("exact search: %v a query", (time.Since(start) / queries).Round(time.Microsecond))

	efs := []int{40, 100, 200, 400, 500, 800}
	if e := os.Getenv("RAG_PG_RECALL_EFS"); e != "" {
		efs = nil
		for _, f := range strings.Split(e, ",") {
			v, _ := strconv.Atoi(f)
			efs = append(efs, v)
		}
	}
	for _, ef := range efs {
		approx := newStore(t, pgvector.Options{Table: name, Approximate: true, EfSearch: ef})
		hits := 0
		start = time.Now()
		for i, q := range qs {
			rs, err := approx.Search(ctx, store.Query{Vector: q, TopK: k})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids(rs) {
				if slices.Contains(truth[i], id) {
					hits++
				}
			}
		}
		recall := float64(hits) / float64(queries*k)
		perQuery := (time.Since(start) / queries).Round(time.Microsecond)
		// The planner takes a sequential scan (exact) when it estimates
		// the index scan dearer, as it does for large ef_search values.
		indexed := usesHNSW(t, approx, store.Query{Vector: qs[0], TopK: k}, ef, name+"_embedding_hnsw")
		t.Logf("ef_search=%d: recall@%d %.4f, %v a query, HNSW index used: %v", ef, k, recall, perQuery, indexed)
		if ef == requiredEf {
			if !indexed {
				t.Errorf("ef_search=%d: the planner does not use the HNSW index, recall not measured", ef)
			}
			if recall < required {
				t.Errorf("recall@%d at ef_search=%d is %.4f, want at least %s", k, ef, recall, strconv.FormatFloat(required, 'f', -1, 64))
			}
		}
	}
}

// usesHNSW reports whether the approximate search for q runs as an index
// scan of index under the settings Search uses.
func usesHNSW(t *testing.T, s *pgvector.Store, q store.Query, ef int, index string) bool {
	t.Helper()
	return strings.Contains(searchPlan(t, s, q, ef, false), "Index Scan using "+index)
}

// searchPlan returns the plan of the approximate search for q under the
// settings Search uses, and with sequential scans disabled if noSeqScan.
func searchPlan(t *testing.T, s *pgvector.Store, q store.Query, ef int, noSeqScan bool) string {
	t.Helper()
	sql, args, err := pgvector.SearchSQL(s, q, true)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	err = pgx.BeginFunc(ctx, testPool(t), func(tx pgx.Tx) error {
		seq := "on"
		if noSeqScan {
			seq = "off"
		}
		if _, err := tx.Exec(ctx, "SELECT set_config('hnsw.ef_search', $1::text, true), set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('enable_seqscan', $2::text, true)", strconv.Itoa(ef), seq); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
