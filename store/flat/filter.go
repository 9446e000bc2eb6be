package flat

import (
	"time"

	"github.com/ragkit-go/rag/store"
)

// matcher reports whether a record matches a filter; nil matches all.
type matcher func(*store.Record) bool

// compileFilter returns a matcher equivalent to f.Match for a valid f.
// Filter.Match re-reads the value list of an In or NotIn filter on every
// call (allocating a copy), which makes a filter on a long list of IDs cost
// more than the scan; compiled, those lists become sets built once per
// search. Every other operator is delegated to Filter.Match itself.
func compileFilter(f *store.Filter) matcher {
	if f == nil {
		return nil
	}
	switch f.Op {
	case store.OpAnd, store.OpOr:
		subs := make([]matcher, len(f.Filters))
		for i, s := range f.Filters {
			subs[i] = compileFilter(s)
		}
		if f.Op == store.OpAnd {
			return func(r *store.Record) bool {
				for _, m := range subs {
					if !m(r) {
						return false
					}
				}
				return true
			}
		}
		return func(r *store.Record) bool {
			for _, m := range subs {
				if m(r) {
					return true
				}
			}
			return false
		}
	case store.OpNot:
		if len(f.Filters) == 1 && f.Filters[0] != nil {
			m := compileFilter(f.Filters[0])
			return func(r *store.Record) bool { return !m(r) }
		}
	case store.OpIn, store.OpNotIn:
		if set, ok := newValueSet(f.Values()); ok {
			field, want := f.Field, f.Op == store.OpIn
			var str func(*store.Record) string // a built-in string field
			switch field {
			case store.FieldDocID:
				str = func(r *store.Record) string { return r.DocID }
			case store.FieldSource:
				str = func(r *store.Record) string { return r.Source }
			case store.FieldTitle:
				str = func(r *store.Record) string { return r.Title }
			}
			if str != nil {
				// Read without boxing the string into an interface.
				return func(r *store.Record) bool {
					v := str(r)
					_, in := set.strs[v]
					return (v != "" && in) == want
				}
			}
			return func(r *store.Record) bool {
				fv, ok := store.FieldValue(r, field)
				return (ok && set.contains(fv)) == want
			}
		}
	}
	return f.Match
}

// valueSet holds the values of an In list by type.
type valueSet struct {
	strs          map[string]struct{}
	nums          map[float64]struct{}
	isTrue, isFal bool
	times         []time.Time
}

// newValueSet builds the set of the normalised values of an In list. It
// returns false for a value of a type a valid filter cannot hold, so the
// caller falls back to Filter.Match.
func newValueSet(list []any) (*valueSet, bool) {
	s := &valueSet{strs: map[string]struct{}{}, nums: map[float64]struct{}{}}
	for _, e := range list {
		switch e := e.(type) {
		case string:
			s.strs[e] = struct{}{}
		case float64:
			if e != e { // NaN equals nothing
				continue
			}
			s.nums[e] = struct{}{}
		case bool:
			if e {
				s.isTrue = true
			} else {
				s.isFal = true
			}
		case time.Time:
			s.times = append(s.times, e)
		default:
			return nil, false
		}
	}
	return s, true
}

// contains reports whether field value fv equals a value of the set or,
// for a list field, shares one with it.
func (s *valueSet) contains(fv any) bool {
	switch x := fv.(type) {
	case []string:
		for _, e := range x {
			if _, ok := s.strs[e]; ok {
				return true
			}
		}
	case string:
		_, ok := s.strs[x]
		return ok
	case float64:
		_, ok := s.nums[x]
		return ok
	case bool:
		return (x && s.isTrue) || (!x && s.isFal)
	case time.Time:
		for _, t := range s.times {
			if x.Equal(t) {
				return true
			}
		}
	}
	return false
}
