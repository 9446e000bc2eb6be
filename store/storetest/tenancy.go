package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/store"
)

// TenancyOps is the number of random operations the TenantIsolation rule
// runs on each store.
const TenancyOps = 10000

// SeedEnv names the environment variable that, when set to a number,
// replays the TenantIsolation rule with that seed (the one a failure
// printed).
const SeedEnv = "STORETEST_SEED"

// tenancyTenants are the tenants of the isolation rule: "" is the store
// itself (the default tenant); the others differ only in case, hold
// spaces, punctuation and non-ASCII letters, and one is as long as a name
// may be, so file names derived from them must keep them apart.
var tenancyTenants = []string{"", "acme", "Acme", "acme corp/eu", "テナント-ü", strings.Repeat("z", store.MaxTenantLen)}

// tenancyDocIDs are the document IDs every tenant writes: each collides
// with the same ID in every other tenant.
var tenancyDocIDs = []string{"doc-0", "doc-1", "doc-2", "doc-3", "doc-4", "doc-5"}

// tenantView is one tenant as the rule sees it: the view and what it
// should hold.
type tenantView struct {
	name string
	st   store.Store
	m    model
}

// The isolation rule (store.Scoper): random operations, TenancyOps of
// them, on the default tenant and five others, every tenant writing the
// same document IDs (so the same record IDs): upserts, deletes, searches
// with random filters (among them filters on _id, and on the "owner" of
// another tenant's records), hashes, and DocumentIDs and SearchText when
// the store has them; a persistent store is reopened along the way. Every
// result must be a record the tenant itself wrote, in its latest version
// (each write is numbered, the number stored in the record); searches are
// the brute-force top k of the tenant's own records, so an operation that
// shows nothing of another tenant must also show everything of its own.
// A failure prints the seed; set STORETEST_SEED to replay it.
func (s *suite) tenantIsolation(t *testing.T) {
	base := s.newStore(t)
	if _, ok := base.(store.Scoper); !ok {
		t.Skipf("%T does not implement store.Scoper", base)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(SeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, v, err)
		}
		seed = n
	}
	t.Logf("random seed %d (replay with %s=%d)", seed, SeedEnv, seed)
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), dim: s.dim}
	ctx := context.Background()
	op := 0
	where := func(tv *tenantView, what string) string {
		return fmt.Sprintf("seed %d, operation %d, tenant %q: %s", seed, op, tv.name, what)
	}

	views := make([]*tenantView, len(tenancyTenants))
	scopeAll := func() {
		for i, name := range tenancyTenants {
			st := base
			if name != "" {
				var err error
				if st, err = base.(store.Scoper).Scope(name); err != nil {
					t.Fatalf("seed %d: Scope(%q): %v", seed, name, err)
				}
			}
			if views[i] == nil {
				views[i] = &tenantView{name: name, m: model{}}
			}
			views[i].st = st
		}
	}
	scopeAll()

	version := 0
	reopenEvery := TenancyOps / 4
	for op = range TenancyOps {
		if s.opts.Reopen != nil && op > 0 && op%reopenEvery == 0 {
			base = s.opts.Reopen(t, base)
			scopeAll()
		}
		tv := views[g.rng.IntN(len(views))]
		switch r := g.rng.IntN(100); {
		case r < 30: // upsert one to three documents, some with no records (a delete)
			var docs []store.StoredDocument
			for range 1 + g.rng.IntN(3) {
				version++
				docs = append(docs, g.tenantDoc(tv.name, pick(g, tenancyDocIDs), g.rng.IntN(4), version))
			}
			if err := tv.st.Upsert(ctx, docs); err != nil {
				t.Fatal(where(tv, fmt.Sprintf("Upsert: %v", err)))
			}
			tv.m.put(docs...)
		case r < 40:
			ids := g.pickIDs()
			if err := tv.st.Delete(ctx, ids...); err != nil {
				t.Fatal(where(tv, fmt.Sprintf("Delete(%q): %v", ids, err)))
			}
			tv.m.del(ids...)
		case r < 70:
			f := g.tenancyFilter(views)
			recs := tv.m.records()
			q := g.query(t, recs)
			k := []int{1, 3, 10, all}[g.rng.IntN(4)]
			got, err := tv.st.Search(ctx, store.Query{Vector: q, TopK: k, Filter: f})
			if err != nil {
				t.Fatal(where(tv, fmt.Sprintf("Search(TopK %d, filter %s): %v", k, f, err)))
			}
			tv.checkOwn(t, got, where)
			want := store.BruteForce(recs, store.Query{Vector: q, TopK: k, Filter: f})
			checkResults(t, got, want, where(tv, fmt.Sprintf("Search(TopK %d, filter %s)", k, f)))
		case r < 80:
			ids := g.pickIDs()
			got, err := tv.st.Hashes(ctx, ids...)
			if err != nil {
				t.Fatal(where(tv, fmt.Sprintf("Hashes: %v", err)))
			}
			want := map[string]string{}
			for _, id := range ids {
				if d, ok := tv.m[id]; ok {
					want[id] = d.Hash
				}
			}
			if !maps.Equal(got, want) {
				t.Fatal(where(tv, fmt.Sprintf("Hashes(%q) = %v, want %v", ids, got, want)))
			}
		case r < 90:
			l, ok := tv.st.(store.Lister)
			if !ok {
				continue
			}
			f := g.tenancyFilter(views)
			got, err := l.DocumentIDs(ctx, f)
			if err != nil {
				t.Fatal(where(tv, fmt.Sprintf("DocumentIDs(%s): %v", f, err)))
			}
			want := []string{}
			for id, d := range tv.m {
				if slices.ContainsFunc(d.Records, func(r store.Record) bool { return f.Match(&r) }) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Fatal(where(tv, fmt.Sprintf("DocumentIDs(%s) = %q, want %q", f, got, want)))
			}
		default:
			ts, ok := tv.st.(store.TextSearcher)
			if !ok {
				continue
			}
			f := g.tenancyFilter(views)
			k := []int{1, 5, all}[g.rng.IntN(3)]
			got, err := ts.SearchText(ctx, "alpha", k, f)
			if err != nil {
				t.Fatal(where(tv, fmt.Sprintf("SearchText(filter %s): %v", f, err)))
			}
			tv.checkOwn(t, got, where)
			n := 0
			for _, r := range tv.m.records() {
				if f.Match(&r) {
					n++
				}
			}
			if len(got) != min(k, n) {
				t.Fatal(where(tv, fmt.Sprintf("SearchText(alpha, %d, %s) gave %d results, want %d (every record of the tenant's says alpha)", k, f, len(got), min(k, n))))
			}
		}
	}
	for _, tv := range views {
		checkContents(t, tv.st, tv.m, s.dim)
	}
	t.Logf("%d operations on %d tenants", TenancyOps, len(views))
}

