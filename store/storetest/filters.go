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

var (
	poolLang    = []any{"en", "de", "fr"}
	poolYear    = []any{2019.0, 2020.0, 2021.0, 2022.0, 2023.0, 2024.0}
	poolDate    = []any{date(2020, 1), date(2021, 6), date(2022, 3), date(2023, 12)}
	poolLabel   = []string{"a", "b", "c"}
	poolMixed   = []any{"1", 1.0, true}
	poolTitle   = []string{"", "T1", "T2"}
	poolSource  = []string{"", "s1", "s2"}
	poolTag     = []string{"x", "y", "z"}
	poolDraft   = []any{true, false}
	poolStrings = []any{"en", "a", "x", "T1", "s1", "1", ""}
)

func date(y int, m time.Month) time.Time { return time.Date(y, m, 1, 12, 0, 0, 0, time.UTC) }

func pick[T any](g *gen, pool []T) T { return pool[g.rng.IntN(len(pool))] }

func (g *gen) subset(pool []string) []string {
	var out []string
	for _, v := range pool {
		if g.rng.IntN(2) == 0 {
			out = append(out, v)
		}
	}
	return out
}

// filterData returns nDocs documents of up to perDoc records with random
// built-in fields and metadata drawn from small pools (so that filters
// match some records and not others), some fields missing, and some
// records sharing a vector (ties).
func (g *gen) filterData(nDocs, perDoc int) model {
	m := model{}
	var prev []float32
	for i := range nDocs {
		d := g.doc(fmt.Sprintf("doc-%02d", i), 1+g.rng.IntN(perDoc))
		title, source, tags := pick(g, poolTitle), pick(g, poolSource), g.subset(poolTag)
		for j := range d.Records {
			r := &d.Records[j]
			r.Title, r.Source, r.Tags = title, source, tags
			md := map[string]any{}
			maybe := func(k string, v any) {
				if g.rng.IntN(4) != 0 {
					md[k] = v
				}
			}
			maybe("lang", pick(g, poolLang))
			maybe("year", pick(g, poolYear))
			maybe("draft", pick(g, poolDraft))
			maybe("date", pick(g, poolDate))
			if l := g.subset(poolLabel); len(l) > 0 {
				maybe("labels", l)
			}
			maybe("mixed", pick(g, poolMixed))
			if len(md) > 0 {
				r.Metadata = md
			}
			if prev != nil && g.rng.IntN(8) == 0 {
				copy(r.Vector, prev) // an exact tie with an earlier record
			}
			prev = r.Vector
		}
		m.put(d)
	}
	return m
}

func (s *suite) loadModel(t *testing.T, st store.Store, m model) {
	t.Helper()
	var docs []store.StoredDocument
	for _, d := range m {
		docs = append(docs, d)
	}
	upsert(t, st, docs...)
}

// Every operator on every kind of field (string, number, bool, time, list,
// a field whose type differs between records, a missing field, and the
// built-in fields _id, _source, _title and _tags) selects exactly the
// records store.Filter.Match selects, with the brute-force top k.
func (s *suite) filterOperators(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := g.filterData(30, 4)
	s.loadModel(t, st, m)
	recs := m.records()
	for _, f := range operatorFilters() {
		if err := f.Validate(); err != nil {
			t.Fatalf("suite bug: filter %s is invalid: %v", f, err)
		}
		q := g.query(t, recs)
		for _, k := range []int{1, 3, all} {
			got := search(t, st, store.Query{Vector: q, TopK: k, Filter: f})
			want := store.BruteForce(recs, store.Query{Vector: q, TopK: k, Filter: f})
			checkResults(t, got, want, fmt.Sprintf("filter %s, TopK %d", f, k))
			for _, r := range got {
				if !f.Match(&r.Record) {
					t.Errorf("filter %s: returned record %s does not match", f, r.ID)
				}
			}
		}
	}
}

