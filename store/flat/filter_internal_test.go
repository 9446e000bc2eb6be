package flat

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// The compiled filter agrees with Filter.Match on random filters (every
// operator, In and NotIn lists of every type, nested) over random records
// whose fields take every type, including types other than the filter's.
func TestCompiledFilterMatchesFilterMatch(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Values in two zones denoting the same instants: equality is by instant.
	zone := time.FixedZone("Z", 7200)
	value := func() any {
		switch rng.IntN(6) {
		case 0:
			return []string{"a", "b", "c", ""}[rng.IntN(4)]
		case 1:
			return float64(rng.IntN(4))
		case 2:
			return rng.IntN(2) == 0
		case 3:
			t := t0.Add(time.Duration(rng.IntN(3)) * time.Hour)
			if rng.IntN(2) == 0 {
				t = t.In(zone)
			}
			return t
		case 4:
			return []string{"a", "b", "c"}[:rng.IntN(4)]
		}
		return rng.IntN(4) // an int, normalised to float64
	}
	list := func() any {
		n := rng.IntN(4)
		switch rng.IntN(6) {
		case 0:
			l := make([]string, n)
			for i := range l {
				l[i] = []string{"a", "b", "c", ""}[rng.IntN(4)]
			}
			return l
		case 1:
			l := make([]float64, n)
			for i := range l {
				l[i] = float64(rng.IntN(4))
			}
			return l
		case 2:
			l := make([]int, n)
			for i := range l {
				l[i] = rng.IntN(4)
			}
			return l
		case 3:
			l := make([]bool, n)
			for i := range l {
				l[i] = rng.IntN(2) == 0
			}
			return l
		case 4:
			l := make([]time.Time, n)
			for i := range l {
				l[i] = t0.Add(time.Duration(rng.IntN(3)) * time.Hour).In(zone)
			}
			return l
		}
		l := make([]any, n)
		for i := range l {
			for {
				v := value()
				if _, isList := v.([]string); !isList {
					l[i] = v
					break
				}
			}
		}
		return l
	}
	fields := []string{"x", "y", store.FieldDocID, store.FieldTags, store.FieldSource}
	var filter func(depth int) *store.Filter
	filter = func(depth int) *store.Filter {
		field := fields[rng.IntN(len(fields))]
		switch op := rng.IntN(9); {
		case op == 0 && depth < 3:
			return store.And(filter(depth+1), filter(depth+1))
		case op == 1 && depth < 3:
			return store.Or(filter(depth+1), filter(depth+1))
		case op == 2 && depth < 3:
			return store.Not(filter(depth + 1))
		case op == 3:
			return &store.Filter{Op: store.OpNotIn, Field: field, Value: list()}
		case op == 4:
			return store.Exists(field)
		case op == 5:
			return store.Eq(field, value())
		}
		return &store.Filter{Op: store.OpIn, Field: field, Value: list()}
	}
	record := func() store.Record {
		r := store.Record{ID: "r", DocID: []string{"a", "b", "c"}[rng.IntN(3)], Source: []string{"", "a"}[rng.IntN(2)]}
		if rng.IntN(2) == 0 {
			r.Tags = []string{"a", "c"}[:1+rng.IntN(2)]
		}
		r.Metadata = map[string]any{}
		for _, k := range []string{"x", "y"} {
			if rng.IntN(4) > 0 {
				r.Metadata[k] = value()
			}
		}
		r.Metadata = store.NormalizeMetadata(r.Metadata) // as Upsert stores it
		return r
	}
	checked := 0
	for range 20000 {
		f := filter(0)
		if f.Validate() != nil {
			continue
		}
		m := compileFilter(f)
		for range 5 {
			r := record()
			if got, want := m(&r), f.Match(&r); got != want {
				t.Fatalf("filter %s on record %+v: compiled %v, Filter.Match %v", f, r, got, want)
			}
			checked++
		}
	}
	if checked < 50000 {
		t.Fatalf("only %d valid cases checked", checked)
	}
	t.Log(fmt.Sprintf("%d filter/record pairs agree", checked))
}
