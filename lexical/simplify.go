package lexical

import "github.com/ragkit-go/rag/store"

// constant is what simplify learned about a filter without any record.
type constant int

const (
	depends        constant = iota // a record's fields decide
	matchesAll                     // every record of the store matches
	matchesNothing                 // no record of the store matches
)

// simplify evaluates the parts of a valid filter that the fields present
// in the store decide: a comparison on a field no record has, an Exists
// on a field every record (or no record) has, and the And, Or and Not
// above them. It returns the filter that is left (nil when every record
// matches) and whether the whole filter is constant.
//
// This is how a search skips the pipeline's expiry filter when no
// document expires: Or(Not(Exists(expires)), Gt(expires, now)) is true
// for every record when none has the key, and the filter costs nothing.
// Caller holds s.mu.
func (s *Store) simplify(f *store.Filter) (*store.Filter, constant) {
	if f == nil {
		return nil, matchesAll
	}
	if s.noFold {
		return f, depends
	}
	g, c := s.fold(f)
	if c == matchesAll {
		return nil, c
	}
	return g, c
}

// present returns the number of records that have field.
func (s *Store) present(field string) int {
	if field == store.FieldDocID {
		return s.records
	}
	return s.fields[field]
}

func (s *Store) fold(f *store.Filter) (*store.Filter, constant) {
	switch f.Op {
	case store.OpAnd, store.OpOr:
		// And: a false part decides, true parts drop out; Or the reverse.
		decides, neutral := matchesNothing, matchesAll
		if f.Op == store.OpOr {
			decides, neutral = matchesAll, matchesNothing
		}
		var left []*store.Filter
		changed := false
		for _, sub := range f.Filters {
			g, c := s.fold(sub)
			switch c {
			case decides:
				return nil, decides
			case neutral:
				changed = true
				continue
			}
			changed = changed || g != sub
			left = append(left, g)
		}
		switch {
		case len(left) == 0:
			return nil, neutral
		case len(left) == 1:
			return left[0], depends
		case !changed:
			return f, depends
		}
		return &store.Filter{Op: f.Op, Filters: left}, depends
	case store.OpNot:
		g, c := s.fold(f.Filters[0])
		switch c {
		case matchesAll:
			return nil, matchesNothing
		case matchesNothing:
			return nil, matchesAll
		}
		if g == f.Filters[0] {
			return f, depends
		}
		return store.Not(g), depends
	}
	n := s.present(f.Field)
	if f.Op == store.OpExists {
		switch {
		case n == 0:
			return nil, matchesNothing
		case n == s.records:
			return nil, matchesAll
		}
		return f, depends
	}
	if n > 0 {
		return f, depends
	}
	// No record has the field: Match finds it missing everywhere.
	switch f.Op {
	case store.OpNe, store.OpNotIn:
		return nil, matchesAll
	}
	return nil, matchesNothing
}