// operatorFilters returns filters with every operator on every kind of
// field of filterData: string, number, bool, time, list, a field whose
// type differs between records, a missing field, and the built-in fields.
func operatorFilters() []*store.Filter {
	d1, d2 := date(2021, 6), date(2022, 3)
	return []*store.Filter{
		nil,
		store.Eq("lang", "en"), store.Eq("year", 2021), store.Eq("year", int64(2021)), store.Eq("draft", true),
		store.Eq("draft", false), store.Eq("date", d1), store.Eq("labels", "a"), store.Eq("mixed", 1),
		store.Eq("mixed", "1"), store.Eq("mixed", true), store.Eq("lang", 5), store.Eq("absent", "x"),
		store.Eq(store.FieldDocID, "doc-03"), store.Eq(store.FieldSource, "s1"), store.Eq(store.FieldTitle, "T2"),
		store.Eq(store.FieldTags, "x"), store.Eq(store.FieldTitle, ""),
		store.Ne("lang", "en"), store.Ne("year", 2021), store.Ne("draft", true), store.Ne("date", d1),
		store.Ne("labels", "a"), store.Ne("mixed", 1), store.Ne("absent", "x"), store.Ne(store.FieldDocID, "doc-03"),
		store.Ne(store.FieldSource, "s1"), store.Ne(store.FieldTitle, "T2"), store.Ne(store.FieldTags, "x"),
		store.In("lang", "en", "fr"), store.In("year", 2019, 2024), store.In("date", d1, d2),
		store.In("labels", "b", "c"), store.In[any]("mixed", "1", true), store.In("draft", false),
		store.In(store.FieldDocID, "doc-01", "doc-05", "doc-07", "nope"), store.In(store.FieldSource, "s2"),
		store.In(store.FieldTitle, "T1", "T2"), store.In(store.FieldTags, "y", "z"), store.In[string]("lang"),
		store.In[any]("year", "2021", 2021.0),
		store.NotIn("lang", "en", "fr"), store.NotIn("year", 2019, 2024), store.NotIn("labels", "b", "c"),
		store.NotIn(store.FieldDocID, "doc-01", "doc-05"), store.NotIn(store.FieldTags, "y"),
		store.NotIn(store.FieldSource, "s1", "s2"), store.NotIn[string]("lang"),
		store.Gt("year", 2021), store.Gte("year", 2021), store.Lt("year", 2021), store.Lte("year", 2021),
		store.Gt("date", d1), store.Gte("date", d1), store.Lt("date", d2), store.Lte("date", d2),
		store.Gt("mixed", 0.5), store.Lt("lang", 3), store.Gt("year", d1), store.Gte("absent", 1),
		store.Exists("lang"), store.Exists("labels"), store.Exists("mixed"), store.Exists("absent"),
		store.Exists(store.FieldDocID), store.Exists(store.FieldTitle), store.Exists(store.FieldSource),
		store.Exists(store.FieldTags),
		store.And(), store.Or(), store.Not(store.And()),
		store.And(store.Eq("lang", "en"), store.Gte("year", 2021)),
		store.Or(store.Eq("lang", "de"), store.Eq(store.FieldTags, "z")),
		store.Not(store.Eq("lang", "en")),
		store.And(store.Or(store.Eq("draft", true), store.Not(store.Exists("draft"))), store.Ne(store.FieldTitle, "T1")),
		store.Or(store.And(store.Eq(store.FieldDocID, "doc-02"), store.Eq("lang", "en")), store.Lt("date", d1)),
		store.Not(store.Or(store.Eq("labels", "a"), store.In(store.FieldSource, "s1", "s2"))),
	}
}

// fields names every field the random filters use, with a pool of values.
var fields = []struct {
	name string
	pool []any
}{
	{"lang", poolLang},
	{"year", poolYear},
	{"draft", poolDraft},
	{"date", poolDate},
	{"labels", []any{"a", "b", "c"}},
	{"mixed", poolMixed},
	{"absent", []any{"x", 1.0}},
	{store.FieldDocID, []any{"doc-00", "doc-01", "doc-02", "doc-05", "doc-11", "nope"}},
	{store.FieldSource, []any{"s1", "s2", ""}},
	{store.FieldTitle, []any{"T1", "T2", ""}},
	{store.FieldTags, []any{"x", "y", "z"}},
}

// randomValue draws from the field's pool, now and then from another
// type's pool (a comparison that matches nothing).
func (g *gen) randomValue(pool []any) any {
	switch g.rng.IntN(8) {
	case 0:
		return pick(g, poolStrings)
	case 1:
		return pick(g, poolYear)
	case 2:
		return pick(g, poolDate)
	}
	return pick(g, pool)
}

