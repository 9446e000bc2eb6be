package lexical

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ragkit-go/rag/store"
)

// Two tenants and the default one write the same document IDs: each sees
// its own versions only, in searches, hashes and listings, before and
// after a reopen; BM25 statistics are per tenant.
func TestScopeIsolation(t *testing.T) {
	for _, persistent := range []bool{false, true} {
		path := ""
		if persistent {
			path = filepath.Join(t.TempDir(), "bm25")
		}
		base, err := NewStore(StoreOptions{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		names := []string{"", "acme", "Acme"}
		scope := func(b *Store) []*Store {
			out := []*Store{b}
			for _, n := range names[1:] {
				v, err := b.Scope(n)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
			return out
		}
		views := scope(base)
		for i, v := range views {
			if err := v.Upsert(doc("a", names[i], 2, map[string]any{"owner": names[i]}), doc("b", names[i], 1+i, map[string]any{"owner": names[i]})); err != nil {
				t.Fatal(err)
			}
		}
		check := func(views []*Store, when string) {
			for i, v := range views {
				res, err := v.SearchText(ctx, "shared words", 100, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != 2+1+i {
					t.Errorf("%s: tenant %q: %d results, want %d", when, names[i], len(res), 3+i)
				}
				for _, r := range res {
					if r.Metadata["owner"] != names[i] {
						t.Errorf("%s: tenant %q found %s of tenant %v", when, names[i], r.ID, r.Metadata["owner"])
					}
				}
				if h, _ := v.Hash("a"); h != "a@"+names[i] {
					t.Errorf("%s: tenant %q: hash of a is %q", when, names[i], h)
				}
				// A filter naming another tenant's records finds nothing.
				other := names[(i+1)%len(names)]
				if res, err := v.SearchText(ctx, "shared", 100, store.Eq("owner", other)); err != nil || len(res) != 0 {
					t.Errorf("%s: tenant %q, filter owner=%q: %d results, %v", when, names[i], other, len(res), err)
				}
				ids, err := v.DocumentIDs(ctx, nil)
				if err != nil || !slices.Equal(ids, []string{"a", "b"}) {
					t.Errorf("%s: tenant %q: DocumentIDs = %v, %v", when, names[i], ids, err)
				}
			}
		}
		check(views, "written")
		if err := views[1].Delete("a"); err != nil {
			t.Fatal(err)
		}
		if _, ok := views[2].Hash("a"); !ok {
			t.Error("deleting a in acme deleted it in Acme")
		}
		if err := views[1].Upsert(doc("a", "acme", 2, map[string]any{"owner": "acme"})); err != nil {
			t.Fatal(err)
		}
		if err := base.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := base.Scope("acme"); !errors.Is(err, ErrClosed) {
			t.Errorf("Scope after Close: %v, want ErrClosed", err)
		}
		if !persistent {
			continue
		}
		if err := views[1].Upsert(doc("c", "x", 1, nil)); !errors.Is(err, ErrClosed) {
			t.Errorf("a tenant's Upsert after its base closed: %v, want ErrClosed", err)
		}
		re := newStore(t, path)
		check(scope(re), "reopened")
	}
}

func TestScopeInvalid(t *testing.T) {
	s := newStore(t, "")
	for _, bad := range []string{"", "a\nb", "\xff"} {
		if _, err := s.Scope(bad); !errors.Is(err, store.ErrInvalidTenant) {
			t.Errorf("Scope(%q): %v, want store.ErrInvalidTenant", bad, err)
		}
	}
	v, err := s.Scope("acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Scope("x"); !errors.Is(err, store.ErrScoped) {
		t.Errorf("a tenant's Scope: %v, want store.ErrScoped", err)
	}
	w, err := s.Scope("acme")
	if err != nil || w != v {
		t.Errorf("a second Scope(acme) = %p, %v; want the same index %p", w, err, v)
	}
}
