package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
)

// taker returns st as a store.VectorTaker, or skips the test.
func taker(t *testing.T, st store.Store) store.VectorTaker {
	t.Helper()
	return capability[store.VectorTaker](t, st, "store.VectorTaker")
}

// handOver returns a copy of docs whose vectors are fresh copies, for
// UpsertTakingVectors, and the vectors themselves, to be compared
// afterwards with the originals in docs.
func handOver(docs ...store.StoredDocument) ([]store.StoredDocument, [][]float32) {
	out := make([]store.StoredDocument, len(docs))
	var vecs [][]float32
	for i, d := range docs {
		c := d
		c.Records = slices.Clone(d.Records)
		for j := range c.Records {
			c.Records[j].Vector = slices.Clone(d.Records[j].Vector)
			vecs = append(vecs, c.Records[j].Vector)
		}
		out[i] = c
	}
	return out, vecs
}

// untouched fails unless the handed-over vectors still equal, bit for bit,
// the vectors of docs they were copied from.
func untouched(t *testing.T, what string, docs []store.StoredDocument, vecs [][]float32) {
	t.Helper()
	k := 0
	for _, d := range docs {
		for _, r := range d.Records {
			v := vecs[k]
			k++
			if len(v) != len(r.Vector) {
				t.Errorf("%s: record %s's vector has %d components after the call, had %d", what, r.ID, len(v), len(r.Vector))
				continue
			}
			for i := range v {
				if math.Float32bits(v[i]) != math.Float32bits(r.Vector[i]) {
					t.Errorf("%s: the failed call changed record %s's vector: component %d is %v, was %v", what, r.ID, i, v[i], r.Vector[i])
					break
				}
			}
		}
	}
}

// A store.VectorTaker's UpsertTakingVectors stores what Upsert stores:
// records, scores and order of a brute-force search, replacing earlier
// versions; and what Search returns does not alias a taken vector, so
// changing a result changes nothing stored.
func (s *suite) takeVectors(t *testing.T) {
	st := s.newStore(t)
	vt := taker(t, st)
	g := newGen(t, s.dim)
	m := model{}
	ctx := context.Background()
	for round := range 2 {
		var docs []store.StoredDocument
		for i := range 4 {
			d := g.doc(fmt.Sprintf("doc-%d", i), 1+(i+round)%3)
			for j := range d.Records {
				d.Records[j].Metadata = map[string]any{"i": i, "round": round}
			}
			docs = append(docs, d)
		}
		docs = append(docs, store.StoredDocument{ID: "doc-3"}) // deletes doc-3
		zero := g.doc("zero", 1)
		clear(zero.Records[0].Vector)
		docs = append(docs, zero)
		m.put(docs...)
		given, _ := handOver(docs...)
		if err := vt.UpsertTakingVectors(ctx, given); err != nil {
			t.Fatalf("round %d: UpsertTakingVectors: %v", round, err)
		}
		checkContents(t, st, m, s.dim)
	}
	q := g.query(t, m.records())
	want := store.BruteForce(m.records(), store.Query{Vector: q, TopK: all})
	rs := search(t, st, store.Query{Vector: q, TopK: all})
	checkResults(t, rs, want, "after UpsertTakingVectors")
	for i := range rs {
		for j := range rs[i].Vector {
			rs[i].Vector[j] = -rs[i].Vector[j] + 1
		}
	}
	checkResults(t, search(t, st, store.Query{Vector: q, TopK: all}), want, "after changing the vectors of a search's results")
	checkContents(t, st, m, s.dim)
}

// An UpsertTakingVectors that fails (invalid vector, dimension, record; a
// cancelled context) writes nothing and leaves every vector it was handed
// as it was, bit for bit, so the caller may write them again: and that
// write stores them.
func (s *suite) takeVectorsFailed(t *testing.T) {
	st := s.newStore(t)
	vt := taker(t, st)
	g := newGen(t, s.dim)
	m := model{}
	a := g.doc("a", 2)
	m.put(a)
	upsert(t, st, a)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	wrong := newGen(t, s.dim+1)
	cases := []struct {
		name  string
		ctx   context.Context
		bad   func() store.StoredDocument
		match error
	}{
		{"NaN component", ctx, func() store.StoredDocument {
			d := g.doc("bad", 2)
			d.Records[1].Vector[s.dim-1] = float32(math.NaN())
			return d
		}, store.ErrInvalidVector},
		{"infinite component", ctx, func() store.StoredDocument {
			d := g.doc("bad", 2)
			d.Records[0].Vector[0] = float32(math.Inf(-1))
			return d
		}, store.ErrInvalidVector},
		{"wrong dimension", ctx, func() store.StoredDocument { return wrong.doc("bad", 1) }, store.ErrDimensionMismatch},
		{"invalid record", ctx, func() store.StoredDocument {
			d := g.doc("bad", 2)
			d.Records[1].Metadata = map[string]any{"_id": "x"}
			return d
		}, store.ErrInvalidRecord},
		{"cancelled context", cancelled, func() store.StoredDocument { return g.doc("b", 1) }, context.Canceled},
	}
	for _, tc := range cases {
		// Good documents first, one of them a new version of a, so a
		// store that wrote or normalised before it checked would show it.
		docs := []store.StoredDocument{g.doc("a", 3), g.doc("c", 2), tc.bad()}
		given, vecs := handOver(docs...)
		err := vt.UpsertTakingVectors(tc.ctx, given)
		if !errors.Is(err, tc.match) {
			t.Errorf("%s: UpsertTakingVectors = %v, want an error matching %v", tc.name, err, tc.match)
		}
		untouched(t, tc.name, docs, vecs)
		checkContents(t, st, m, s.dim)
		if tc.match != context.Canceled {
			continue
		}
		// The same vectors again, now handed over for good.
		if err := vt.UpsertTakingVectors(ctx, given); err != nil {
			t.Fatalf("%s: UpsertTakingVectors again with a live context: %v", tc.name, err)
		}
		m.put(docs...)
		checkContents(t, st, m, s.dim)
	}
}