func (g *gen) randomFilter(depth int) *store.Filter {
	if depth > 0 && g.rng.IntN(3) == 0 {
		n := g.rng.IntN(4)
		var subs []*store.Filter
		for range n {
			subs = append(subs, g.randomFilter(depth-1))
		}
		switch g.rng.IntN(3) {
		case 0:
			return store.And(subs...)
		case 1:
			return store.Or(subs...)
		default:
			return store.Not(g.randomFilter(depth - 1))
		}
	}
	f := fields[g.rng.IntN(len(fields))]
	switch g.rng.IntN(9) {
	case 0:
		return store.Eq(f.name, g.randomValue(f.pool))
	case 1:
		return store.Ne(f.name, g.randomValue(f.pool))
	case 2, 3:
		vs := make([]any, g.rng.IntN(4))
		for i := range vs {
			vs[i] = g.randomValue(f.pool)
		}
		if g.rng.IntN(2) == 0 {
			return store.In(f.name, vs...)
		}
		return store.NotIn(f.name, vs...)
	case 4:
		return store.Exists(f.name)
	default:
		// Ordering: only metadata fields; a number or a time.
		name := []string{"year", "date", "mixed", "lang", "absent"}[g.rng.IntN(5)]
		var v any = pick(g, poolYear)
		if name == "date" || g.rng.IntN(4) == 0 {
			v = pick(g, poolDate)
		}
		if name == "mixed" && g.rng.IntN(2) == 0 {
			v = float64(g.rng.IntN(3))
		}
		return []func(string, any) *store.Filter{store.Gt, store.Gte, store.Lt, store.Lte}[g.rng.IntN(4)](name, v)
	}
}

// Random filters over random data: the store's filtered top k equals the
// brute-force filtered top k (same IDs in the same order), for filters of
// every selectivity, from none to all records.
func (s *suite) filterProperty(t *testing.T) {
	g := newGen(t, s.dim)
	for round := range 3 {
		st := s.newStore(t)
		m := g.filterData(25+round*15, 6)
		s.loadModel(t, st, m)
		recs := m.records()
		for range 80 {
			f := g.randomFilter(3)
			if err := f.Validate(); err != nil {
				t.Fatalf("suite bug: random filter %s is invalid: %v", f, err)
			}
			q := g.query(t, recs)
			for _, k := range []int{1, 4, 20} {
				got := search(t, st, store.Query{Vector: q, TopK: k, Filter: f})
				want := store.BruteForce(recs, store.Query{Vector: q, TopK: k, Filter: f})
				checkResults(t, got, want, fmt.Sprintf("filter %s, TopK %d, %d records", f, k, len(recs)))
			}
		}
	}
}

// Invalid filters are rejected with store.ErrInvalidFilter before
// searching, also on an empty store.
func (s *suite) invalidFilter(t *testing.T) {
	s.checkRejected(t, invalidFilters(), "Search", s.searchWith)
}

// searchWith searches st with filter f and returns how many results came.
func (s *suite) searchWith(t *testing.T, st store.Store, f *store.Filter) (int, error) {
	q := make([]float32, s.dim)
	q[0] = 1
	rs, err := st.Search(context.Background(), store.Query{Vector: q, TopK: all, Filter: f})
	return len(rs), err
}

// checkRejected fails unless call, given each filter of bad, answers
// nothing and an error matching store.ErrInvalidFilter, on an empty store
// and on one holding documents.
func (s *suite) checkRejected(t *testing.T, bad []*store.Filter, what string, call func(*testing.T, store.Store, *store.Filter) (int, error)) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	check := func(when string) {
		for _, f := range bad {
			if n, err := call(t, st, f); !errors.Is(err, store.ErrInvalidFilter) || n != 0 {
				t.Errorf("%s: %s with invalid filter %s = %d results, %v; want none and ErrInvalidFilter", when, what, f, n, err)
			}
		}
	}
	check("empty store")
	s.loadModel(t, st, g.filterData(10, 3))
	check("non-empty store")
}

// invalidFilters returns malformed filters, one of each kind.
func invalidFilters() []*store.Filter {
	return []*store.Filter{
		{Op: "bogus", Field: "x", Value: "y"},
		{Op: store.OpEq, Value: "y"},
		{Op: store.OpEq, Field: "x", Value: struct{}{}},
		{Op: store.OpEq, Field: "x", Value: []string{"a"}},
		{Op: store.OpIn, Field: "x", Value: "not a list"},
		store.Gt("year", "2021"),
		store.Lt(store.FieldTitle, 3),
		store.Eq("_unknown", "x"),
		{Op: store.OpNot, Filters: []*store.Filter{store.Exists("a"), store.Exists("b")}},
		{Op: store.OpNot},
		store.And(store.Exists("a"), nil),
		store.Or(store.Exists("a"), store.And(store.Gt("x", true))),
	}
}

