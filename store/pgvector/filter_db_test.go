package pgvector_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/pgvector"
)

// filterWorld is data for filter tests with hostile keys and values and
// the edge cases of typed comparison.
type filterWorld struct {
	rng    *rand.Rand
	keys   []string
	values []any
}

func newFilterWorld(seed uint64, canary string) *filterWorld {
	hostile := []string{
		"'; DROP TABLE " + canary + "; --", `"); DELETE FROM ` + canary + `; --`, `$1`, `?`, `?|`, `->>`, `\`, `\'`,
		`*/ OR 1=1 /*`, `{"unix": 1}`, `["a"]`, `a"b`, "line\nbreak", `%s`, "ключ", "a.b", "with space",
	}
	berlin := time.FixedZone("CEST", 2*3600)
	base := time.Date(2024, 5, 17, 13, 14, 15, 123456789, berlin)
	values := []any{
		"en", "", "42", "true", "1.5", `{"unix":1}`, `["a"]`, "2024-05-17T11:14:15.123456789Z",
		0.0, math.Copysign(0, -1), 1.0, 1.5, 42.0, -1e-300, 1e300, -7.25,
		true, false,
		base, base.UTC(), base.Add(time.Nanosecond), base.Add(-time.Nanosecond),
		time.Unix(-1, 999999999), time.Unix(-86400*365*300, 5), time.Unix(0, 0),
		[]string{"a", "42"}, []string{}, []string{"en", ""},
	}
	for _, h := range hostile {
		values = append(values, h, []string{h, "a"})
	}
	return &filterWorld{rng: rand.New(rand.NewPCG(seed, 99)), keys: append([]string{"lang", "n"}, hostile...), values: values}
}

func (w *filterWorld) docs(n, dim int) []store.StoredDocument {
	titles := []string{"", "T1", "'; --", "ünï"}
	var docs []store.StoredDocument
	for i := range n {
		d := makeDoc(w.rng, fmt.Sprintf("doc-%02d", i), 1+w.rng.IntN(3), dim)
		title := titles[w.rng.IntN(len(titles))]
		for j := range d.Records {
			r := &d.Records[j]
			r.Title, r.Source = title, titles[w.rng.IntN(len(titles))]
			for _, k := range w.keys {
				if w.rng.IntN(4) == 0 {
					r.Tags = append(r.Tags, k)
				}
				if w.rng.IntN(3) == 0 {
					if r.Metadata == nil {
						r.Metadata = map[string]any{}
					}
					r.Metadata[k] = w.values[w.rng.IntN(len(w.values))]
				}
			}
		}
		docs = append(docs, d)
	}
	return docs
}

// filter returns a random filter, valid or not.
func (w *filterWorld) filter(depth int) *store.Filter {
	if depth > 0 && w.rng.IntN(3) == 0 {
		n := w.rng.IntN(3)
		fs := make([]*store.Filter, n)
		for i := range fs {
			fs[i] = w.filter(depth - 1)
		}
		switch w.rng.IntN(3) {
		case 0:
			return store.And(fs...)
		case 1:
			return store.Or(fs...)
		default:
			return store.Not(w.filter(depth - 1))
		}
	}
	fields := append([]string{store.FieldDocID, store.FieldTitle, store.FieldSource, store.FieldTags, "missing", "k\x00", "\xff"}, w.keys...)
	field := fields[w.rng.IntN(len(fields))]
	val := func() any {
		switch w.rng.IntN(8) {
		case 0:
			return []any{math.NaN(), math.Inf(1), math.Inf(-1), "bad\x00", "\xfe", 3}[w.rng.IntN(6)]
		case 1:
			return fmt.Sprintf("doc-%02d", w.rng.IntN(20))
		}
		v := w.values[w.rng.IntN(len(w.values))]
		if l, ok := v.([]string); ok && len(l) > 0 {
			return l[0]
		}
		return v
	}
	switch op := []store.Op{store.OpEq, store.OpNe, store.OpIn, store.OpNotIn, store.OpGt, store.OpGte, store.OpLt, store.OpLte, store.OpExists}[w.rng.IntN(9)]; op {
	case store.OpEq:
		return store.Eq(field, val())
	case store.OpNe:
		return store.Ne(field, val())
	case store.OpIn:
		return store.In(field, val(), val(), val())
	case store.OpNotIn:
		return store.NotIn(field, val(), val())
	case store.OpGt:
		return store.Gt(field, val())
	case store.OpGte:
		return store.Gte(field, val())
	case store.OpLt:
		return store.Lt(field, val())
	case store.OpLte:
		return store.Lte(field, val())
	default:
		return store.Exists(field)
	}
}

