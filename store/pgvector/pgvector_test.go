package pgvector_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
)

var ctx = context.Background()

func randVec(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// makeDoc returns a document of n records with random vectors.
func makeDoc(rng *rand.Rand, id string, n, dim int) store.StoredDocument {
	d := store.StoredDocument{ID: id, Hash: "h-" + id}
	for i := range n {
		d.Records = append(d.Records, store.Record{
			ID: fmt.Sprintf("%s#%d", id, i), DocID: id, Chunk: i, Start: 10 * i, End: 10*i + 9,
			Text: fmt.Sprintf("chunk %d of %s", i, id), Vector: randVec(rng, dim), Title: "title " + id,
		})
	}
	return d
}

func mustUpsert(t *testing.T, s store.Store, docs ...store.StoredDocument) {
	t.Helper()
	if err := s.Upsert(ctx, docs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func allRecords(docs ...store.StoredDocument) []store.Record {
	var out []store.Record
	for _, d := range docs {
		out = append(out, d.Records...)
	}
	return out
}

func ids(rs []store.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// contents returns the IDs of every record of s, sorted.
func contents(t *testing.T, s store.Store, dim int) []string {
	t.Helper()
	q := make([]float32, dim)
	q[0] = 1
	rs, err := s.Search(ctx, store.Query{Vector: q, TopK: 1 << 20})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	out := ids(rs)
	slices.Sort(out)
	return out
}

func recordIDs(recs []store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

// checkSearch fails unless s answers q as store.BruteForce does on recs.
func checkSearch(t *testing.T, s store.Store, recs []store.Record, q store.Query) {
	t.Helper()
	got, err := s.Search(ctx, q)
	if err != nil {
		t.Fatalf("Search(%s): %v", q.Filter, err)
	}
	want := store.BruteForce(recs, q)
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("Search(TopK %d, %s):\n got %v\nwant %v", q.TopK, q.Filter, ids(got), ids(want))
	}
}

// Options are validated before any query.
func TestNewInvalidOptions(t *testing.T) {
	// A pool that never connects: validation must fail first.
	p, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, o := range []pgvector.Options{
		{Table: "x; DROP TABLE y"}, {Table: `"quoted"`}, {Table: "1abc"}, {Table: "a.b.c"}, {Table: "a."},
		{Table: "sch.ta-ble"}, {Table: strings.Repeat("t", 49)}, {Table: "ünï"},
		{Dimensions: -1}, {Dimensions: pgvector.MaxDimensions + 1},
		{M: 1}, {M: 101}, {EfConstruction: 3}, {M: 40, EfConstruction: 64}, {EfConstruction: 1001},
		{EfSearch: -1}, {EfSearch: 1001}, {TextSearchConfig: "english'); DROP TABLE x; --"},
	} {
		if _, err := pgvector.New(ctx, p, o); !errors.Is(err, pgvector.ErrInvalidOptions) {
			t.Errorf("New(%+v) = %v, want ErrInvalidOptions", o, err)
		}
	}
	if _, err := pgvector.New(ctx, nil, pgvector.Options{}); !errors.Is(err, pgvector.ErrInvalidOptions) {
		t.Errorf("New(nil pool) = %v, want ErrInvalidOptions", err)
	}
}

// Without Migrate, New needs the table; with it, New or the first Upsert
// creates it.
func TestNewTableLifecycle(t *testing.T) {
	p := testPool(t)
	name := newTable(t)
	if _, err := pgvector.New(ctx, p, pgvector.Options{Table: name}); !errors.Is(err, pgvector.ErrNoTable) {
		t.Fatalf("New without Migrate on a missing table = %v, want ErrNoTable", err)
	}
	if _, err := pgvector.New(ctx, p, pgvector.Options{Table: name, Migrate: true, Dimensions: 8}); err != nil {
		t.Fatal(err)
	}
	// Now it exists: no Migrate needed, and the dimension is read back.
	s, err := pgvector.New(ctx, p, pgvector.Options{Table: name})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dimensions() != 8 {
		t.Errorf("Dimensions() = %d, want 8", s.Dimensions())
	}
	_, err = pgvector.New(ctx, p, pgvector.Options{Table: name, Dimensions: 16})
	var de *store.DimensionError
	if !errors.As(err, &de) || de.Want != 8 || de.Got != 16 || !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("New with Dimensions 16 on a table of 8 = %v, want *store.DimensionError{8, 16}", err)
	}

	// A table of the same name that is not ours.
	other := newTable(t)
	if _, err := p.Exec(ctx, "CREATE TABLE "+other+" (id text, embedding text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pgvector.New(ctx, p, pgvector.Options{Table: other, Migrate: true}); !errors.Is(err, pgvector.ErrSchema) {
		t.Errorf("New on a foreign table = %v, want ErrSchema", err)
	}
}

// With no Dimensions the first Upsert fixes the dimension, for every store
// on the table, including stores opened before the table existed.
func TestLazyDimensions(t *testing.T) {
	name := newTable(t)
	a := newStore(t, pgvector.Options{Table: name})
	b := newStore(t, pgvector.Options{Table: name})
	rng := rand.New(rand.NewPCG(1, 1))
	if rs, err := b.Search(ctx, store.Query{Vector: randVec(rng, 5)}); err != nil || len(rs) != 0 {
		t.Fatalf("Search before any write = %v, %v", rs, err)
	}
	if a.Dimensions() != 0 {
		t.Fatalf("Dimensions() before any write = %d", a.Dimensions())
	}
	d := makeDoc(rng, "a", 3, 5)
	mustUpsert(t, a, d)
	if a.Dimensions() != 5 {
		t.Errorf("Dimensions() after writing 5-d vectors = %d", a.Dimensions())
	}
	// b learns the dimension from the table.
	checkSearch(t, b, d.Records, store.Query{Vector: randVec(rng, 5), TopK: 10})
	err := b.Upsert(ctx, []store.StoredDocument{makeDoc(rng, "b", 2, 6)})
	var de *store.DimensionError
	if !errors.As(err, &de) || de.Want != 5 || de.Got != 6 {
		t.Errorf("Upsert of 6-d vectors into a 5-d table = %v, want *store.DimensionError{5, 6}", err)
	}
	if _, err := b.Search(ctx, store.Query{Vector: randVec(rng, 6)}); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("Search with a 6-d vector = %v, want ErrDimensionMismatch", err)
	}
	if got, want := contents(t, a, 5), recordIDs(d.Records); !slices.Equal(got, want) {
		t.Errorf("contents = %v, want %v", got, want)
	}
	var typ string
	if err := testPool(t).QueryRow(ctx, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::text::regclass AND attname = 'embedding'", name).Scan(&typ); err != nil || typ != "vector(5)" {
		t.Errorf("embedding column type = %q, %v; want vector(5)", typ, err)
	}
}

// Concurrent first writes of different dimensions: exactly one wins, the
// other gets a DimensionError and writes nothing.
func TestLazyCreateRace(t *testing.T) {
	name := newTable(t)
	rng := rand.New(rand.NewPCG(2, 2))
	docs := []store.StoredDocument{makeDoc(rng, "x", 2, 3), makeDoc(rng, "y", 2, 4)}
	errs := make(chan error, 2)
	for _, d := range docs {
		s := newStore(t, pgvector.Options{Table: name})
		go func() { errs <- s.Upsert(ctx, []store.StoredDocument{d}) }()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("errors %v and %v: want exactly one DimensionError", e1, e2)
	}
	if err := errors.Join(e1, e2); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Fatalf("error %v, want ErrDimensionMismatch", err)
	}
	s := newStore(t, pgvector.Options{Table: name})
	winner := docs[0]
	if s.Dimensions() == 4 {
		winner = docs[1]
	}
	if got, want := contents(t, s, s.Dimensions()), recordIDs(winner.Records); !slices.Equal(got, want) {
		t.Errorf("contents = %v, want the winner's %v", got, want)
	}
}

// A schema-qualified table works, indexes included.
func TestSchemaQualifiedTable(t *testing.T) {
	p := testPool(t)
	schema := newTable(t) + "_schema"
	if _, err := p.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE") })
	s := newStore(t, pgvector.Options{Table: schema + ".Chunks", Dimensions: 4})
	if got, want := s.Table(), `"`+schema+`"."Chunks"`; got != want {
		t.Errorf("Table() = %s, want %s", got, want)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	d := makeDoc(rng, "d", 4, 4)
	mustUpsert(t, s, d)
	checkSearch(t, s, d.Records, store.Query{Vector: randVec(rng, 4), TopK: 3, Filter: store.Eq(store.FieldDocID, "d")})
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE schemaname = $1::text AND tablename = 'Chunks'", schema).Scan(&n); err != nil || n != 6 {
		t.Errorf("%d indexes in schema %s (err %v), want 6 (primary key, doc_id, metadata, tags, tsv, hnsw)", n, schema, err)
	}
}

// An Upsert that fails part way leaves every document as it was: the old
// version whole, no new record, the old hash.
func TestUpsertAtomic(t *testing.T) {
	s := newStore(t, pgvector.Options{})
	rng := rand.New(rand.NewPCG(4, 4))
	a, b, c := makeDoc(rng, "a", 3, 8), makeDoc(rng, "b", 2, 8), makeDoc(rng, "c", 1, 8)
	mustUpsert(t, s, a, b, c)
	before := contents(t, s, 8)

	// New versions of a and b: a is large enough to span several INSERT
	// statements; b's last record takes an ID that document c holds, so
	// the last statement fails after the DELETE and the earlier INSERTs ran.
	a2 := makeDoc(rng, "a", 1200, 8)
	b2 := makeDoc(rng, "b", 3, 8)
	b2.Records[2].ID = c.Records[0].ID
	a2.Hash, b2.Hash = "new-a", "new-b"
	err := s.Upsert(ctx, []store.StoredDocument{a2, b2})
	if !errors.Is(err, store.ErrInvalidRecord) {
		t.Fatalf("Upsert with a record ID of another document = %v, want ErrInvalidRecord", err)
	}
	if got := contents(t, s, 8); !slices.Equal(got, before) {
		t.Errorf("after a failed Upsert the store holds %d records, want the %d from before", len(got), len(before))
	}
	h, err := s.Hashes(ctx, "a", "b", "c")
	if err != nil || h["a"] != a.Hash || h["b"] != b.Hash || h["c"] != c.Hash {
		t.Errorf("Hashes after a failed Upsert = %v, %v", h, err)
	}
	checkSearch(t, s, allRecords(a, b, c), store.Query{Vector: randVec(rng, 8), TopK: 6})

	// Two records of one call with one ID are refused before writing.
	dup := makeDoc(rng, "a", 2, 8)
	dup.Records[1].ID = dup.Records[0].ID
	if err := s.Upsert(ctx, []store.StoredDocument{dup}); !errors.Is(err, store.ErrInvalidRecord) {
		t.Errorf("Upsert with a duplicate record ID = %v, want ErrInvalidRecord", err)
	}
	if got := contents(t, s, 8); !slices.Equal(got, before) {
		t.Errorf("after a refused Upsert the store changed")
	}
}

// Strings Postgres cannot store are refused before anything is written;
// reading with them is not an error and finds nothing.
func TestUnstorableStrings(t *testing.T) {
	s := newStore(t, pgvector.Options{})
	rng := rand.New(rand.NewPCG(5, 5))
	ok := makeDoc(rng, "ok", 2, 4)
	mustUpsert(t, s, ok)
	for name, mutate := range map[string]func(d *store.StoredDocument){
		"text":         func(d *store.StoredDocument) { d.Records[0].Text = "nul\x00" },
		"title":        func(d *store.StoredDocument) { d.Records[1].Title = "bad \xff utf-8" },
		"tag":          func(d *store.StoredDocument) { d.Records[0].Tags = []string{"x", "\x00"} },
		"metadata key": func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"k\x00": "v"} },
		"metadata":     func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"k": []string{"\xc3"}} },
		"hash":         func(d *store.StoredDocument) { d.Hash = "\x00" },
		"record ID":    func(d *store.StoredDocument) { d.Records[0].ID = "r\x00" },
	} {
		d := makeDoc(rng, "new", 2, 4)
		mutate(&d)
		if err := s.Upsert(ctx, []store.StoredDocument{makeDoc(rng, "ok", 1, 4), d}); !errors.Is(err, store.ErrInvalidRecord) {
			t.Errorf("%s: Upsert = %v, want ErrInvalidRecord", name, err)
		}
	}
	if got, want := contents(t, s, 4), recordIDs(ok.Records); !slices.Equal(got, want) {
		t.Errorf("contents = %v, want %v", got, want)
	}
	if err := s.Delete(ctx, "ok\x00", "\xff"); err != nil {
		t.Errorf("Delete of unstorable IDs: %v", err)
	}
	if h, err := s.Hashes(ctx, "ok\x00", "ok"); err != nil || len(h) != 1 || h["ok"] != ok.Hash {
		t.Errorf("Hashes = %v, %v", h, err)
	}
	rs, err := s.Search(ctx, store.Query{Vector: randVec(rng, 4), Filter: store.Or(store.Eq("k", "v\x00"), store.Eq(store.FieldDocID, "ok\x00"))})
	if err != nil || len(rs) != 0 {
		t.Errorf("Search for unstorable values = %v, %v; want nothing", ids(rs), err)
	}
}

