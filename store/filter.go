package store

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Built-in fields a Filter can name besides metadata keys. Metadata keys
// may not start with '_', so these never collide with them.
const (
	FieldDocID  = "_id"     // the document ID (string)
	FieldSource = "_source" // the document's source (string)
	FieldTitle  = "_title"  // the document's title (string)
	FieldTags   = "_tags"   // the document's tags (list of strings)
)

// Op is a filter operator.
type Op string

// Filter operators.
const (
	OpEq     Op = "eq"     // field equals value; on a list field: the list contains value
	OpNe     Op = "ne"     // not OpEq; a missing field matches
	OpIn     Op = "in"     // field equals one of values; on a list field: the lists share a value
	OpNotIn  Op = "nin"    // not OpIn; a missing field matches
	OpGt     Op = "gt"     // field > value; numbers and times only
	OpGte    Op = "gte"    // field >= value
	OpLt     Op = "lt"     // field < value
	OpLte    Op = "lte"    // field <= value
	OpExists Op = "exists" // the field is present
	OpAnd    Op = "and"    // every sub-filter matches (an empty And matches everything)
	OpOr     Op = "or"     // some sub-filter matches (an empty Or matches nothing)
	OpNot    Op = "not"    // the single sub-filter does not match
)

// Filter is a typed predicate over a record's built-in fields and metadata.
// Build filters with Eq, In, Gt, And and the other constructors; a nil
// *Filter matches everything.
//
// Values are typed: string, bool, number (any Go integer or float type,
// compared as float64), time.Time, and for OpIn and OpNotIn a list of those
// ([]string, []float64, []any...). A comparison between a value and a field
// of another type does not match (it is not an error: metadata may differ
// between documents), but an operator applied to a value type it does not
// support (OpGt on a string, say) makes the filter invalid, and every store
// rejects it with ErrInvalidFilter before searching. NaN is never a valid
// value; infinities are (see Validate).
//
// A Filter is a plain value: it is safe to share between goroutines as long
// as nobody modifies it.
type Filter struct {
	Op      Op
	Field   string    // comparison operators and OpExists
	Value   any       // comparison operators; a list for OpIn and OpNotIn
	Filters []*Filter // OpAnd, OpOr, OpNot
}

// Eq matches records whose field equals v (or, for a list field, contains v).
func Eq(field string, v any) *Filter {
	return &Filter{Op: OpEq, Field: field, Value: NormalizeValue(v)}
}

// Ne matches records whose field does not equal v, including records without the field.
func Ne(field string, v any) *Filter {
	return &Filter{Op: OpNe, Field: field, Value: NormalizeValue(v)}
}

// In matches records whose field equals one of vs.
func In[T any](field string, vs ...T) *Filter {
	return &Filter{Op: OpIn, Field: field, Value: toList(vs)}
}

// NotIn matches records whose field equals none of vs, including records without the field.
func NotIn[T any](field string, vs ...T) *Filter {
	return &Filter{Op: OpNotIn, Field: field, Value: toList(vs)}
}

// Gt matches records whose numeric or time field is greater than v.
func Gt(field string, v any) *Filter {
	return &Filter{Op: OpGt, Field: field, Value: NormalizeValue(v)}
}

// Gte matches records whose numeric or time field is at least v.
func Gte(field string, v any) *Filter {
	return &Filter{Op: OpGte, Field: field, Value: NormalizeValue(v)}
}

// Lt matches records whose numeric or time field is less than v.
func Lt(field string, v any) *Filter {
	return &Filter{Op: OpLt, Field: field, Value: NormalizeValue(v)}
}

// Lte matches records whose numeric or time field is at most v.
func Lte(field string, v any) *Filter {
	return &Filter{Op: OpLte, Field: field, Value: NormalizeValue(v)}
}

// Exists matches records that have the field.
func Exists(field string) *Filter { return &Filter{Op: OpExists, Field: field} }

