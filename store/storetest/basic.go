package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// Upserted records come back from Search whole: every field, the metadata
// and the vector, with the scores and order of a brute-force search.
func (s *suite) upsertThenSearch(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	for i := range 5 {
		d := g.doc(fmt.Sprintf("doc-%d", i), 1+i)
		for j := range d.Records {
			d.Records[j].Tags = []string{"t1", fmt.Sprintf("n%d", i)}
			d.Records[j].Metadata = map[string]any{"i": float64(i), "lang": "en"}
		}
		m.put(d)
		upsert(t, st, d)
	}
	checkContents(t, st, m, s.dim)
	q := g.query(t, m.records())
	for _, k := range []int{1, 4, 15, 100} {
		got := search(t, st, store.Query{Vector: q, TopK: k})
		checkResults(t, got, store.BruteForce(m.records(), store.Query{Vector: q, TopK: k}), fmt.Sprintf("TopK %d", k))
	}
}

// Upserting a document again replaces all its records: no chunk of the old
// version survives, also when the new version has fewer chunks or other
// record IDs, and other documents are untouched.
func (s *suite) reupsertReplaces(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	a, b := g.doc("a", 6), g.doc("b", 3)
	for i := range a.Records {
		a.Records[i].Metadata = map[string]any{"version": "v1"}
	}
	m.put(a, b)
	upsert(t, st, a, b)

	a2 := g.doc("a", 2)
	for i := range a2.Records {
		a2.Records[i].Metadata = map[string]any{"version": "v2"}
	}
	m.put(a2)
	upsert(t, st, a2)
	checkContents(t, st, m, s.dim)
	got := search(t, st, store.Query{Vector: g.vector(), TopK: all, Filter: store.Eq(store.FieldDocID, "a")})
	if len(got) != 2 {
		t.Fatalf("document a has %d records after replacing 6 chunks by 2, want 2: %v", len(got), resultIDs(got))
	}
	for _, r := range got {
		if r.Metadata["version"] != "v2" {
			t.Errorf("stale record %s of version %v after re-upsert", r.ID, r.Metadata["version"])
		}
	}

	// New record IDs (say, a changed chunking scheme) must also replace.
	a3 := g.doc("a", 3)
	for i := range a3.Records {
		a3.Records[i].ID = fmt.Sprintf("a/other/%d", i)
	}
	m.put(a3)
	upsert(t, st, a3)
	checkContents(t, st, m, s.dim)
	if h, err := st.Hashes(context.Background(), "a"); err != nil || h["a"] != a3.Hash {
		t.Errorf("Hashes(a) = %v, %v; want the hash of the last version %q", h, err, a3.Hash)
	}
}

// Documents of one Upsert call are written in order: when a batch names a
// document twice, the later version wins.
func (s *suite) sameDocTwice(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	v1, v2 := g.doc("d", 4), g.doc("d", 2)
	m.put(v1, v2)
	upsert(t, st, v1, v2)
	checkContents(t, st, m, s.dim)
}