// Metadata numbers of any Go numeric type are stored as float64, as
// store.NormalizeMetadata converts them; unsupported types are refused.
func TestMetadataNormalized(t *testing.T) {
	s := newStore(t, pgvector.Options{})
	rng := rand.New(rand.NewPCG(13, 13))
	d := makeDoc(rng, "d", 1, 3)
	d.Records[0].Metadata = map[string]any{"int": 2009, "u8": uint8(7), "f32": float32(0.5)}
	mustUpsert(t, s, d)
	rs, err := s.Search(ctx, store.Query{Vector: d.Records[0].Vector, Filter: store.Eq("int", 2009.0)})
	if err != nil || len(rs) != 1 {
		t.Fatalf("Search = %v, %v", ids(rs), err)
	}
	if md := rs[0].Metadata; md["int"] != 2009.0 || md["u8"] != 7.0 || md["f32"] != 0.5 {
		t.Errorf("metadata = %#v, want float64 values", md)
	}
	for _, v := range []any{nil, struct{}{}, []int{1}, map[string]any{}} {
		bad := makeDoc(rng, "bad", 1, 3)
		bad.Records[0].Metadata = map[string]any{"k": v}
		if err := s.Upsert(ctx, []store.StoredDocument{bad}); !errors.Is(err, store.ErrInvalidRecord) {
			t.Errorf("metadata %T: Upsert = %v, want ErrInvalidRecord", v, err)
		}
	}
}

