package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// The rules of store.Lister. A store that does not implement it skips
// them.

// expiresAt is the metadata key the rag pipeline stores a document's
// expiry time under (rag.MetaExpiresAt; the suite does not import the
// root package): a time.Time in UTC on every record of the document.
const expiresAt = "rag_expires_at"

// lister returns st as a store.Lister, or skips t.
func lister(t *testing.T, st store.Store) store.Lister {
	t.Helper()
	return capability[store.Lister](t, st, "store.Lister")
}

// capability returns st as the optional interface T (named name), or
// skips t.
func capability[T any](t *testing.T, st store.Store, name string) T {
	t.Helper()
	c, ok := st.(T)
	if !ok {
		t.Skipf("%T does not implement %s", st, name)
	}
	return c
}

// wantDocIDs returns the sorted IDs of the documents of m having a record
// f matches: what DocumentIDs must return.
func wantDocIDs(m model, f *store.Filter) []string {
	ids := []string{}
	for id, d := range m {
		if slices.ContainsFunc(d.Records, func(r store.Record) bool { return f.Match(&r) }) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// listIDs calls DocumentIDs and fails unless the IDs are sorted and
// distinct.
func listIDs(t *testing.T, l store.Lister, f *store.Filter) []string {
	t.Helper()
	ids, err := l.DocumentIDs(context.Background(), f)
	if err != nil {
		t.Fatalf("DocumentIDs(%s): %v", f, err)
	}
	if err := checkSortedUnique(ids); err != nil {
		t.Fatalf("DocumentIDs(%s): %v", f, err)
	}
	return ids
}

func checkSortedUnique(ids []string) error {
	for i := 1; i < len(ids); i++ {
		if strings.Compare(ids[i-1], ids[i]) >= 0 {
			return fmt.Errorf("IDs not sorted and distinct at %d: %q before %q in %q", i, ids[i-1], ids[i], ids)
		}
	}
	return nil
}

// checkList fails unless DocumentIDs(f) lists exactly the documents of m
// that f matches.
func checkList(t *testing.T, l store.Lister, m model, f *store.Filter, what string) {
	t.Helper()
	got, want := listIDs(t, l, f), wantDocIDs(m, f)
	if !slices.Equal(got, want) {
		t.Errorf("%s: DocumentIDs(%s) = %d documents %q, want %d %q", what, f, len(got), got, len(want), want)
	}
}

// DocumentIDs with a nil filter lists every document once, sorted by ID,
// however many records it has; so does an empty And, and an empty Or
// lists none. An empty store lists nothing. store.DocumentIDs finds the
// store's Lister and gives the same answer.
func (s *suite) listAll(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	if ids := listIDs(t, l, nil); len(ids) != 0 {
		t.Errorf("empty store: DocumentIDs(nil) = %q, want none", ids)
	}
	m := g.filterData(25, 5)
	// IDs whose byte order differs from a naive one: upper case before
	// lower, a prefix before its extensions, multi-byte UTF-8 last.
	for _, id := range []string{"B", "a", "a-1", "a/0", "ä", "Z9", "doc-1"} {
		m.put(g.doc(id, 1+g.rng.IntN(3)))
	}
	s.loadModel(t, st, m)
	for _, f := range []*store.Filter{nil, store.And(), store.Or(), store.Not(store.Or())} {
		checkList(t, l, m, f, "all documents")
	}
	if got := listIDs(t, l, nil); len(got) != len(m) {
		t.Errorf("DocumentIDs(nil) lists %d documents, the store holds %d", len(got), len(m))
	}
	got, err := store.DocumentIDs(context.Background(), st, nil)
	if err != nil || !slices.Equal(got, wantDocIDs(m, nil)) {
		t.Errorf("store.DocumentIDs(nil) = %q, %v; want %q", got, err, wantDocIDs(m, nil))
	}
}

// DocumentIDs selects the documents having at least one record that the
// filter matches, for every operator on every kind of field (the filters
// of FilterOperators) and for random filters.
func (s *suite) listFilters(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	m := g.filterData(30, 4)
	s.loadModel(t, st, m)
	for _, f := range operatorFilters() {
		checkList(t, l, m, f, "operator filter")
	}
	for range 120 {
		checkList(t, l, m, g.randomFilter(3), "random filter")
	}
}

// Deleted documents, and documents upserted with no records, are no
// longer listed; other documents still are; a deleted document written
// again is listed again.
func (s *suite) listAfterDelete(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	m := g.filterData(12, 4)
	s.loadModel(t, st, m)
	if err := st.Delete(context.Background(), "doc-01", "doc-05", "never-written"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	m.del("doc-01", "doc-05")
	upsert(t, st, store.StoredDocument{ID: "doc-07"})
	m.del("doc-07")
	for _, f := range []*store.Filter{nil, store.Exists("lang"), store.In(store.FieldDocID, "doc-01", "doc-02", "doc-07")} {
		checkList(t, l, m, f, "after delete")
	}
	back := g.doc("doc-05", 2)
	m.put(back)
	upsert(t, st, back)
	checkList(t, l, m, nil, "after writing a deleted document again")
}

// A re-upsert that changes a document's records changes what lists it: a
// document whose new records no longer match a filter drops out of its
// list, one whose new records do enters it, and a document of which one
// record of several matches is listed once.
func (s *suite) listAfterReupsert(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	m := model{}
	colored := func(id string, colors ...string) store.StoredDocument {
		d := g.doc(id, len(colors))
		for i, c := range colors {
			d.Records[i].Metadata = map[string]any{"color": c}
		}
		return d
	}
	red, blue := store.Eq("color", "red"), store.Eq("color", "blue")
	steps := []store.StoredDocument{
		colored("a", "red", "red", "red"), colored("b", "blue"),
		colored("a", "blue"),               // a leaves red, enters blue
		colored("b", "blue", "red", "red"), // b is in both, once each
		colored("a", "green", "green"),     // a is in neither
	}
	for i, d := range steps {
		m.put(d)
		upsert(t, st, d)
		for _, f := range []*store.Filter{nil, red, blue, store.Ne("color", "red")} {
			checkList(t, l, m, f, fmt.Sprintf("after step %d (%s: %d records)", i, d.ID, len(d.Records)))
		}
	}
	if got := listIDs(t, l, red); !slices.Equal(got, []string{"b"}) {
		t.Errorf("DocumentIDs(%s) = %q, want [b]", red, got)
	}
}

// The pipeline's Purge lists expired documents with
// Lte("rag_expires_at", now): a document whose records hold an expiry
// time (in any zone) at or before now is listed; a later expiry, no
// expiry, or a value of another type under the key (a string that looks
// like a time, a number) is not; the pipeline's "still live" filter lists
// exactly the others.
func (s *suite) listExpiry(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	now := time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
	m := model{}
	expiry := map[string]any{
		"past":         now.Add(-48 * time.Hour),
		"just-past":    now.Add(-time.Nanosecond),
		"exactly-now":  now,
		"past-zoned":   now.Add(-time.Minute).In(time.FixedZone("UTC+5", 5*3600)),
		"long-ago":     time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
		"just-future":  now.Add(time.Nanosecond),
		"future":       now.Add(365 * 24 * time.Hour),
		"future-zoned": now.Add(time.Minute).In(time.FixedZone("UTC-8", -8*3600)),
		"string":       "2000-01-01T00:00:00Z",
		"number":       float64(now.Add(-time.Hour).Unix()),
		"never":        nil,
	}
	for id, v := range expiry {
		d := g.doc(id, 1+g.rng.IntN(4))
		for i := range d.Records {
			d.Records[i].Metadata = map[string]any{"lang": "en"}
			if v != nil {
				d.Records[i].Metadata[expiresAt] = v
			}
		}
		m.put(d)
	}
	s.loadModel(t, st, m)
	expired := store.Lte(expiresAt, now)
	live := store.Or(store.Not(store.Exists(expiresAt)), store.Gt(expiresAt, now))
	got := listIDs(t, l, expired)
	if want := []string{"exactly-now", "just-past", "long-ago", "past", "past-zoned"}; !slices.Equal(got, want) {
		t.Errorf("DocumentIDs(%s) = %q, want %q", expired, got, want)
	}
	got = listIDs(t, l, live)
	if want := []string{"future", "future-zoned", "just-future", "never"}; !slices.Equal(got, want) {
		t.Errorf("DocumentIDs(%s) = %q, want %q", live, got, want)
	}
	checkList(t, l, m, store.And(expired, store.Eq("lang", "en")), "expired in English")
	checkList(t, l, m, store.Lt(expiresAt, now), "strictly expired")
}

// Invalid filters, NaN included, are rejected with store.ErrInvalidFilter
// and no IDs, on an empty store and on a full one.
func (s *suite) listInvalidFilter(t *testing.T) {
	s.checkRejected(t, append(invalidFilters(), nanFilters()...), "DocumentIDs", func(t *testing.T, st store.Store, f *store.Filter) (int, error) {
		ids, err := lister(t, st).DocumentIDs(context.Background(), f)
		return len(ids), err
	})
}

// DocumentIDs with a cancelled context returns an error matching
// context.Canceled and no IDs.
func (s *suite) listCancelledContext(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	s.loadModel(t, st, g.filterData(8, 3))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, f := range []*store.Filter{nil, store.Exists("lang"), store.Eq(store.FieldDocID, "doc-01")} {
		if ids, err := l.DocumentIDs(ctx, f); !errors.Is(err, context.Canceled) || len(ids) != 0 {
			t.Errorf("DocumentIDs(%s) with a cancelled context = %q, %v; want no IDs and context.Canceled", f, ids, err)
		}
	}
}

// DocumentIDs runs concurrently with Upsert and Delete (run with -race)
// and sees every document whole: documents that always exist are always
// listed, also while their records are being replaced (a reader that saw
// the old records gone before the new ones came would miss them), a
// document whose every version is red is always listed as red and never
// as blue, nothing is listed that was never written, and when the writers
// are done the last version is what is listed.
func (s *suite) listConcurrent(t *testing.T) {
	st := s.newStore(t)
	l := lister(t, st)
	g := newGen(t, s.dim)
	ctx := context.Background()
	colored := func(g *gen, id, color string, n int) store.StoredDocument {
		d := g.doc(id, n)
		for i := range d.Records {
			d.Records[i].Metadata = map[string]any{"color": color}
		}
		return d
	}
	stable := []string{"stable-a", "stable-b"}
	for _, id := range stable {
		upsert(t, st, colored(g, id, "red", 2))
	}
	upsert(t, st, colored(g, "flip", "red", 3))
	const writes = 60
	written := map[string]bool{"stable-a": true, "stable-b": true, "flip": true}
	for i := range 5 {
		written[fmt.Sprintf("cold-%d", i)] = true
	}

	gens := []*gen{newGen(t, s.dim), newGen(t, s.dim), newGen(t, s.dim)}
	var writers, readers sync.WaitGroup
	done := make(chan struct{})
	writers.Go(func() { // flip alternates colours and sizes
		for v := 1; v <= writes; v++ {
			color := []string{"red", "blue"}[v%2]
			if err := st.Upsert(ctx, []store.StoredDocument{colored(gens[0], "flip", color, 1+v%4)}); err != nil {
				t.Errorf("Upsert flip v%d: %v", v, err)
				return
			}
		}
	})
	writers.Go(func() { // stable documents are rewritten, always red
		for v := range writes {
			id := stable[v%len(stable)]
			if err := st.Upsert(ctx, []store.StoredDocument{colored(gens[1], id, "red", 1+v%3)}); err != nil {
				t.Errorf("Upsert %s: %v", id, err)
				return
			}
		}
	})
	writers.Go(func() { // cold documents come and go
		for i := range writes {
			id := fmt.Sprintf("cold-%d", i%5)
			var err error
			if i%3 == 2 {
				err = st.Delete(ctx, id)
			} else {
				err = st.Upsert(ctx, []store.StoredDocument{colored(gens[2], id, "blue", 1+i%3)})
			}
			if err != nil {
				t.Errorf("write %s: %v", id, err)
				return
			}
		}
	})
	red, blue := store.Eq("color", "red"), store.Eq("color", "blue")
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				all, err := l.DocumentIDs(ctx, nil)
				if err == nil {
					err = checkSortedUnique(all)
				}
				if err != nil {
					t.Errorf("DocumentIDs(nil): %v", err)
					return
				}
				for _, id := range all {
					if !written[id] {
						t.Errorf("DocumentIDs(nil) lists %q, never written: %q", id, all)
						return
					}
				}
				for _, id := range append([]string{"flip"}, stable...) {
					if !slices.Contains(all, id) {
						t.Errorf("DocumentIDs(nil) = %q misses %s, which always exists", all, id)
						return
					}
				}
				reds, err := l.DocumentIDs(ctx, red)
				if err != nil {
					t.Errorf("DocumentIDs(%s): %v", red, err)
					return
				}
				blues, err := l.DocumentIDs(ctx, blue)
				if err != nil {
					t.Errorf("DocumentIDs(%s): %v", blue, err)
					return
				}
				for _, id := range stable {
					if !slices.Contains(reds, id) || slices.Contains(blues, id) {
						t.Errorf("%s is always red: listed red %q, blue %q", id, reds, blues)
						return
					}
				}
				for _, ids := range [][]string{reds, blues} {
					if err := checkSortedUnique(ids); err != nil {
						t.Errorf("DocumentIDs by colour: %v", err)
						return
					}
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()

	last, other := red, blue
	if writes%2 == 1 {
		last, other = blue, red
	}
	if ids := listIDs(t, l, last); !slices.Contains(ids, "flip") {
		t.Errorf("after the writers finished, DocumentIDs(%s) = %q misses flip, whose last version matches", last, ids)
	}
	if ids := listIDs(t, l, other); slices.Contains(ids, "flip") {
		t.Errorf("after the writers finished, DocumentIDs(%s) = %q lists flip, whose last version does not match", other, ids)
	}
}
