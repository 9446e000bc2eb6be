package flat

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
)

func TestMain(m *testing.M) {
	// Split even the small collections of the tests over several
	// goroutines, so the parallel scan and the merge of the heaps are
	// exercised.
	minRowsPerWorker = 16
	os.Exit(m.Run())
}

// checkInvariants fails unless the row arrays and the document index agree:
// every row belongs to exactly one document entry, whose ID it carries, and
// the norms and codes are those of the row's vector.
func checkInvariants(t *testing.T, s *Store) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.recs)
	if len(s.vecs) != n*s.dim || len(s.inv) != n {
		t.Fatalf("%d records but %d vector values (dim %d) and %d norms", n, len(s.vecs), s.dim, len(s.inv))
	}
	if s.opts.Quantize && (len(s.codes) != n*s.dim || len(s.scales) != n) {
		t.Fatalf("%d records but %d codes and %d scales", n, len(s.codes), len(s.scales))
	}
	seen := make([]bool, n)
	for id, e := range s.docs {
		if len(e.rows) == 0 {
			t.Fatalf("document %q has an entry but no rows", id)
		}
		for _, r := range e.rows {
			if int(r) >= n || seen[r] {
				t.Fatalf("document %q lists row %d (of %d), out of range or listed twice", id, r, n)
			}
			seen[r] = true
			if s.recs[r].DocID != id {
				t.Fatalf("row %d is listed under %q but holds a record of %q", r, id, s.recs[r].DocID)
			}
		}
	}
	for r, ok := range seen {
		if !ok {
			t.Fatalf("row %d (%s) belongs to no document", r, s.recs[r].ID)
		}
		if s.recs[r].Vector != nil {
			t.Fatalf("row %d keeps a vector slice in its record", r)
		}
		v := s.row(r)
		if got, want := s.inv[r], invNorm(v); got != want {
			t.Fatalf("row %d: inverse norm %v, want %v", r, got, want)
		}
		if s.opts.Quantize {
			codes := make([]int8, s.dim)
			scale := quantize(codes, v, s.inv[r])
			if scale != s.scales[r] || !slices.Equal(codes, s.codes[r*s.dim:(r+1)*s.dim]) {
				t.Fatalf("row %d: codes or scale do not match its vector", r)
			}
		}
	}
	if n == 0 && s.opts.Dimension == 0 && s.dim != 0 {
		t.Fatalf("empty store still holds dimension %d", s.dim)
	}
}

// randomModel drives a store and a plain model of it with the same random
// writes.
type randomModel struct {
	rng  *rand.Rand
	dim  int
	docs map[string]store.StoredDocument
}

func (m *randomModel) vector() []float32 {
	v := make([]float32, m.dim)
	for i := range v {
		v[i] = float32(m.rng.NormFloat64())
	}
	if m.rng.IntN(50) == 0 {
		clear(v) // now and then a zero vector
	}
	return v
}

func (m *randomModel) doc(id string) store.StoredDocument {
	d := store.StoredDocument{ID: id, Hash: fmt.Sprint(m.rng.Uint64())}
	langs := []string{"en", "de", "fr"}
	for i := range m.rng.IntN(7) { // 0 records now and then: a delete
		r := store.Record{
			ID:     fmt.Sprintf("%s#%d", id, i),
			DocID:  id,
			Chunk:  i,
			Text:   fmt.Sprintf("text %d", m.rng.IntN(1000)),
			Vector: m.vector(),
			Source: "src-" + langs[m.rng.IntN(3)],
		}
		if m.rng.IntN(4) > 0 {
			r.Metadata = map[string]any{"n": float64(m.rng.IntN(100)), "lang": langs[m.rng.IntN(3)]}
		}
		if m.rng.IntN(2) == 0 {
			r.Tags = []string{langs[m.rng.IntN(3)], "t"}
		}
		if m.rng.IntN(10) == 0 && i > 0 {
			// Same vector as the previous record: an exact tie.
			r.Vector = slices.Clone(d.Records[i-1].Vector)
		}
		d.Records = append(d.Records, r)
	}
	return d
}

func (m *randomModel) records() []store.Record {
	var out []store.Record
	for _, d := range m.docs {
		out = append(out, d.Records...)
	}
	return out
}

