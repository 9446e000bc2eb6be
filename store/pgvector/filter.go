package pgvector

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ragkit-go/rag/store"
)

// builder builds a parameterised SQL statement: every value, and every
// metadata key, goes into args; only fixed SQL text and column names
// chosen by this package are written into the statement.
type builder struct {
	sb   strings.Builder
	args []any
}

// arg adds v as a parameter and returns its placeholder, e.g. "$3".
func (q *builder) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *builder) w(parts ...string) {
	for _, p := range parts {
		q.sb.WriteString(p)
	}
}

// compileFilter validates f and writes it to q as a boolean SQL expression
// over the table alias t. The expression is never NULL, so NOT works as
// store.Filter.Match's negation (three-valued logic never leaks in).
func compileFilter(q *builder, f *store.Filter) error {
	if err := f.Validate(); err != nil {
		return err
	}
	q.filter(f)
	return nil
}

func (q *builder) filter(f *store.Filter) {
	if f == nil {
		q.w("TRUE")
		return
	}
	switch f.Op {
	case store.OpAnd, store.OpOr:
		if len(f.Filters) == 0 {
			if f.Op == store.OpAnd {
				q.w("TRUE")
			} else {
				q.w("FALSE")
			}
			return
		}
		sep := " AND "
		if f.Op == store.OpOr {
			sep = " OR "
		}
		q.w("(")
		for i, s := range f.Filters {
			if i > 0 {
				q.w(sep)
			}
			q.filter(s)
		}
		q.w(")")
		return
	case store.OpNot:
		q.w("(NOT ")
		q.filter(f.Filters[0])
		q.w(")")
		return
	}
	switch f.Field {
	case store.FieldDocID:
		q.stringColumn(f, "t.doc_id", true)
	case store.FieldTitle:
		q.stringColumn(f, "t.title", false)
	case store.FieldSource:
		q.stringColumn(f, "t.source", false)
	case store.FieldTags:
		q.tags(f)
	default:
		q.metadata(f)
	}
}

// negated reports whether op is the negation of an operator the compiler
// writes (OpNe of OpEq, OpNotIn of OpIn).
func negated(op store.Op) bool { return op == store.OpNe || op == store.OpNotIn }

// wrap writes the predicate body for f, negating it for OpNe and OpNotIn.
// An empty body means "matches nothing".
func (q *builder) wrap(f *store.Filter, body func()) {
	if negated(f.Op) {
		q.w("(NOT ")
		body()
		q.w(")")
		return
	}
	body()
}

// stringColumn compiles f over a built-in text column. The document ID is
// always present; title and source are present when not empty.
func (q *builder) stringColumn(f *store.Filter, col string, alwaysPresent bool) {
	if f.Op == store.OpExists {
		if alwaysPresent {
			q.w("TRUE")
		} else {
			q.w("(", col, " <> '')")
		}
		return
	}
	// OpEq, OpNe, OpIn, OpNotIn (Validate rejects ordering on these fields).
	var strs []string
	for _, v := range f.Values() {
		// Other types never equal a string; strings Postgres cannot store
		// never equal a stored one; an empty title or source is absent.
		if s, ok := v.(string); ok && storable(s) && (alwaysPresent || s != "") {
			strs = append(strs, s)
		}
	}
	q.wrap(f, func() {
		switch len(strs) {
		case 0:
			q.w("FALSE")
		case 1:
			q.w("(", col, " = ", q.arg(strs[0]), "::text)")
		default:
			q.w("(", col, " = ANY(", q.arg(strs), "::text[]))")
		}
	})
}

// tags compiles f over the tags column: equality means "contains".
func (q *builder) tags(f *store.Filter) {
	if f.Op == store.OpExists {
		q.w("(cardinality(t.tags) > 0)")
		return
	}
	var strs []string
	for _, v := range f.Values() {
		if s, ok := v.(string); ok && storable(s) {
			strs = append(strs, s)
		}
	}
	q.wrap(f, func() {
		if len(strs) == 0 {
			q.w("FALSE")
			return
		}
		q.w("(t.tags && ", q.arg(strs), "::text[])")
	})
}