// A vector whose length differs from the store's dimension is rejected
// with an error matching store.ErrDimensionMismatch, as a
// *store.DimensionError, and nothing of the batch is written: not even the
// valid documents before it.
func (s *suite) dimensionMismatch(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	a := g.doc("a", 2)
	m.put(a)
	upsert(t, st, a)

	wrong := newGen(t, s.dim+1)
	batches := [][]store.StoredDocument{
		{g.doc("b", 2), wrong.doc("c", 1)},
		{g.doc("a", 1), g.doc("b", 2), wrong.doc("c", 1)}, // would replace a
		{g.doc("b", 1), {ID: "a"}, wrong.doc("c", 1)},     // would delete a
	}
	if s.dim > 1 {
		mixed := g.doc("b", 3)
		mixed.Records[2].Vector = mixed.Records[2].Vector[:s.dim-1]
		batches = append(batches, []store.StoredDocument{mixed})
	}
	for i, batch := range batches {
		err := st.Upsert(context.Background(), batch)
		if !errors.Is(err, store.ErrDimensionMismatch) {
			t.Errorf("batch %d: Upsert = %v, want ErrDimensionMismatch", i, err)
		}
		var de *store.DimensionError
		if !errors.As(err, &de) {
			t.Errorf("batch %d: error %v is not a *store.DimensionError", i, err)
		} else if de.Want != s.dim || (de.Got != s.dim+1 && de.Got != s.dim-1) {
			t.Errorf("batch %d: DimensionError{Want %d, Got %d}, want {%d, %d or %d}", i, de.Want, de.Got, s.dim, s.dim+1, s.dim-1)
		}
		checkContents(t, st, m, s.dim)
	}
	_, err := st.Search(context.Background(), store.Query{Vector: wrong.vector()})
	if !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("Search with a query of %d dimensions on a store of %d: %v, want ErrDimensionMismatch", s.dim+1, s.dim, err)
	}

	// A fresh store given a batch of mixed dimensions writes nothing.
	st2 := s.newStore(t)
	if err := st2.Upsert(context.Background(), []store.StoredDocument{g.doc("a", 2), wrong.doc("b", 2)}); !errors.Is(err, store.ErrDimensionMismatch) {
		t.Errorf("Upsert of mixed dimensions on an empty store: %v, want ErrDimensionMismatch", err)
	}
	checkContents(t, st2, model{}, s.dim)
}

// Vectors that are empty or hold NaN or Inf are rejected with
// store.ErrInvalidVector, in Upsert (writing nothing of the batch) and in
// Search.
func (s *suite) invalidVector(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	a := g.doc("a", 2)
	m.put(a)
	upsert(t, st, a)
	nan, inf, ninf := float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	for _, bad := range []float32{nan, inf, ninf} {
		b := g.doc("b", 3)
		b.Records[1].Vector[s.dim/2] = bad
		a2 := g.doc("a", 1)
		if err := st.Upsert(context.Background(), []store.StoredDocument{a2, b}); !errors.Is(err, store.ErrInvalidVector) {
			t.Errorf("Upsert with a %v component: %v, want ErrInvalidVector", bad, err)
		}
		checkContents(t, st, m, s.dim)
		q := g.vector()
		q[0] = bad
		if _, err := st.Search(context.Background(), store.Query{Vector: q}); !errors.Is(err, store.ErrInvalidVector) {
			t.Errorf("Search with a %v component: %v, want ErrInvalidVector", bad, err)
		}
	}
	b := g.doc("b", 2)
	b.Records[0].Vector = nil
	if err := st.Upsert(context.Background(), []store.StoredDocument{b}); !errors.Is(err, store.ErrInvalidVector) {
		t.Errorf("Upsert with an empty vector: %v, want ErrInvalidVector", err)
	}
	if _, err := st.Search(context.Background(), store.Query{}); !errors.Is(err, store.ErrInvalidVector) {
		t.Errorf("Search with an empty vector: %v, want ErrInvalidVector", err)
	}
	checkContents(t, st, m, s.dim)
}

