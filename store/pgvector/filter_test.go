package pgvector

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

func compile(t *testing.T, f *store.Filter) (string, []any) {
	t.Helper()
	var b builder
	if err := compileFilter(&b, f); err != nil {
		t.Fatalf("compile %s: %v", f, err)
	}
	return b.sb.String(), b.args
}

// Each operator compiles to the documented SQL with every value and key
// as a parameter.
func TestCompileFilter(t *testing.T) {
	when := time.Date(2024, 5, 17, 13, 14, 15, 123456789, time.FixedZone("CEST", 2*3600))
	const isNum = "(CASE WHEN jsonb_typeof(t.metadata -> $1::text) = 'number' THEN (t.metadata -> $1::text)::numeric "
	for _, tc := range []struct {
		f    *store.Filter
		sql  string
		args []any
	}{
		{nil, "TRUE", nil},
		{store.And(), "TRUE", nil},
		{store.Or(), "FALSE", nil},
		{store.Eq("lang", "en"), "(t.metadata @> ANY($1::jsonb[]))", []any{[]string{`{"lang":"en"}`, `{"lang":["en"]}`}}},
		{store.Eq("n", 42), "(t.metadata @> $1::jsonb)", []any{`{"n":42}`}},
		{store.Eq("n", float32(0.5)), "(t.metadata @> $1::jsonb)", []any{`{"n":0.5}`}},
		{store.Eq("ok", false), "(t.metadata @> $1::jsonb)", []any{`{"ok":false}`}},
		{store.Eq("when", when), "(t.metadata @> $1::jsonb)", []any{`{"when":{"unix":1715944455.123456789}}`}},
		{store.Eq("n", math.Inf(1)), "FALSE", nil},
		{store.Ne("lang", "en"), "(NOT (t.metadata @> ANY($1::jsonb[])))", []any{[]string{`{"lang":"en"}`, `{"lang":["en"]}`}}},
		{store.In("n", 1, 2), "(t.metadata @> ANY($1::jsonb[]))", []any{[]string{`{"n":1}`, `{"n":2}`}}},
		{store.In[any]("x", "a", 1.5, true), "(t.metadata @> ANY($1::jsonb[]))", []any{[]string{`{"x":"a"}`, `{"x":["a"]}`, `{"x":1.5}`, `{"x":true}`}}},
		{store.In[string]("x"), "FALSE", nil},
		{store.NotIn[string]("x"), "(NOT FALSE)", nil},
		{store.NotIn("x", "a"), "(NOT (t.metadata @> ANY($1::jsonb[])))", []any{[]string{`{"x":"a"}`, `{"x":["a"]}`}}},
		{store.Exists("lang"), "(t.metadata ? $1::text)", []any{"lang"}},
		{store.Gt("n", 3), isNum + "> $2::numeric ELSE FALSE END)", []any{"n", "3"}},
		{store.Gte("n", -1e-300), isNum + ">= $2::numeric ELSE FALSE END)", []any{"n", "-1e-300"}},
		{store.Lt("n", 1e21), isNum + "< $2::numeric ELSE FALSE END)", []any{"n", "1e+21"}},
		{store.Lte("n", 0.1), isNum + "<= $2::numeric ELSE FALSE END)", []any{"n", "0.1"}},
		{store.Lt("when", when),
			"(CASE WHEN jsonb_typeof(t.metadata -> $1::text) = 'object' THEN COALESCE(((t.metadata -> $1::text) ->> 'unix')::numeric < $2::numeric, FALSE) ELSE FALSE END)",
			[]any{"when", "1715944455.123456789"}},
		// Infinite bounds, as store.Filter.Match treats them (NaN is invalid).
		{store.Lt("n", math.Inf(1)), "(jsonb_typeof(t.metadata -> $1::text) IS NOT DISTINCT FROM 'number')", []any{"n"}},
		{store.Gte("n", math.Inf(1)), "FALSE", nil},
		{store.Gt("n", math.Inf(-1)), "(jsonb_typeof(t.metadata -> $1::text) IS NOT DISTINCT FROM 'number')", []any{"n"}},
		{store.Lte("n", math.Inf(-1)), "FALSE", nil},
		// Built-in fields.
		{store.Eq(store.FieldDocID, "d1"), "(t.doc_id = $1::text)", []any{"d1"}},
		{store.Eq(store.FieldDocID, 1), "FALSE", nil},
		{store.In(store.FieldDocID, "a", "b"), "(t.doc_id = ANY($1::text[]))", []any{[]string{"a", "b"}}},
		{store.Exists(store.FieldDocID), "TRUE", nil},
		{store.Eq(store.FieldTitle, "T"), "(t.title = $1::text)", []any{"T"}},
		{store.Eq(store.FieldTitle, ""), "FALSE", nil}, // an empty title is absent
		{store.Ne(store.FieldSource, ""), "(NOT FALSE)", nil},
		{store.In(store.FieldSource, "", "s"), "(t.source = $1::text)", []any{"s"}},
		{store.Exists(store.FieldTitle), "(t.title <> '')", nil},
		{store.Eq(store.FieldTags, "x"), "(t.tags && $1::text[])", []any{[]string{"x"}}},
		{store.Eq(store.FieldTags, ""), "(t.tags && $1::text[])", []any{[]string{""}}},
		{store.NotIn(store.FieldTags, "x", "y"), "(NOT (t.tags && $1::text[]))", []any{[]string{"x", "y"}}},
		{store.Exists(store.FieldTags), "(cardinality(t.tags) > 0)", nil},
		// Logic.
		{store.And(store.Exists("a"), store.Or(store.Exists("b"), store.Not(store.Exists("c")))),
			"((t.metadata ? $1::text) AND ((t.metadata ? $2::text) OR (NOT (t.metadata ? $3::text))))", []any{"a", "b", "c"}},
		// Keys and values Postgres cannot store match nothing (and are not sent).
		{store.Eq("k\x00", "v"), "FALSE", nil},
		{store.Ne("k\xff", "v"), "TRUE", nil},
		{store.Exists("k\x00"), "FALSE", nil},
		{store.Gt("k\x00", 1), "FALSE", nil},
		{store.Eq("k", "v\x00"), "FALSE", nil},
		{store.In("k", "v\xff", "w"), "(t.metadata @> ANY($1::jsonb[]))", []any{[]string{`{"k":"w"}`, `{"k":["w"]}`}}},
		{store.Eq(store.FieldDocID, "a\x00"), "FALSE", nil},
	} {
		sql, args := compile(t, tc.f)
		if sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%s:\n got %s %#v\nwant %s %#v", tc.f, sql, args, tc.sql, tc.args)
		}
	}
}