// checkOwn fails unless every result is a record of tv in the version the
// tenant last wrote: its owner, its write number and its text.
func (tv *tenantView) checkOwn(t *testing.T, got []store.Result, where func(*tenantView, string) string) {
	t.Helper()
	for _, r := range got {
		if o, _ := r.Metadata["owner"].(string); o != tv.name {
			t.Fatal(where(tv, fmt.Sprintf("result %s is a record of tenant %q", r.ID, o)))
		}
		d, ok := tv.m[r.DocID]
		i := slices.IndexFunc(d.Records, func(w store.Record) bool { return w.ID == r.ID })
		if !ok || i < 0 {
			t.Fatal(where(tv, fmt.Sprintf("result %s (write %v) is not a record the tenant holds", r.ID, r.Metadata["write"])))
		}
		if w := d.Records[i]; r.Text != w.Text || r.Metadata["write"] != w.Metadata["write"] {
			t.Fatal(where(tv, fmt.Sprintf("result %s is write %v (%q), the tenant's is write %v (%q)", r.ID, r.Metadata["write"], r.Text, w.Metadata["write"], w.Text)))
		}
	}
}

// tenantDoc is document id of tenant owner with n records, numbered by
// the write that makes it; every record's text holds the word "alpha".
func (g *gen) tenantDoc(owner, id string, n, write int) store.StoredDocument {
	d := g.doc(id, n)
	d.Hash = fmt.Sprintf("%s/%s/%d", owner, id, write)
	off := 0
	for i := range d.Records {
		r := &d.Records[i]
		r.Text = fmt.Sprintf("alpha chunk %d of %s, write %d", i, id, write)
		r.Start, r.End = off, off+len(r.Text)
		off = r.End
		r.Tags = g.subset(poolTag)
		r.Metadata = map[string]any{"owner": owner, "write": float64(write), "lang": pick(g, poolLang)}
	}
	return d
}