// metadata compiles f over a metadata key. The key is a parameter, never
// part of the SQL text.
func (q *builder) metadata(f *store.Filter) {
	if !storable(f.Field) {
		// No stored record can have this key: the field is absent.
		switch f.Op {
		case store.OpNe, store.OpNotIn:
			q.w("TRUE")
		default:
			q.w("FALSE")
		}
		return
	}
	switch f.Op {
	case store.OpExists:
		q.w("(t.metadata ? ", q.arg(f.Field), "::text)")
		return
	case store.OpGt, store.OpGte, store.OpLt, store.OpLte:
		q.ordering(f)
		return
	}
	// Equality: the record's metadata contains {key: value}, or, for a
	// string, {key: [value]} (a list field holding it). Containment of a
	// typed jsonb value compares types exactly (the string "42" is not the
	// number 42) and numbers numerically; the GIN index on metadata
	// serves it.
	var alts []string
	for _, v := range f.Values() {
		switch x := v.(type) {
		case string:
			if !storable(x) {
				continue // no stored string equals it
			}
		case float64:
			if math.IsInf(x, 0) {
				continue // stored numbers are finite
			}
		}
		alts = append(alts, containment(f.Field, jsonValue(v)))
		if s, ok := v.(string); ok {
			alts = append(alts, containment(f.Field, []string{s}))
		}
	}
	q.wrap(f, func() {
		switch len(alts) {
		case 0:
			q.w("FALSE")
		case 1:
			q.w("(t.metadata @> ", q.arg(alts[0]), "::jsonb)")
		default:
			q.w("(t.metadata @> ANY(", q.arg(alts), "::jsonb[]))")
		}
	})
}

// containment returns the JSON text of {key: v}.
func containment(key string, v any) string {
	b, err := json.Marshal(map[string]any{key: v})
	if err != nil {
		// Only validated scalars and string lists reach here; they marshal.
		panic("pgvector: marshal filter value: " + err.Error())
	}
	return string(b)
}

var orderingOps = map[store.Op]string{store.OpGt: ">", store.OpGte: ">=", store.OpLt: "<", store.OpLte: "<="}

// ordering compiles a comparison of a number or a time: values of another
// type, or a missing key, do not match. CASE guarantees that a cast is only
// attempted on a value of the right JSON type.
func (q *builder) ordering(f *store.Filter) {
	op := orderingOps[f.Op]
	switch v := store.NormalizeValue(f.Value).(type) {
	case float64:
		if math.IsInf(v, 0) { // Validate rejects NaN
			q.infinite(f.Op, v, f.Field)
			return
		}
		key := q.arg(f.Field)
		x := q.arg(strconv.FormatFloat(v, 'g', -1, 64))
		q.w("(CASE WHEN jsonb_typeof(t.metadata -> ", key, "::text) = 'number' THEN (t.metadata -> ", key,
			"::text)::numeric ", op, " ", x, "::numeric ELSE FALSE END)")
	case time.Time:
		key := q.arg(f.Field)
		x := q.arg(timeNumeric(v))
		q.w("(CASE WHEN jsonb_typeof(t.metadata -> ", key, "::text) = 'object' THEN COALESCE(((t.metadata -> ", key,
			"::text) ->> '"+timeKey+"')::numeric ", op, " ", x, "::numeric, FALSE) ELSE FALSE END)")
	default:
		// Unreachable after Validate.
		q.w("FALSE")
	}
}

// infinite compiles an ordering against an infinity the way
// store.Filter.Match evaluates it on the finite numbers a store holds:
// every number is below +Inf and above -Inf.
func (q *builder) infinite(op store.Op, v float64, field string) {
	var match bool
	if v > 0 {
		match = op == store.OpLt || op == store.OpLte
	} else {
		match = op == store.OpGt || op == store.OpGte
	}
	if match {
		q.w("(jsonb_typeof(t.metadata -> ", q.arg(field), "::text) IS NOT DISTINCT FROM 'number')")
	} else {
		q.w("FALSE")
	}
}