// Invalid filters are rejected with store.ErrInvalidFilter before any SQL.
func TestCompileFilterInvalid(t *testing.T) {
	for _, f := range []*store.Filter{
		{Op: "like", Field: "x", Value: "a"},
		{Op: store.OpEq, Value: "a"},
		store.Gt("x", "a"),
		store.Gt(store.FieldTitle, 1),
		store.Eq("_private", "a"),
		store.Eq("x", []string{"a"}),
		{Op: store.OpIn, Field: "x", Value: "notalist"},
		{Op: store.OpNot, Filters: []*store.Filter{store.Exists("a"), store.Exists("b")}},
		store.And(nil),
		store.Eq("x", math.NaN()),
		store.Gt("x", math.NaN()),
		store.Gte("x", math.NaN()),
		store.Lt("x", math.NaN()),
		store.Lte("x", float32(math.NaN())),
		store.Not(store.Lte("x", math.NaN())),
	} {
		var b builder
		err := compileFilter(&b, f)
		if !errors.Is(err, store.ErrInvalidFilter) {
			t.Errorf("%s: err = %v, want ErrInvalidFilter", f, err)
		}
		if b.sb.Len() != 0 || len(b.args) != 0 {
			t.Errorf("%s: wrote %q %v before failing", f, b.sb.String(), b.args)
		}
	}
}