// Delete removes every record of the named documents and their hashes,
// and nothing else.
func (s *suite) deleteDocument(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	docs := []store.StoredDocument{g.doc("a", 3), g.doc("b", 2), g.doc("c", 4)}
	m.put(docs...)
	upsert(t, st, docs...)
	if err := st.Delete(context.Background(), "a", "c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	m.del("a", "c")
	checkContents(t, st, m, s.dim)
	h, err := st.Hashes(context.Background(), "a", "b", "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h["a"]; ok {
		t.Errorf("Hashes still reports deleted document a: %v", h)
	}
	if h["b"] != docs[1].Hash {
		t.Errorf("Hashes(b) = %q, want %q", h["b"], docs[1].Hash)
	}
	got := search(t, st, store.Query{Vector: g.vector(), TopK: all, Filter: store.Eq(store.FieldDocID, "a")})
	if len(got) != 0 {
		t.Errorf("search for deleted document a returned %v", resultIDs(got))
	}
	// A deleted document can be written again.
	m.put(docs[0])
	upsert(t, st, docs[0])
	checkContents(t, st, m, s.dim)
}

// Deleting a document that does not exist, or no document at all, is not
// an error and changes nothing.
func (s *suite) deleteMissing(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	ctx := context.Background()
	if err := st.Delete(ctx, "never-written"); err != nil {
		t.Errorf("Delete of a missing document on an empty store: %v", err)
	}
	m := model{}
	d := g.doc("a", 2)
	m.put(d)
	upsert(t, st, d)
	if err := st.Delete(ctx, "never-written", "also-missing"); err != nil {
		t.Errorf("Delete of missing documents: %v", err)
	}
	if err := st.Delete(ctx); err != nil {
		t.Errorf("Delete with no IDs: %v", err)
	}
	if err := st.Delete(ctx, "a", "a"); err != nil {
		t.Errorf("Delete naming a document twice: %v", err)
	}
	m.del("a")
	checkContents(t, st, m, s.dim)
}

// A Document with no records is the same as deleting it.
func (s *suite) emptyRecordsDeletes(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	a, b := g.doc("a", 3), g.doc("b", 2)
	m.put(a, b)
	upsert(t, st, a, b)
	empty := store.StoredDocument{ID: "a", Hash: "ignored"}
	m.put(empty)
	upsert(t, st, empty, store.StoredDocument{ID: "never-written"})
	checkContents(t, st, m, s.dim)
	h, err := st.Hashes(context.Background(), "a", "never-written")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 0 {
		t.Errorf("Hashes after upserting documents without records = %v, want empty", h)
	}
}

// An empty store answers searches with no results and no error, and
// Upsert of no documents is not an error.
func (s *suite) emptyStore(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	if err := st.Upsert(context.Background(), nil); err != nil {
		t.Errorf("Upsert(nil): %v", err)
	}
	for _, k := range []int{-1, 0, 1, 10} {
		if got := search(t, st, store.Query{Vector: g.vector(), TopK: k}); len(got) != 0 {
			t.Errorf("empty store returned %v", resultIDs(got))
		}
	}
	got := search(t, st, store.Query{Vector: g.vector(), Filter: store.Eq("x", "y")})
	if len(got) != 0 {
		t.Errorf("empty store returned %v", resultIDs(got))
	}
	h, err := st.Hashes(context.Background(), "a")
	if err != nil || len(h) != 0 {
		t.Errorf("Hashes on an empty store = %v, %v; want empty, nil", h, err)
	}
}

// Search returns exactly the brute-force top k by cosine similarity, for
// every k, including k larger than the number of records.
func (s *suite) topKExact(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	for i := range 40 {
		d := g.doc(fmt.Sprintf("doc-%02d", i), 1+g.rng.IntN(5))
		m.put(d)
	}
	var docs []store.StoredDocument
	for _, d := range m {
		docs = append(docs, d)
	}
	upsert(t, st, docs...)
	n := len(m.records())
	for range 5 {
		q := g.query(t, m.records())
		for _, k := range []int{1, 2, 7, 10, 33, n - 1, n, n + 1, 10 * n} {
			got := search(t, st, store.Query{Vector: q, TopK: k})
			want := store.BruteForce(m.records(), store.Query{Vector: q, TopK: k})
			if len(want) != min(k, n) {
				t.Fatalf("brute force returned %d results for k=%d, n=%d", len(want), k, n)
			}
			checkResults(t, got, want, fmt.Sprintf("TopK %d of %d", k, n))
		}
	}
}

// A TopK of zero or less means store.DefaultTopK.
func (s *suite) defaultTopK(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	for i := range 6 {
		m.put(g.doc(fmt.Sprintf("d%d", i), 5))
	}
	for _, d := range m {
		upsert(t, st, d)
	}
	q := g.query(t, m.records())
	want := store.BruteForce(m.records(), store.Query{Vector: q, TopK: store.DefaultTopK})
	for _, k := range []int{0, -1, -100} {
		got := search(t, st, store.Query{Vector: q, TopK: k})
		if len(got) != store.DefaultTopK {
			t.Errorf("TopK %d returned %d results, want DefaultTopK = %d", k, len(got), store.DefaultTopK)
		}
		checkResults(t, got, want, fmt.Sprintf("TopK %d", k))
	}
}

// Records with equal scores are ordered by record ID, also when the top k
// cuts through a group of ties and when the tied records belong to
// different documents written in another order.
func (s *suite) tiesByID(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	shared := g.vector()
	ids := []string{"m", "c", "x", "a", "q", "b", "z", "k"}
	for i, id := range ids {
		d := g.doc("doc-"+id, 2)
		d.Records[0].ID = id // record IDs out of insertion order
		d.Records[0].Vector = slices.Clone(shared)
		if i%2 == 0 {
			d.Records[1].Vector = slices.Clone(shared)
			d.Records[1].ID = id + "2"
		}
		m.put(d)
		upsert(t, st, d)
	}
	for _, q := range [][]float32{shared, g.query(t, m.records())} {
		for _, k := range []int{1, 3, 5, 8, 12, all} {
			got := search(t, st, store.Query{Vector: q, TopK: k})
			checkResults(t, got, store.BruteForce(m.records(), store.Query{Vector: q, TopK: k}), fmt.Sprintf("ties, TopK %d", k))
		}
	}
	got := search(t, st, store.Query{Vector: shared, TopK: 3})
	if want := []string{"a", "b", "c"}; !slices.Equal(resultIDs(got), want) {
		t.Errorf("top 3 of a tie = %v, want %v", resultIDs(got), want)
	}
}

// Scores are the cosine similarity of the query and the record vector,
// independent of the vectors' lengths.
func (s *suite) cosineScores(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	d := g.doc("d", 6)
	unit := make([]float32, s.dim)
	unit[0] = 1
	opp := make([]float32, s.dim)
	opp[0] = -3
	d.Records[0].Vector = unit
	d.Records[1].Vector = opp
	for i := range d.Records[2].Vector {
		d.Records[2].Vector[i] *= 1000 // long vectors score by angle only
	}
	for i := range d.Records[3].Vector {
		d.Records[3].Vector[i] *= 1e-3
	}
	m.put(d)
	upsert(t, st, d)
	q := make([]float32, s.dim)
	q[0] = 5
	got := search(t, st, store.Query{Vector: q, TopK: all})
	if len(got) != 6 {
		t.Fatalf("got %d results, want 6", len(got))
	}
	for _, r := range got {
		var want float64
		for _, rec := range d.Records {
			if rec.ID == r.ID {
				want = store.Cosine(q, rec.Vector)
			}
		}
		if math.Abs(float64(r.Score)-want) > 1e-4 {
			t.Errorf("%s: score %v, want cosine similarity %v", r.ID, r.Score, want)
		}
	}
	if got[0].ID != "d#0" || math.Abs(float64(got[0].Score)-1) > 1e-5 {
		t.Errorf("best result = %s (%v), want d#0 with score 1", got[0].ID, got[0].Score)
	}
	if last := got[len(got)-1]; last.ID != "d#1" || math.Abs(float64(last.Score)+1) > 1e-5 {
		t.Errorf("worst result = %s (%v), want d#1 with score -1", last.ID, last.Score)
	}
	// The order follows cosine similarity, not dot product.
	q2 := g.query(t, m.records())
	checkResults(t, search(t, st, store.Query{Vector: q2, TopK: all}),
		store.BruteForce(m.records(), store.Query{Vector: q2, TopK: all}), "scaled vectors")
}

// A zero vector has no direction: its cosine similarity to anything is 0
// (never NaN), as a stored record and as a query.
func (s *suite) zeroVector(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	d := g.doc("d", 5)
	d.Records[2].Vector = make([]float32, s.dim)
	d.Records[4].Vector = make([]float32, s.dim)
	m.put(d)
	upsert(t, st, d)
	q := g.query(t, m.records())
	checkResults(t, search(t, st, store.Query{Vector: q, TopK: all}),
		store.BruteForce(m.records(), store.Query{Vector: q, TopK: all}), "zero record vectors")
	zero := make([]float32, s.dim)
	got := search(t, st, store.Query{Vector: zero, TopK: 3})
	checkResults(t, got, store.BruteForce(m.records(), store.Query{Vector: zero, TopK: 3}), "zero query vector")
	for _, r := range got {
		if r.Score != 0 {
			t.Errorf("zero query: %s scored %v, want 0", r.ID, r.Score)
		}
	}
}

// Every metadata type round-trips with its type: string (also one that
// looks like a number or an encoding), float64 (other numbers are
// converted), bool, time.Time (returned in UTC, Equal to what was written)
// and []string; and the built-in fields too.
func (s *suite) metadataRoundTrip(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	berlin := time.FixedZone("CEST", 2*3600)
	d := g.doc("d", 3)
	d.Records[0].Metadata = map[string]any{
		"str":      "plain",
		"numstr":   "42",
		"boolstr":  "true",
		"jsonish":  `{"a":1,"b":[true,null]}`,
		"prefixed": "s:f:1",
		"empty":    "",
		"unicode":  "Grüße, 世界 \"quoted\"\n\ttab",
		"f":        3.25,
		"whole":    float64(42),
		"neg":      -1e-300,
		"big":      1.7976931348623157e308,
		"yes":      true,
		"no":       false,
		"when":     time.Date(2024, 5, 17, 13, 14, 15, 123456789, berlin),
		"list":     []string{"a", "", "c,d", "a"},
	}
	d.Records[0].Tags = []string{"x", "y y", "ü"}
	d.Records[0].Text = "Grüße and \"quotes\"\n"
	d.Records[0].Title = "A title: with, punctuation"
	d.Records[1].Metadata = map[string]any{"n": 42.0}
	d.Records[2].Metadata = nil
	d.Records[2].Title, d.Records[2].Source, d.Records[2].Tags = "", "", nil
	m.put(d)
	upsert(t, st, d)
	checkContents(t, st, m, s.dim)

	// Typed values filter by type: the string "42" is not the number 42.
	q := g.vector()
	for _, tc := range []struct {
		f    *store.Filter
		want []string
	}{
		{store.Eq("numstr", 42), nil},
		{store.Eq("numstr", "42"), []string{"d#0"}},
		{store.Eq("whole", 42), []string{"d#0"}},
		{store.Eq("whole", "42"), nil},
		{store.Eq("n", 42), []string{"d#1"}},
		{store.Eq("boolstr", true), nil},
		{store.Eq("yes", true), []string{"d#0"}},
		{store.Eq("when", time.Date(2024, 5, 17, 11, 14, 15, 123456789, time.UTC)), []string{"d#0"}},
		{store.Gt("when", time.Date(2024, 5, 17, 11, 14, 15, 123456788, time.UTC)), []string{"d#0"}},
		{store.Eq("list", "c,d"), []string{"d#0"}},
		{store.Eq("list", ""), []string{"d#0"}},
		{store.Eq("empty", ""), []string{"d#0"}},
		{store.Eq("prefixed", "s:f:1"), []string{"d#0"}},
		{store.Eq(store.FieldTags, "y y"), []string{"d#0"}},
		{store.Not(store.Exists(store.FieldTitle)), []string{"d#2"}},
	} {
		got := resultIDs(search(t, st, store.Query{Vector: q, TopK: all, Filter: tc.f}))
		slices.Sort(got)
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("filter %s matched %v, want %v", tc.f, got, tc.want)
		}
	}
}