// And matches records that every filter matches.
func And(fs ...*Filter) *Filter { return &Filter{Op: OpAnd, Filters: fs} }

// Or matches records that at least one filter matches.
func Or(fs ...*Filter) *Filter { return &Filter{Op: OpOr, Filters: fs} }

// Not matches records that f does not match.
func Not(f *Filter) *Filter { return &Filter{Op: OpNot, Filters: []*Filter{f}} }

func toList[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = NormalizeValue(v)
	}
	return out
}

// String returns a readable form of the filter, for errors and logs.
func (f *Filter) String() string {
	if f == nil {
		return "true"
	}
	switch f.Op {
	case OpAnd, OpOr, OpNot:
		parts := make([]string, len(f.Filters))
		for i, s := range f.Filters {
			parts[i] = s.String()
		}
		return string(f.Op) + "(" + strings.Join(parts, ", ") + ")"
	case OpExists:
		return "exists(" + f.Field + ")"
	}
	return fmt.Sprintf("%s %s %v", f.Field, f.Op, f.Value)
}

// Validate reports an error matching ErrInvalidFilter if f is malformed:
// an unknown operator, a comparison without a field, a value of a type the
// operator does not support, NaN as a value (of any operator: NaN equals
// nothing and has no place in the order of numbers, so no answer would be
// right), or a logical operator with the wrong number of sub-filters. A nil
// filter is valid.
//
// Infinities are valid values: stored numbers are finite (CheckMetadata
// rejects infinite metadata), so Gt(field, math.Inf(-1)) and
// Lt(field, math.Inf(1)) match every record whose field is a number, their
// opposites none, and Eq or In with an infinity matches no record (Ne and
// NotIn every record), as a comparison with a value of another type does.
func (f *Filter) Validate() error {
	if f == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidFilter, f, fmt.Sprintf(format, args...))
	}
	switch f.Op {
	case OpAnd, OpOr, OpNot:
		if f.Op == OpNot && len(f.Filters) != 1 {
			return bad("not takes exactly one filter, got %d", len(f.Filters))
		}
		for _, s := range f.Filters {
			if s == nil {
				return bad("nil sub-filter")
			}
			if err := s.Validate(); err != nil {
				return err
			}
		}
		return nil
	}
	if f.Field == "" {
		return bad("no field")
	}
	if strings.HasPrefix(f.Field, "_") && !isBuiltin(f.Field) {
		return bad("unknown built-in field %q (fields starting with '_' are reserved)", f.Field)
	}
	switch f.Op {
	case OpExists:
		return nil
	case OpEq, OpNe:
		if !isScalar(NormalizeValue(f.Value)) {
			return bad("value of type %T is not a string, bool, number or time", f.Value)
		}
	case OpIn, OpNotIn:
		list, ok := listValues(f.Value)
		if !ok {
			return bad("value of type %T is not a list", f.Value)
		}
		for _, v := range list {
			if !isScalar(v) {
				return bad("list element of type %T is not a string, bool, number or time", v)
			}
		}
	case OpGt, OpGte, OpLt, OpLte:
		switch x := NormalizeValue(f.Value).(type) {
		case float64:
			if math.IsNaN(x) {
				return bad("NaN is not ordered: it is neither less nor greater than any number")
			}
		case time.Time:
		default:
			return bad("ordering needs a number or a time, got %T", f.Value)
		}
		if f.Field == FieldTags || f.Field == FieldDocID || f.Field == FieldSource || f.Field == FieldTitle {
			return bad("field %s is a string field and cannot be ordered", f.Field)
		}
	default:
		return bad("unknown operator %q", f.Op)
	}
	return nil
}

// Values returns the values a comparison compares with, normalised (see
// NormalizeValue): the one value of OpEq, OpNe and the orderings, the
// elements of the list of OpIn and OpNotIn. It returns nil for OpExists
// and the logical operators, and for an OpIn or OpNotIn whose value is
// not a list (an invalid filter).
func (f *Filter) Values() []any {
	if f == nil {
		return nil
	}
	switch f.Op {
	case OpEq, OpNe, OpGt, OpGte, OpLt, OpLte:
		return []any{NormalizeValue(f.Value)}
	case OpIn, OpNotIn:
		list, _ := listValues(f.Value)
		return list
	}
	return nil
}

