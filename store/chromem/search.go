package chromem

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/store"
)

// Search returns the q.TopK records that q.Filter matches, best first by
// cosine similarity (ties by record ID); see store.Store. The result is
// exact. Result vectors are rebuilt from the stored direction and length:
// equal to the written vectors up to float32 rounding.
func (s *Store) Search(ctx context.Context, q store.Query) ([]store.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := q.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("chromem: search: %w", err)
	}
	k := q.TopK
	if k <= 0 {
		k = store.DefaultTopK
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkOpen(); err != nil {
		return nil, fmt.Errorf("chromem: search: %w", err)
	}
	if err := store.CheckVector(q.Vector, s.dim); err != nil {
		return nil, fmt.Errorf("chromem: search: %w", err)
	}
	if s.nrec == 0 {
		return nil, nil
	}
	unit, _ := normalize(q.Vector)
	var top *store.TopK
	var err error
	switch {
	case unit == nil:
		// A zero query has no direction: every record scores 0.
		top, err = s.scoreKeys(ctx, nil, k, s.matching(q.Filter))
	case q.Filter == nil:
		top, err = s.searchColl(ctx, unit, k, nil, k+1)
	default:
		keys := s.matching(q.Filter)
		if len(keys) == 0 {
			return nil, nil
		}
		if !forceOverFetch && (len(keys) <= directMax || len(keys)*4 <= s.nrec) {
			// Selective filter: scoring the matching records directly
			// costs less than one chromem-go pass over all of them.
			top, err = s.scoreKeys(ctx, unit, k, keys)
		} else {
			// Broad filter: ask chromem-go for enough candidates that
			// about 2k of them match, so one pass usually suffices.
			top, err = s.searchColl(ctx, unit, k, q.Filter, 2*k*s.nrec/len(keys)+k)
		}
	}
	if err != nil {
		return nil, err
	}
	rs := top.Results()
	for i := range rs {
		rs[i].Record = s.output(rs[i].Text)
	}
	return rs, nil
}

// directMax is the number of matching records up to which a filtered
// search scores them directly whatever the size of the store.
const directMax = 1024

// forceOverFetch makes every filtered search go through chromem-go (tests).
var forceOverFetch = false

// matching returns the chromem-go keys of the records f matches. When f
// names the documents it can match (_id equality or membership at its top
// level), only their records are looked at.
func (s *Store) matching(f *store.Filter) []string {
	var keys []string
	if ids, ok := docIDs(f); ok {
		for _, id := range ids {
			if d, ok := s.docs[id]; ok {
				for _, key := range d.keys {
					if f.Match(&s.recs[key].rec) {
						keys = append(keys, key)
					}
				}
			}
		}
		return keys
	}
	for key, r := range s.recs {
		if f.Match(&r.rec) {
			keys = append(keys, key)
		}
	}
	return keys
}

// docIDs returns document IDs outside of which f matches nothing, from an
// Eq or In on _id at f's top level or in a top-level And; ok is false
// when f does not restrict documents so.
func docIDs(f *store.Filter) (ids []string, ok bool) {
	if f == nil {
		return nil, false
	}
	switch f.Op {
	case store.OpAnd:
		for _, sub := range f.Filters {
			if ids, ok := docIDs(sub); ok {
				return ids, true
			}
		}
	case store.OpEq:
		if f.Field == store.FieldDocID {
			v, isString := f.Value.(string)
			if !isString {
				return nil, true // a non-string ID matches nothing
			}
			return []string{v}, true
		}
	case store.OpIn:
		if f.Field == store.FieldDocID {
			list, isList := f.Value.([]any)
			if !isList {
				return nil, false
			}
			seen := make(map[string]bool, len(list))
			for _, v := range list {
				if v, isString := v.(string); isString && !seen[v] {
					seen[v] = true
					ids = append(ids, v)
				}
			}
			return ids, true
		}
	}
	return nil, false
}

// scoreKeys scores the named records against unit (0 for every record
// when unit is nil) and keeps the best k.
func (s *Store) scoreKeys(ctx context.Context, unit []float32, k int, keys []string) (*store.TopK, error) {
	top := newRecTopK(s, k)
	for i, key := range keys {
		if i%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var score float32
		if e := s.recs[key]; unit != nil && e.unit != nil {
			score = dot(unit, e.unit)
		}
		top.push(key, score)
	}
	return top.t, nil
}