// hostile are keys and values an attacker might try: quotes, comments,
// statement separators, placeholders, JSON and SQL syntax.
var hostile = []string{
	`'; DROP TABLE rag_chunks; --`,
	`"); DELETE FROM x; --`,
	`$1`, `?`, `?|`, `->>`, `\`, `\'`, `*/ OR 1=1 /*`,
	`{"a":1}`, `["a"]`, `a"b`, `a'b'c`, "line\nbreak", "tab\t", `%s %d`,
	`𝕦𝕟𝕚𝕔𝕠𝕕𝕖`, strings.Repeat("k", 5000),
}

// allowedSQL is everything compiled filter SQL may contain: the fixed
// vocabulary of the compiler and numbered placeholders.
var allowedSQL = regexp.MustCompile(`^(?:` + strings.Join([]string{
	`\s+`, `\(`, `\)`, `\$\d+`, `::(?:text|jsonb|numeric|text\[\]|jsonb\[\])`, `TRUE`, `FALSE`, `NOT`, `AND`, `OR`,
	`t\.(?:metadata|doc_id|title|source|tags)`, `@>`, `ANY`, `\?`, `=`, `<>`, `&&`, `''`, `'number'`, `'object'`, `'unix'`,
	`cardinality`, `>=?`, `<=?`, `->>?`, `> 0`, `CASE`, `WHEN`, `THEN`, `ELSE`, `END`, `COALESCE`, `,`,
	`jsonb_typeof`, `IS NOT DISTINCT FROM`, `::numeric`,
}, "|") + `)+$`)

// No key or value ever reaches the SQL text: the statement is the same as
// for a harmless key and value, and holds only the compiler's vocabulary;
// keys and values travel as parameters, byte for byte.
func TestCompileFilterInjection(t *testing.T) {
	ops := func(k string, v any) []*store.Filter {
		return []*store.Filter{
			store.Eq(k, v), store.Ne(k, v), store.In(k, v, v), store.NotIn(k, v),
			store.Exists(k), store.Gt(k, 1), store.Lte(k, time.Unix(1, 0)),
			store.Eq(store.FieldDocID, v), store.In(store.FieldTags, v), store.Eq(store.FieldTitle, v),
		}
	}
	for _, h := range hostile {
		for _, pair := range [][2]string{{h, "v"}, {"k", h}, {h, h}} {
			key, val := pair[0], pair[1]
			safe := ops("k", "v")
			for i, f := range ops(key, val) {
				sql, args := compile(t, f)
				wantSQL, _ := compile(t, safe[i])
				if sql != wantSQL {
					t.Errorf("%q/%q: %s compiled to %q, want the same SQL as for k/v: %q", key, val, f.Op, sql, wantSQL)
				}
				if !allowedSQL.MatchString(sql) {
					t.Errorf("%q/%q: SQL %q has text outside the compiler's vocabulary", key, val, sql)
				}
				if !argsCarry(args, key, val, f) {
					t.Errorf("%q/%q: %s args %#v do not carry the key and value", key, val, f.Op, args)
				}
			}
		}
	}
}

// argsCarry reports whether the key (for metadata filters) and the string
// value of f appear in args, exactly or JSON-encoded.
func argsCarry(args []any, key, val string, f *store.Filter) bool {
	flat := fmt.Sprintf("%#v", args)
	quoted := func(s string) string { return fmt.Sprintf("%#v", s)[1 : len(fmt.Sprintf("%#v", s))-1] }
	if !strings.HasPrefix(f.Field, "_") && !strings.Contains(flat, quoted(key)) && !strings.Contains(flat, quoted(jsonString(key))) {
		return false
	}
	if _, isStr := f.Value.(string); isStr && !strings.Contains(flat, quoted(val)) && !strings.Contains(flat, quoted(jsonString(val))) {
		return false
	}
	return true
}

func jsonString(s string) string {
	q := containment(s, "")
	return q[2:strings.Index(q, `":""`)]
}
