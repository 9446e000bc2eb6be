package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// all is a TopK large enough to return every record the suite writes.
const all = 1 << 16

// model is the suite's picture of what a store should hold.
type model map[string]store.StoredDocument

func (m model) put(docs ...store.StoredDocument) {
	for _, d := range docs {
		if len(d.Records) == 0 {
			delete(m, d.ID)
			continue
		}
		c := store.StoredDocument{ID: d.ID, Hash: d.Hash}
		for _, r := range d.Records {
			c.Records = append(c.Records, store.CloneRecord(r))
		}
		m[d.ID] = c
	}
}

func (m model) del(ids ...string) {
	for _, id := range ids {
		delete(m, id)
	}
}

func (m model) records() []store.Record {
	var out []store.Record
	for _, d := range m {
		out = append(out, d.Records...)
	}
	return out
}

// gen makes random test data.
type gen struct {
	rng *rand.Rand
	dim int
}

func newGen(t *testing.T, dim int) *gen {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return &gen{rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), dim: dim}
}

func (g *gen) vector() []float32 {
	v := make([]float32, g.dim)
	for i := range v {
		v[i] = float32(g.rng.NormFloat64())
	}
	return v
}

// doc returns a document with n records whose IDs are id#0, id#1...
func (g *gen) doc(id string, n int) store.StoredDocument {
	d := store.StoredDocument{ID: id, Hash: fmt.Sprintf("hash-%s-%d", id, g.rng.IntN(1<<30))}
	off := 0
	for i := range n {
		text := fmt.Sprintf("chunk %d of %s", i, id)
		d.Records = append(d.Records, store.Record{
			ID:     fmt.Sprintf("%s#%d", id, i),
			DocID:  id,
			Chunk:  i,
			Start:  off,
			End:    off + len(text),
			Text:   text,
			Vector: g.vector(),
			Title:  "Title of " + id,
			Source: "file://" + id,
		})
		off += len(text)
	}
	return d
}

// separated reports whether q ranks recs unambiguously: any two records
// whose vectors differ have cosine similarities to q at least 1e-5 apart,
// far more than the rounding error of any float32 implementation. Records
// with identical vectors tie exactly in every implementation and are
// ordered by ID.
func separated(q []float32, recs []store.Record) bool {
	type sv struct {
		s float64
		v []float32
	}
	ss := make([]sv, len(recs))
	for i := range recs {
		ss[i] = sv{store.Cosine(q, recs[i].Vector), recs[i].Vector}
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].s < ss[j].s })
	for i := 1; i < len(ss); i++ {
		if ss[i].s-ss[i-1].s < 1e-5 && !slices.Equal(ss[i].v, ss[i-1].v) {
			return false
		}
	}
	return true
}

// query returns a random query vector that ranks recs unambiguously.
func (g *gen) query(t *testing.T, recs []store.Record) []float32 {
	t.Helper()
	for range 10000 {
		q := g.vector()
		if separated(q, recs) {
			return q
		}
	}
	t.Fatalf("no query vector separates %d records", len(recs))
	return nil
}