func (m *randomModel) filter() *store.Filter {
	switch m.rng.IntN(7) {
	case 0:
		return store.Eq("lang", []string{"en", "de", "fr"}[m.rng.IntN(3)])
	case 1:
		return store.Gt("n", m.rng.IntN(100))
	case 2:
		return store.And(store.Lt("n", 50), store.Eq(store.FieldTags, "en"))
	case 3:
		return store.Or(store.Eq(store.FieldSource, "src-de"), store.Not(store.Exists("n")))
	case 4:
		return store.In(store.FieldDocID, fmt.Sprintf("d%d", m.rng.IntN(40)), fmt.Sprintf("d%d", m.rng.IntN(40)))
	}
	return nil
}

// checkTopK fails unless got is a correct filtered top-k of records for q:
// the brute-force answer, except that records whose exact scores are within
// float32 rounding (1e-6) of each other may swap places.
func checkTopK(t *testing.T, got []store.Result, records []store.Record, q store.Query) {
	t.Helper()
	want := store.BruteForce(records, q)
	if len(got) != len(want) {
		t.Fatalf("filter %s, k %d: %d results, want %d", q.Filter, q.TopK, len(got), len(want))
	}
	exact := make(map[string]float64)
	byID := make(map[string]*store.Record)
	for i := range records {
		exact[records[i].ID] = store.Cosine(q.Vector, records[i].Vector)
		byID[records[i].ID] = &records[i]
	}
	seen := make(map[string]bool)
	for i, r := range got {
		rec, ok := byID[r.ID]
		if !ok || seen[r.ID] || !q.Filter.Match(rec) {
			t.Fatalf("filter %s: result %d (%s) is unknown, repeated or does not match", q.Filter, i, r.ID)
		}
		seen[r.ID] = true
		if math.Abs(float64(r.Score)-exact[r.ID]) > 1e-5 {
			t.Fatalf("%s: score %v, want %v", r.ID, r.Score, exact[r.ID])
		}
		if math.Abs(exact[r.ID]-exact[want[i].ID]) > 1e-6 {
			t.Fatalf("filter %s, k %d: result %d is %s (%v), brute force has %s (%v)\ngot  %v\nwant %v",
				q.Filter, q.TopK, i, r.ID, exact[r.ID], want[i].ID, exact[want[i].ID], ids(got), ids(want))
		}
		if i > 0 && store.CompareResults(got[i-1], r) >= 0 {
			t.Fatalf("results out of order at %d: %v", i, ids(got))
		}
		if !slices.Equal(r.Vector, rec.Vector) {
			t.Fatalf("%s: returned vector differs from the one written", r.ID)
		}
	}
}

func ids(rs []store.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// A long random sequence of upserts (growing, shrinking and deleting
// documents) and deletes keeps the rows consistent, and every search on the
// way equals brute force on a model of what was written.
func TestRandomOperations(t *testing.T) {
	for _, opts := range []Options{
		{},
		{Workers: 1},
		{Quantize: true, Oversample: 1 << 20}, // re-scores everything: exact
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			s, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			m := &randomModel{rng: rand.New(rand.NewPCG(seed, 1)), dim: 1 + rand.IntN(40), docs: map[string]store.StoredDocument{}}
			ctx := context.Background()
			for step := range 300 {
				switch m.rng.IntN(5) {
				case 0:
					var idsDel []string
					for range m.rng.IntN(4) {
						idsDel = append(idsDel, fmt.Sprintf("d%d", m.rng.IntN(40)))
					}
					if err := s.Delete(ctx, idsDel...); err != nil {
						t.Fatal(err)
					}
					for _, id := range idsDel {
						delete(m.docs, id)
					}
				default:
					var batch []store.StoredDocument
					for range 1 + m.rng.IntN(5) {
						batch = append(batch, m.doc(fmt.Sprintf("d%d", m.rng.IntN(40))))
					}
					if err := s.Upsert(ctx, batch); err != nil {
						t.Fatal(err)
					}
					for _, d := range batch {
						if len(d.Records) == 0 {
							delete(m.docs, d.ID)
						} else {
							m.docs[d.ID] = d
						}
					}
				}
				checkInvariants(t, s)
				recs := m.records()
				if s.Len() != len(recs) {
					t.Fatalf("step %d: Len %d, model holds %d records", step, s.Len(), len(recs))
				}
				if len(recs) == 0 {
					continue
				}
				for range 3 {
					q := store.Query{Vector: m.vector(), TopK: []int{1, 3, 10, 50, 1000}[m.rng.IntN(5)], Filter: m.filter()}
					got, err := s.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					checkTopK(t, got, recs, q)
				}
			}
		})
	}
}