// Filters with hostile keys and values, type confusion (strings that look
// like numbers, times or JSON), non-finite bounds, -0, extreme numbers,
// pre-1970 times to the nanosecond and keys Postgres cannot store select
// exactly the records store.Filter.Match selects; nothing is injected (a
// canary table named in the hostile strings survives, the table keeps every
// row).
func TestFilterMatchesReference(t *testing.T) {
	p := testPool(t)
	canary := newTable(t) + "_canary"
	if _, err := p.Exec(ctx, "CREATE TABLE "+canary+" (x int)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Exec(ctx, "DROP TABLE IF EXISTS "+canary) })
	s := newStore(t, pgvector.Options{})
	w := newFilterWorld(11, canary)
	const dim = 6
	docs := w.docs(60, dim)
	mustUpsert(t, s, docs...)
	recs := allRecords(docs...)
	var valid, matched int
	for range 400 {
		f := w.filter(3)
		q := store.Query{Vector: randVec(w.rng, dim), TopK: len(recs) + 1, Filter: f}
		if err := f.Validate(); err != nil {
			if _, serr := s.Search(ctx, q); !errors.Is(serr, store.ErrInvalidFilter) {
				t.Errorf("Search with invalid filter %q = %v, want ErrInvalidFilter", f, serr)
			}
			continue
		}
		valid++
		got, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("Search(%q): %v", f, err)
		}
		want := store.BruteForce(recs, q)
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("filter %q:\n got %v\nwant %v", f, ids(got), ids(want))
		}
		if len(want) > 0 && len(want) < len(recs) {
			matched++
		}
	}
	t.Logf("%d valid filters checked, %d selecting some but not all of %d records", valid, matched, len(recs))
	if matched < valid/4 {
		t.Errorf("only %d of %d filters were selective: the test data does not exercise the filters", matched, valid)
	}
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM "+canary).Scan(&n); err != nil {
		t.Errorf("canary table: %v", err)
	}
	if got := contents(t, s, dim); len(got) != len(recs) {
		t.Errorf("table holds %d records, want %d", len(got), len(recs))
	}
}

// Metadata with hostile keys and values round-trips byte for byte.
func TestHostileMetadataRoundTrip(t *testing.T) {
	s := newStore(t, pgvector.Options{})
	w := newFilterWorld(12, "nothing")
	d := makeDoc(w.rng, `'; DROP TABLE x; --`, 1, 3)
	md := map[string]any{}
	for i, k := range w.keys {
		md[k] = w.values[(i*7)%len(w.values)]
	}
	d.Records[0].Metadata = md
	d.Records[0].Tags = w.keys
	d.Records[0].Title = w.keys[0]
	mustUpsert(t, s, d)
	rs, err := s.Search(ctx, store.Query{Vector: d.Records[0].Vector, Filter: store.Eq(store.FieldDocID, d.ID)})
	if err != nil || len(rs) != 1 {
		t.Fatalf("Search = %v, %v", ids(rs), err)
	}
	got, want := rs[0].Metadata, store.NormalizeMetadata(md)
	if len(got) != len(want) {
		t.Fatalf("metadata has %d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		switch v := v.(type) {
		case time.Time:
			if g, ok := got[k].(time.Time); !ok || !g.Equal(v) {
				t.Errorf("%q = %#v, want %v", k, got[k], v)
			}
		case []string:
			if g, ok := got[k].([]string); !ok || !slices.Equal(g, v) {
				t.Errorf("%q = %#v, want %q", k, got[k], v)
			}
		default:
			if got[k] != v {
				t.Errorf("%q = %#v, want %#v", k, got[k], v)
			}
		}
	}
	if !slices.Equal(rs[0].Tags, w.keys) || rs[0].Title != w.keys[0] || rs[0].DocID != d.ID {
		t.Errorf("built-in fields changed: %q %q %q", rs[0].Tags, rs[0].Title, rs[0].DocID)
	}
}