func upsert(t *testing.T, s store.Store, docs ...store.StoredDocument) {
	t.Helper()
	if err := s.Upsert(context.Background(), docs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func search(t *testing.T, s store.Store, q store.Query) []store.Result {
	t.Helper()
	rs, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(TopK=%d, Filter=%s): %v", q.TopK, q.Filter, err)
	}
	checkOrder(t, rs)
	return rs
}

// checkOrder fails unless rs is ordered by store.CompareResults with
// distinct IDs and scores in [-1, 1].
func checkOrder(t *testing.T, rs []store.Result) {
	t.Helper()
	for i, r := range rs {
		if math.IsNaN(float64(r.Score)) || r.Score < -1.0001 || r.Score > 1.0001 {
			t.Errorf("result %d (%s) has score %v, not a cosine similarity", i, r.ID, r.Score)
		}
		if i > 0 && store.CompareResults(rs[i-1], r) >= 0 {
			t.Errorf("results out of order at %d: %s (%v) before %s (%v); want higher score first, then smaller ID",
				i, rs[i-1].ID, rs[i-1].Score, r.ID, r.Score)
		}
	}
}

// contents returns every record of s, by search with a large TopK, sorted by ID.
func contents(t *testing.T, s store.Store, dim int) []store.Record {
	t.Helper()
	q := make([]float32, dim)
	q[0] = 1
	rs := search(t, s, store.Query{Vector: q, TopK: all})
	out := make([]store.Record, len(rs))
	for i, r := range rs {
		out[i] = r.Record
	}
	slices.SortFunc(out, func(a, b store.Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// checkContents fails unless s holds exactly the records of m.
func checkContents(t *testing.T, s store.Store, m model, dim int) {
	t.Helper()
	got := contents(t, s, dim)
	want := m.records()
	slices.SortFunc(want, func(a, b store.Record) int { return strings.Compare(a.ID, b.ID) })
	if !slices.Equal(recordIDs(got), recordIDs(want)) {
		t.Fatalf("store holds %d records %v, want %d %v", len(got), recordIDs(got), len(want), recordIDs(want))
	}
	for i := range got {
		checkRecord(t, got[i], want[i])
	}
}

func recordIDs(rs []store.Record) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func resultIDs(rs []store.Result) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// checkResults fails unless got equals want (from store.BruteForce): the
// same records in the same order with the same scores.
func checkResults(t *testing.T, got, want []store.Result, what string) {
	t.Helper()
	if !slices.Equal(resultIDs(got), resultIDs(want)) {
		t.Fatalf("%s: got IDs %v, want (brute force) %v", what, resultIDs(got), resultIDs(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i].Score - want[i].Score)); d > 1e-4 {
			t.Errorf("%s: %s has score %v, want cosine similarity %v", what, got[i].ID, got[i].Score, want[i].Score)
		}
		checkRecord(t, got[i].Record, want[i].Record)
	}
}

// checkRecord fails unless got is the record want as written: every field
// equal, metadata of the same types and values (times compared with
// Equal), and the vector equal up to float32 rounding (a store may keep a
// normalised copy and its length).
func checkRecord(t *testing.T, got, want store.Record) {
	t.Helper()
	if got.ID != want.ID || got.DocID != want.DocID || got.Chunk != want.Chunk || got.Start != want.Start ||
		got.End != want.End || got.Text != want.Text || got.Title != want.Title || got.Source != want.Source {
		t.Errorf("record %s: got {DocID %q Chunk %d Start %d End %d Text %q Title %q Source %q}, want {DocID %q Chunk %d Start %d End %d Text %q Title %q Source %q}",
			want.ID, got.DocID, got.Chunk, got.Start, got.End, got.Text, got.Title, got.Source,
			want.DocID, want.Chunk, want.Start, want.End, want.Text, want.Title, want.Source)
	}
	if !slices.Equal(got.Tags, want.Tags) {
		t.Errorf("record %s: tags %q, want %q", want.ID, got.Tags, want.Tags)
	}
	if msg := diffMetadata(got.Metadata, store.NormalizeMetadata(want.Metadata)); msg != "" {
		t.Errorf("record %s: metadata: %s", want.ID, msg)
	}
	if len(got.Vector) != len(want.Vector) {
		t.Errorf("record %s: vector of %d dimensions, want %d", want.ID, len(got.Vector), len(want.Vector))
		return
	}
	var norm float64
	for _, x := range want.Vector {
		norm += float64(x) * float64(x)
	}
	tol := 1e-5 * math.Max(1, math.Sqrt(norm))
	for i := range got.Vector {
		if math.Abs(float64(got.Vector[i]-want.Vector[i])) > tol {
			t.Errorf("record %s: vector[%d] = %v, want %v", want.ID, i, got.Vector[i], want.Vector[i])
			return
		}
	}
}

func diffMetadata(got, want map[string]any) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return fmt.Sprintf("key %q missing (got %v, want %v)", k, got, want)
		}
		switch w := w.(type) {
		case time.Time:
			gt, ok := g.(time.Time)
			if !ok || !gt.Equal(w) {
				return fmt.Sprintf("%q = %T %v, want time.Time %v", k, g, g, w)
			}
			if _, off := gt.Zone(); off != 0 {
				return fmt.Sprintf("%q = %v, want it in UTC", k, gt)
			}
		case []string:
			gs, ok := g.([]string)
			if !ok || !slices.Equal(gs, w) {
				return fmt.Sprintf("%q = %T %#v, want []string %q", k, g, g, w)
			}
		default:
			if fmt.Sprintf("%T", g) != fmt.Sprintf("%T", w) || g != w {
				return fmt.Sprintf("%q = %T %#v, want %T %#v", k, g, g, w, w)
			}
		}
	}
	return ""
}