// pickIDs returns one to three document IDs, some of them maybe absent.
func (g *gen) pickIDs() []string {
	ids := make([]string, 1+g.rng.IntN(3))
	for i := range ids {
		ids[i] = pick(g, tenancyDocIDs)
	}
	if g.rng.IntN(4) == 0 {
		ids = append(ids, "never-written")
	}
	return ids
}

// tenancyFilter is nil, a filter on the colliding document IDs, on the
// owner of some tenant's records, or a random filter of the suite's.
func (g *gen) tenancyFilter(views []*tenantView) *store.Filter {
	switch g.rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return store.Eq(store.FieldDocID, pick(g, tenancyDocIDs))
	case 2:
		return store.In(store.FieldDocID, pick(g, tenancyDocIDs), pick(g, tenancyDocIDs))
	case 3:
		return store.Eq("owner", pick(g, views).name)
	case 4:
		return store.And(store.Eq("lang", pick(g, poolLang)), store.In(store.FieldTags, "x", "y"))
	}
	return g.randomFilter(2)
}

// Scope rejects invalid tenant names with store.ErrInvalidTenant, and a
// view does not scope again (errors.ErrUnsupported).
func (s *suite) tenantInvalid(t *testing.T) {
	base := s.newStore(t)
	sc, ok := base.(store.Scoper)
	if !ok {
		t.Skipf("%T does not implement store.Scoper", base)
	}
	for _, bad := range []string{"", "a\x00b", "tab\there", "\xff\xfe", strings.Repeat("x", store.MaxTenantLen+1), "bidi\u202e"} {
		if v, err := sc.Scope(bad); !errors.Is(err, store.ErrInvalidTenant) || v != nil {
			t.Errorf("Scope(%q) = %v, %v; want nil and an error matching store.ErrInvalidTenant", bad, v, err)
		}
	}
	v, err := sc.Scope("acme")
	if err != nil {
		t.Fatalf("Scope(acme): %v", err)
	}
	if vs, ok := v.(store.Scoper); ok {
		if w, err := vs.Scope("other"); !errors.Is(err, errors.ErrUnsupported) || w != nil {
			t.Errorf("a view's Scope(other) = %v, %v; want nil and an error matching errors.ErrUnsupported", w, err)
		}
	}
	// Writing to a tenant leaves the default tenant empty, and the other
	// way round.
	g := newGen(t, s.dim)
	upsert(t, v, g.doc("shared", 2))
	if h, err := base.Hashes(context.Background(), "shared"); err != nil || len(h) != 0 {
		t.Errorf("the default tenant's Hashes(shared) = %v, %v after a tenant wrote it; want none", h, err)
	}
	upsert(t, base, g.doc("mine", 1))
	if h, err := v.Hashes(context.Background(), "mine"); err != nil || len(h) != 0 {
		t.Errorf("the tenant's Hashes(mine) = %v, %v after the default tenant wrote it; want none", h, err)
	}
}