// The store copies what it keeps and what it returns: changing a
// document after Upsert, or a result after Search, changes nothing stored.
func (s *suite) noAliasing(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	d := g.doc("d", 2)
	for i := range d.Records {
		d.Records[i].Tags = []string{"t1", "t2"}
		d.Records[i].Metadata = map[string]any{"k": "v", "list": []string{"a", "b"}, "n": 1.0}
	}
	m.put(d)
	upsert(t, st, d)
	// Mutate everything the caller passed in.
	for i := range d.Records {
		r := &d.Records[i]
		r.Vector[0] += 100
		r.Tags[0] = "mutated"
		r.Metadata["k"] = "mutated"
		r.Metadata["list"].([]string)[0] = "mutated"
		r.Metadata["new"] = "added"
		r.Text = "mutated"
	}
	d.Records[0] = store.Record{}
	checkContents(t, st, m, s.dim)

	// Mutate everything a search returned.
	q := g.vector()
	rs := search(t, st, store.Query{Vector: q, TopK: all})
	for i := range rs {
		r := &rs[i]
		r.Vector[0] += 100
		r.Tags[0] = "mutated"
		r.Metadata["k"] = "mutated"
		r.Metadata["list"].([]string)[0] = "mutated"
		r.Metadata["new"] = "added"
	}
	checkContents(t, st, m, s.dim)

	// Hashes returns a fresh map.
	h, err := st.Hashes(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	h["d"] = "mutated"
	h2, err := st.Hashes(context.Background(), "d")
	if err != nil || h2["d"] != m["d"].Hash {
		t.Errorf("Hashes after mutating a returned map = %v, %v; want %q", h2, err, m["d"].Hash)
	}
}

// Hashes reports the hash stored with each named document that exists,
// and leaves absent documents out of the map.
func (s *suite) hashes(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	ctx := context.Background()
	a, b := g.doc("a", 2), g.doc("b", 1)
	b.Hash = ""
	upsert(t, st, a, b)
	h, err := st.Hashes(ctx, "a", "b", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h["a"] != a.Hash {
		t.Errorf("Hashes = %v, want {a: %q, b: \"\"}", h, a.Hash)
	}
	if v, ok := h["b"]; !ok || v != "" {
		t.Errorf("Hashes(b) = %q, %v; want the empty hash it was written with, present", v, ok)
	}
	if _, ok := h["missing"]; ok {
		t.Errorf("Hashes reports a missing document: %v", h)
	}
	h, err = st.Hashes(ctx)
	if err != nil || len(h) != 0 {
		t.Errorf("Hashes() = %v, %v; want empty", h, err)
	}
	a2 := g.doc("a", 3)
	upsert(t, st, a2)
	h, err = st.Hashes(ctx, "a")
	if err != nil || len(h) != 1 || h["a"] != a2.Hash {
		t.Errorf("Hashes(a) after re-upsert = %v, %v; want %q", h, err, a2.Hash)
	}
}

// Search, Upsert, Delete and Hashes called with a cancelled context
// return an error matching context.Canceled and write nothing.
func (s *suite) cancelledContext(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	a := g.doc("a", 3)
	m.put(a)
	upsert(t, st, a)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Upsert(ctx, []store.StoredDocument{g.doc("b", 2), g.doc("a", 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert with a cancelled context: %v, want context.Canceled", err)
	}
	if err := st.Delete(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := st.Search(ctx, store.Query{Vector: g.vector()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := st.Hashes(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hashes with a cancelled context: %v, want context.Canceled", err)
	}
	checkContents(t, st, m, s.dim)
}

// Metadata numbers of any Go integer type or float32 are accepted and
// stored as float64, and times in any zone are stored in UTC (as
// store.NormalizeMetadata converts them): they come back so, and filters
// find them by value.
func (s *suite) metadataNormalized(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	d := g.doc("d", 2)
	d.Records[0].Metadata = map[string]any{
		"int": 3, "int8": int8(-8), "int16": int16(16), "int32": int32(-32), "int64": int64(1 << 40),
		"uint": uint(7), "uint8": uint8(255), "uint16": uint16(16), "uint32": uint32(32), "uint64": uint64(1 << 50),
		"float32": float32(0.5),
		"when":    time.Date(2024, 5, 17, 13, 14, 15, 0, time.FixedZone("UTC-7", -7*3600)),
	}
	d.Records[1].Metadata = map[string]any{"int": 4}
	m.put(d)
	upsert(t, st, d)
	checkContents(t, st, m, s.dim)
	for _, tc := range []struct {
		f    *store.Filter
		want []string
	}{
		{store.Eq("int", 3), []string{"d#0"}},
		{store.Eq("int", 3.0), []string{"d#0"}},
		{store.Gt("int", 3), []string{"d#1"}},
		{store.Eq("uint8", 255), []string{"d#0"}},
		{store.Eq("int64", float64(1<<40)), []string{"d#0"}},
		{store.Eq("float32", 0.5), []string{"d#0"}},
		{store.Eq("when", time.Date(2024, 5, 17, 20, 14, 15, 0, time.UTC)), []string{"d#0"}},
	} {
		got := resultIDs(search(t, st, store.Query{Vector: g.vector(), TopK: all, Filter: tc.f}))
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("filter %s matched %v, want %v", tc.f, got, tc.want)
		}
	}
}