// After Close every method returns store.ErrClosed, and the caller's pool
// still works.
func TestClose(t *testing.T) {
	s := newStore(t, pgvector.Options{Dimensions: 2})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Upsert(ctx, []store.StoredDocument{{ID: "a"}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Upsert after Close = %v", err)
	}
	if _, err := s.Search(ctx, store.Query{Vector: []float32{1, 0}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Search after Close = %v", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Delete after Close = %v", err)
	}
	if _, err := s.Hashes(ctx, "a"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Hashes after Close = %v", err)
	}
	if _, err := s.SearchText(ctx, "a", 1, nil); !errors.Is(err, store.ErrClosed) {
		t.Errorf("SearchText after Close = %v", err)
	}
	if err := s.CreateIndex(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("CreateIndex after Close = %v", err)
	}
	if err := testPool(t).Ping(ctx); err != nil {
		t.Errorf("pool after Close: %v", err)
	}
}

// hnswIndexDef returns the definition of the table's HNSW index, or "".
func hnswIndexDef(t *testing.T, table string) string {
	t.Helper()
	var def string
	err := testPool(t).QueryRow(ctx, "SELECT coalesce((SELECT indexdef FROM pg_indexes WHERE tablename = $1::text AND indexdef LIKE '%USING hnsw%'), '')", table).Scan(&def)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// DeferIndex leaves the HNSW index out; CreateIndex adds it, idempotently.
func TestDeferIndex(t *testing.T) {
	name := newTable(t)
	s := newStore(t, pgvector.Options{Table: name, Dimensions: 8, DeferIndex: true, M: 8, EfConstruction: 32})
	if def := hnswIndexDef(t, name); def != "" {
		t.Fatalf("DeferIndex table has an HNSW index: %s", def)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	d := makeDoc(rng, "d", 50, 8)
	mustUpsert(t, s, d)
	for range 2 {
		if err := s.CreateIndex(ctx); err != nil {
			t.Fatalf("CreateIndex: %v", err)
		}
	}
	def := hnswIndexDef(t, name)
	if !strings.Contains(def, "vector_cosine_ops") || !strings.Contains(def, "m='8'") || !strings.Contains(def, "ef_construction='32'") {
		t.Errorf("HNSW index = %q, want vector_cosine_ops with m=8, ef_construction=32", def)
	}
	checkSearch(t, s, d.Records, store.Query{Vector: randVec(rng, 8), TopK: 7})
}

// explain returns the plan of sql, with sequential scans discouraged so
// that the planner takes any index it can use.
func explain(t *testing.T, sql string, args []any) string {
	t.Helper()
	var plan []string
	err := pgx.BeginFunc(ctx, testPool(t), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
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
		t.Fatalf("EXPLAIN: %v", err)
	}
	return strings.Join(plan, "\n")
}

// Exact search cannot use the HNSW index, even when the planner is pushed
// towards indexes; approximate search does use it. Exact results equal
// brute force; approximate ones are correctly scored and ordered.
func TestExactAndApproximate(t *testing.T) {
	name := newTable(t)
	const dim, n = 16, 3000
	rng := rand.New(rand.NewPCG(7, 7))
	opts := pgvector.Options{Table: name, Dimensions: dim, M: 4, EfConstruction: 8, EfSearch: 10}
	exact := newStore(t, opts)
	opts.Approximate = true
	approx := newStore(t, opts)
	var docs []store.StoredDocument
	for i := range n / 10 {
		d := makeDoc(rng, fmt.Sprintf("d%03d", i), 10, dim)
		for j := range d.Records {
			d.Records[j].Metadata = map[string]any{"bucket": float64(rng.IntN(20))}
		}
		docs = append(docs, d)
	}
	mustUpsert(t, exact, docs...)
	recs := allRecords(docs...)

	q := store.Query{Vector: randVec(rng, dim), TopK: 10}
	sql, args, err := pgvector.SearchSQL(exact, q, false)
	if err != nil {
		t.Fatal(err)
	}
	hnsw := name + "_embedding_hnsw"
	if plan := explain(t, sql, args); strings.Contains(plan, hnsw) {
		t.Errorf("exact search plan uses the HNSW index:\n%s", plan)
	}
	sql, args, err = pgvector.SearchSQL(approx, q, true)
	if err != nil {
		t.Fatal(err)
	}
	if plan := explain(t, sql, args); !strings.Contains(plan, hnsw) {
		t.Errorf("approximate search plan does not use the HNSW index:\n%s", plan)
	}

	var hits, total int
	for i := range 20 {
		q := store.Query{Vector: randVec(rng, dim), TopK: 10}
		if i%2 == 1 {
			q.Filter = store.Eq("bucket", float64(i)) // about 5% of the rows
		}
		checkSearch(t, exact, recs, q)
		got, err := approx.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := store.BruteForce(recs, q)
		if len(got) != len(want) {
			t.Errorf("approximate search (%s) returned %d results, want %d", q.Filter, len(got), len(want))
		}
		byID := map[string]store.Record{}
		for _, r := range recs {
			byID[r.ID] = r
		}
		for j, r := range got {
			if j > 0 && store.CompareResults(got[j-1], r) >= 0 {
				t.Errorf("approximate results out of order at %d", j)
			}
			if !q.Filter.Match(&r.Record) {
				t.Errorf("approximate result %s does not match %s", r.ID, q.Filter)
			}
			if c := store.Cosine(q.Vector, byID[r.ID].Vector); abs(float64(r.Score)-c) > 1e-4 {
				t.Errorf("approximate result %s scored %v, cosine is %v", r.ID, r.Score, c)
			}
		}
		total += len(want)
		for _, w := range want {
			if slices.Contains(ids(got), w.ID) {
				hits++
			}
		}
	}
	t.Logf("approximate recall@10 with m=4, ef_construction=8, ef_search=10 on %d vectors of %d dimensions: %.3f", n, dim, float64(hits)/float64(total))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// Vectors longer than 2,000 dimensions are indexed at half precision but
// stored, returned and searched exactly; longer than 4,000 they get no
// index at all.
func TestLongVectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, dim := range []int{2048, 4100} {
		t.Run(fmt.Sprint(dim), func(t *testing.T) {
			name := newTable(t)
			s := newStore(t, pgvector.Options{Table: name, Dimensions: dim})
			def := hnswIndexDef(t, name)
			switch {
			case dim <= 4000 && !strings.Contains(def, fmt.Sprintf("halfvec(%d)", dim)):
				t.Errorf("HNSW index = %q, want one on embedding::halfvec(%d)", def, dim)
			case dim > 4000 && def != "":
				t.Errorf("HNSW index %q on %d dimensions, want none", def, dim)
			}
			d := makeDoc(rng, "d", 30, dim)
			d.Records[0].Vector[0] = 1.0000001 // not representable at half precision
			mustUpsert(t, s, d)
			if err := s.CreateIndex(ctx); err != nil {
				t.Errorf("CreateIndex: %v", err)
			}
			q := store.Query{Vector: randVec(rng, dim), TopK: 5}
			checkSearch(t, s, d.Records, q)
			rs, err := s.Search(ctx, store.Query{Vector: d.Records[0].Vector, TopK: 1})
			if err != nil || len(rs) != 1 || !slices.Equal(rs[0].Vector, d.Records[0].Vector) {
				t.Fatalf("record 0 did not come back exactly: %v", err)
			}
			if dim <= 4000 {
				a := newStore(t, pgvector.Options{Table: name, Approximate: true})
				sql, args, err := pgvector.SearchSQL(a, q, true)
				if err != nil {
					t.Fatal(err)
				}
				if plan := explain(t, sql, args); !strings.Contains(plan, name+"_embedding_hnsw") {
					t.Errorf("approximate search does not use the halfvec index:\n%s", plan)
				}
				if got, err := a.Search(ctx, q); err != nil || len(got) != 5 {
					t.Errorf("approximate search: %d results, %v", len(got), err)
				}
			}
		})
	}
}

// SearchText is Postgres full-text search: stemmed words, phrases,
// exclusions, "or", title weighted above text, filters.
func TestSearchText(t *testing.T) {
	s := newStore(t, pgvector.Options{})
	rng := rand.New(rand.NewPCG(9, 9))
	texts := map[string][2]string{
		"go":     {"Go", "Go has goroutines and channels for concurrency."},
		"rust":   {"Rust", "Rust has ownership and borrowing; concurrency without data races."},
		"python": {"Python", "Python has a global interpreter lock. Goroutines are not in Python."},
		"haskel": {"Haskell", "Lazy evaluation and type classes."},
		"tour":   {"Channels", "A tour of the language."},
	}
	var docs []store.StoredDocument
	for id, tt := range texts {
		d := makeDoc(rng, id, 1, 4)
		d.Records[0].Title, d.Records[0].Text = tt[0], tt[1]
		d.Records[0].Metadata = map[string]any{"typed": id != "python"}
		docs = append(docs, d)
	}
	mustUpsert(t, s, docs...)
	for _, tc := range []struct {
		query  string
		filter *store.Filter
		want   []string
	}{
		{"goroutine", nil, []string{"go#0", "python#0"}},           // stemmed; equal ranks, ties by ID
		{"channel", nil, []string{"tour#0", "go#0"}},               // a title match outranks a text match
		{"concurrency", nil, []string{"go#0", "rust#0"}},           // ties by ID
		{`"data races"`, nil, []string{"rust#0"}},                  // phrase
		{"goroutines -python", nil, []string{"go#0"}},              // exclusion
		{"ownership or lazy", nil, []string{"haskel#0", "rust#0"}}, // or
		{"goroutines", store.Eq("typed", false), []string{"python#0"}},
		{"the and of", nil, nil}, // stop words only
		{`'); DROP TABLE x; -- "unbalanced`, nil, nil},
		{"", nil, nil},
	} {
		rs, err := s.SearchText(ctx, tc.query, 10, tc.filter)
		if err != nil {
			t.Errorf("SearchText(%q): %v", tc.query, err)
			continue
		}
		got := ids(rs)
		if tc.query == "ownership or lazy" {
			slices.Sort(got) // equal-length one-word matches: rank depends on document length
		}
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("SearchText(%q, %s) = %v, want %v", tc.query, tc.filter, got, tc.want)
		}
		for i, r := range rs {
			if r.Score <= 0 || (i > 0 && r.Score > rs[i-1].Score) {
				t.Errorf("SearchText(%q): scores %v not positive and descending", tc.query, r.Score)
			}
			if len(r.Vector) != 4 || r.Title == "" {
				t.Errorf("SearchText(%q): record %s not returned whole", tc.query, r.ID)
			}
		}
	}
	if _, err := s.SearchText(ctx, "go", 1, store.Gt("typed", "x")); !errors.Is(err, store.ErrInvalidFilter) {
		t.Errorf("SearchText with an invalid filter = %v", err)
	}
	if rs, err := s.SearchText(ctx, "concurrency", 1, nil); err != nil || len(rs) != 1 {
		t.Errorf("SearchText k=1 = %v, %v", ids(rs), err)
	}
}

// The store works in pgx's default query mode (named prepared statements,
// binary formats), with and without pgvector-go's registered types. The
// PGlite test server serves one backend, so this uses a second pool of one
// connection while the shared pool is idle; and since that one backend
// keeps prepared statements across client connections, each pool starts
// and ends with DEALLOCATE ALL.
func TestPgxQueryModes(t *testing.T) {
	testPool(t)
	for _, mode := range []struct {
		name     string
		mode     pgx.QueryExecMode
		register bool
	}{
		{"cache_statement", pgx.QueryExecModeCacheStatement, false},
		{"cache_statement+pgxvec", pgx.QueryExecModeCacheStatement, true},
		{"describe_exec", pgx.QueryExecModeDescribeExec, false},
		{"simple_protocol", pgx.QueryExecModeSimpleProtocol, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := testPool(t).Config().Copy()
			cfg.MaxConns = 1
			cfg.ConnConfig.DefaultQueryExecMode = mode.mode
			cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
				if _, err := c.Exec(ctx, "DEALLOCATE ALL"); err != nil {
					return err
				}
				if mode.register {
					return pgxvec.RegisterTypes(ctx, c)
				}
				return nil
			}
			p, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				p.Close()
				testPool(t).Exec(ctx, "DEALLOCATE ALL")
			}()
			s, err := pgvector.New(ctx, p, pgvector.Options{Table: newTable(t), Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(10, 10))
			d := makeDoc(rng, "d", 20, 6)
			for i := range d.Records {
				d.Records[i].Metadata = map[string]any{"i": float64(i), "even": i%2 == 0, "tags": []string{"a", fmt.Sprint(i)}}
			}
			mustUpsert(t, s, d)
			for _, f := range []*store.Filter{nil, store.Gte("i", 5), store.Eq("even", true), store.In("tags", "3", "4"), store.Not(store.Exists("i"))} {
				checkSearch(t, s, d.Records, store.Query{Vector: randVec(rng, 6), TopK: 8, Filter: f})
			}
			if h, err := s.Hashes(ctx, "d"); err != nil || h["d"] != d.Hash {
				t.Errorf("Hashes = %v, %v", h, err)
			}
			if rs, err := s.SearchText(ctx, "chunk", 3, nil); err != nil || len(rs) != 3 {
				t.Errorf("SearchText = %v, %v", ids(rs), err)
			}
			if err := s.Delete(ctx, "d"); err != nil {
				t.Fatal(err)
			}
			if got := contents(t, s, 6); len(got) != 0 {
				t.Errorf("after Delete: %v", got)
			}
		})
	}
}