func isBuiltin(field string) bool {
	switch field {
	case FieldDocID, FieldSource, FieldTitle, FieldTags:
		return true
	}
	return false
}

func isScalar(v any) bool {
	switch x := v.(type) {
	case string, bool, time.Time:
		return true
	case float64:
		return x == x // not NaN
	}
	return false
}

// listValues returns the elements of a list value, normalised.
func listValues(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = NormalizeValue(e)
		}
		return out, true
	case []string:
		return toList(x), true
	case []float64:
		return toList(x), true
	case []int:
		return toList(x), true
	case []bool:
		return toList(x), true
	case []time.Time:
		return toList(x), true
	}
	return nil, false
}

// FieldValue returns the value of a built-in field or metadata key of r,
// and whether it is present. Built-in string fields are present when not
// empty; tags when the record has at least one.
func FieldValue(r *Record, field string) (any, bool) {
	switch field {
	case FieldDocID:
		return r.DocID, r.DocID != ""
	case FieldSource:
		return r.Source, r.Source != ""
	case FieldTitle:
		return r.Title, r.Title != ""
	case FieldTags:
		return r.Tags, len(r.Tags) > 0
	}
	v, ok := r.Metadata[field]
	if !ok {
		return nil, false
	}
	return NormalizeValue(v), true
}

// Match reports whether r satisfies f. A nil filter matches every record.
// Match assumes f is valid (see Validate); an invalid filter matches nothing.
func (f *Filter) Match(r *Record) bool {
	if f == nil {
		return true
	}
	switch f.Op {
	case OpAnd:
		for _, s := range f.Filters {
			if !s.Match(r) {
				return false
			}
		}
		return true
	case OpOr:
		for _, s := range f.Filters {
			if s.Match(r) {
				return true
			}
		}
		return false
	case OpNot:
		return len(f.Filters) == 1 && !f.Filters[0].Match(r)
	}
	fv, ok := FieldValue(r, f.Field)
	switch f.Op {
	case OpExists:
		return ok
	case OpEq:
		return ok && contains(fv, NormalizeValue(f.Value))
	case OpNe:
		return !ok || !contains(fv, NormalizeValue(f.Value))
	case OpIn, OpNotIn:
		list := f.Values()
		in := false
		if ok {
			for _, v := range list {
				if contains(fv, v) {
					in = true
					break
				}
			}
		}
		return in == (f.Op == OpIn)
	case OpGt, OpGte, OpLt, OpLte:
		if !ok {
			return false
		}
		c, comparable := compare(fv, NormalizeValue(f.Value))
		if !comparable {
			return false
		}
		switch f.Op {
		case OpGt:
			return c > 0
		case OpGte:
			return c >= 0
		case OpLt:
			return c < 0
		default:
			return c <= 0
		}
	}
	return false
}

// contains reports whether field value fv equals v, or, when fv is a list,
// holds v.
func contains(fv, v any) bool {
	if list, ok := fv.([]string); ok {
		s, ok := v.(string)
		return ok && slices.Contains(list, s)
	}
	c, ok := compare(fv, v)
	return ok && c == 0
}

// compare orders two scalar values of the same type; ok is false when
// their types differ or are not ordered (bools compare equal or not; NaN
// is not ordered at all, so an invalid filter holding it matches nothing).
func compare(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case float64:
		y, ok := b.(float64)
		switch {
		case !ok || x != x || y != y: // NaN is not ordered
			return 0, false
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case time.Time:
		y, ok := b.(time.Time)
		return x.Compare(y), ok
	case bool:
		y, ok := b.(bool)
		if x == y {
			return 0, ok
		}
		return 1, ok
	}
	return 0, false
}