// Records without an ID, naming another document, or with reserved or
// unsupported metadata are rejected with store.ErrInvalidRecord, and
// nothing of the batch is written.
func (s *suite) invalidRecord(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := model{}
	a := g.doc("a", 2)
	m.put(a)
	upsert(t, st, a)
	cases := map[string]func(d *store.StoredDocument){
		"document without ID":   func(d *store.StoredDocument) { d.ID = ""; d.Records = nil },
		"record without ID":     func(d *store.StoredDocument) { d.Records[1].ID = "" },
		"record of another doc": func(d *store.StoredDocument) { d.Records[0].DocID = "other" },
		"reserved metadata key": func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"_id": "x"} },
		"empty metadata key":    func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"": "x"} },
		"unsupported type":      func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"k": struct{}{}} },
		"NaN metadata":          func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"k": math.NaN()} },
		"map metadata":          func(d *store.StoredDocument) { d.Records[0].Metadata = map[string]any{"k": map[string]any{}} },
	}
	for name, breakIt := range cases {
		b := g.doc("b", 2)
		breakIt(&b)
		if err := st.Upsert(context.Background(), []store.StoredDocument{g.doc("a", 1), g.doc("c", 1), b}); !errors.Is(err, store.ErrInvalidRecord) {
			t.Errorf("%s: Upsert = %v, want ErrInvalidRecord", name, err)
		}
		checkContents(t, st, m, s.dim)
	}
}

// An ordering against NaN (Gt, Gte, Lt, Lte of math.NaN(), as a float64
// or a float32, at the top of a filter or inside And, Or and Not) is
// rejected with store.ErrInvalidFilter: NaN has no place in the order of
// numbers, so no answer would be right. (Equality with NaN is rejected
// too; see InvalidFilter.)
func (s *suite) nanFilter(t *testing.T) {
	s.checkRejected(t, nanFilters(), "Search", s.searchWith)
}

// nanFilters returns filters that compare with NaN.
func nanFilters() []*store.Filter {
	nan := math.NaN()
	var bad []*store.Filter
	for _, op := range []func(string, any) *store.Filter{store.Gt, store.Gte, store.Lt, store.Lte} {
		bad = append(bad, op("year", nan), op("year", float32(nan)), op("absent", nan),
			store.And(store.Exists("year"), op("year", nan)),
			store.Or(store.Eq("lang", "en"), op("year", nan)),
			store.Not(op("year", nan)))
	}
	return append(bad, store.Eq("year", nan), store.In("year", 2021.0, nan), store.NotIn("year", nan))
}

// Infinities are valid filter values with the meaning they have among the
// finite numbers a store holds: every number is below +Inf and above
// -Inf, and none equals either. So Lt(+Inf) and Gt(-Inf) select exactly
// the records whose field is a number, Gte(+Inf), Lte(-Inf), Eq and In of
// an infinity select none, Ne and NotIn of one select every record.
func (s *suite) infiniteFilter(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	m := g.filterData(20, 3)
	s.loadModel(t, st, m)
	recs := m.records()
	inf, ninf := math.Inf(1), math.Inf(-1)
	// numeric returns the IDs of the records whose field is (or, with
	// is false, is not) a number.
	numeric := func(field string, is bool) []string {
		var ids []string
		for _, r := range recs {
			if _, ok := r.Metadata[field].(float64); ok == is {
				ids = append(ids, r.ID)
			}
		}
		return ids
	}
	every := recordIDs(recs)
	for _, tc := range []struct {
		f    *store.Filter
		want []string
	}{
		{store.Lt("year", inf), numeric("year", true)},
		{store.Lte("year", inf), numeric("year", true)},
		{store.Gt("year", ninf), numeric("year", true)},
		{store.Gte("mixed", float32(ninf)), numeric("mixed", true)},
		{store.Gt("year", inf), nil},
		{store.Gte("year", inf), nil},
		{store.Lt("year", ninf), nil},
		{store.Lte("year", ninf), nil},
		{store.Gt("lang", ninf), nil}, // a string field is not a number
		{store.Eq("year", inf), nil},
		{store.In("year", ninf, inf), nil},
		{store.Ne("year", inf), every},
		{store.NotIn("year", inf, ninf), every},
		{store.Not(store.Lt("year", inf)), numeric("year", false)},
	} {
		if err := tc.f.Validate(); err != nil {
			t.Fatalf("filter %s: Validate = %v, want it valid", tc.f, err)
		}
		got := resultIDs(search(t, st, store.Query{Vector: g.vector(), TopK: all, Filter: tc.f}))
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("filter %s selected %d records %v, want %d %v", tc.f, len(got), got, len(tc.want), tc.want)
		}
	}
}