// dot is the dot product as chromem-go computes it (float32, in order), so
// a record scores the same whichever path scored it.
func dot(a, b []float32) float32 {
	var d float32
	for i := range a {
		d += a[i] * b[i]
	}
	return d
}

// searchColl asks chromem-go for the n most similar records (narrowed by
// its where clause where the filter allows), keeps those the filter
// matches, and asks for more until the result is provably exact: the k-th
// match scores strictly higher than the lowest score fetched (every record
// not fetched scores at most that), or chromem-go ran out of records.
//
// n is the first number of candidates to ask for; it must exceed k for a
// chance to stop after one pass (the k-th candidate fetched is also the
// lowest).
func (s *Store) searchColl(ctx context.Context, unit []float32, k int, f *store.Filter, n int) (*store.TopK, error) {
	where := nativeWhere(f)
	total := s.coll.Count()
	for {
		n = min(n, total)
		top := newRecTopK(s, k)
		// Zero vectors are not in chromem-go; they score 0.
		for key := range s.zeros {
			if f.Match(&s.recs[key].rec) {
				top.push(key, 0)
			}
		}
		if n == 0 {
			return top.t, nil
		}
		res, err := s.coll.QueryEmbedding(ctx, unit, n, where, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("chromem: search: %w", err)
		}
		matched := 0
		for _, c := range res {
			if f.Match(&s.recs[c.ID].rec) {
				matched++
				top.push(c.ID, c.Similarity)
			}
		}
		if len(res) < n || n == total {
			return top.t, nil // every candidate was scored
		}
		lowest := max(-1, min(1, res[len(res)-1].Similarity))
		if worst, ok := top.t.Worst(); ok && top.t.Full() && worst.Score > lowest {
			return top.t, nil
		}
		// Grow by the observed selectivity, at least doubling.
		next := 2 * n
		if matched > 0 {
			next = max(next, n*k*2/matched)
		} else {
			next = max(next, 8*n)
		}
		n = next
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// recTopK orders candidates by score and then by record ID (not by the
// chromem-go key, which sorts differently).
type recTopK struct {
	s *Store
	t *store.TopK
}

func newRecTopK(s *Store, k int) recTopK { return recTopK{s: s, t: store.NewTopK(k)} }

// push offers a candidate under its record ID; the chromem-go key travels
// in Text until output.
func (r recTopK) push(key string, score float32) {
	r.t.Push(store.Result{
		Record: store.Record{ID: r.s.recs[key].rec.ID, Text: key},
		Score:  max(-1, min(1, score)),
	})
}

// output returns a deep copy of the record stored under a chromem-go key,
// with its vector rebuilt from direction and length.
func (s *Store) output(key string) store.Record {
	e := s.recs[key]
	r := e.rec
	if r.Tags != nil {
		r.Tags = append([]string(nil), r.Tags...)
	}
	r.Metadata = store.NormalizeMetadata(r.Metadata) // a deep copy
	r.Vector = make([]float32, s.dim)
	for i, x := range e.unit {
		r.Vector[i] = float32(float64(x) * e.norm)
	}
	return r
}

// nativeWhere returns a chromem-go where clause that every record f matches
// satisfies: the string equalities on _id, _source and _title that f
// requires (at its top level or inside a top-level And). It may match
// records f does not; the filter is always applied afterwards.
func nativeWhere(f *store.Filter) map[string]string {
	var where map[string]string
	var walk func(f *store.Filter)
	walk = func(f *store.Filter) {
		if f == nil {
			return
		}
		switch f.Op {
		case store.OpAnd:
			for _, sub := range f.Filters {
				walk(sub)
			}
		case store.OpEq:
			v, ok := f.Value.(string)
			if !ok {
				return
			}
			switch f.Field {
			case store.FieldDocID, store.FieldSource, store.FieldTitle:
				if where == nil {
					where = map[string]string{}
				}
				if old, dup := where[f.Field]; dup && old != v {
					// Two different values: nothing matches. Keep the
					// first; the filter will reject every candidate.
					return
				}
				where[f.Field] = v
			}
		}
	}
	walk(f)
	return where
}
