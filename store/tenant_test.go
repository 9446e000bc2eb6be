package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

func TestCheckTenant(t *testing.T) {
	for _, ok := range []string{"a", "acme corp/eu", "テナント-ü", "O'Brien", strings.Repeat("z", store.MaxTenantLen)} {
		if err := store.CheckTenant(ok); err != nil {
			t.Errorf("CheckTenant(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a\x00", "line\nbreak", "\xc3", "zero\u200bwidth", strings.Repeat("z", store.MaxTenantLen+1)} {
		if err := store.CheckTenant(bad); !errors.Is(err, store.ErrInvalidTenant) {
			t.Errorf("CheckTenant(%q) = %v, want ErrInvalidTenant", bad, err)
		}
	}
}

// File names of tenants are distinct (also ignoring case), safe and within
// 255 bytes.
func TestTenantFileName(t *testing.T) {
	names := []string{"acme", "Acme", "ACME", "a_41", "a.b", "a/b", "..", "-x", "テナント", strings.Repeat("é", store.MaxTenantLen/2)}
	seen := map[string]string{}
	for _, n := range names {
		f := store.TenantFileName(n)
		if prev, dup := seen[strings.ToLower(f)]; dup {
			t.Errorf("tenants %q and %q share the file name %q", prev, n, f)
		}
		seen[strings.ToLower(f)] = n
		if len(f) > 255 || strings.HasPrefix(f, ".") || strings.ContainsAny(f, "/\\\x00") {
			t.Errorf("TenantFileName(%q) = %q: not a safe file name", n, f)
		}
	}
}

// Scope looks through wrappers, and says when no store can scope.
func TestScopeHelper(t *testing.T) {
	if _, err := store.Scope(plain{}, "acme"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Scope of a store without Scoper: %v, want errors.ErrUnsupported", err)
	}
	if _, err := store.Scope(plain{}, ""); !errors.Is(err, store.ErrInvalidTenant) {
		t.Errorf("Scope with an empty tenant: %v, want ErrInvalidTenant", err)
	}
	c, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := store.Scope(unwrapper{c}, "acme")
	if err != nil {
		t.Fatalf("Scope through a wrapper: %v", err)
	}
	doc := store.StoredDocument{ID: "d", Records: []store.Record{{ID: "d#0", DocID: "d", Vector: []float32{1, 0}}}}
	if err := v.Upsert(context.Background(), []store.StoredDocument{doc}); err != nil {
		t.Fatal(err)
	}
	if h, err := c.Hashes(context.Background(), "d"); err != nil || len(h) != 0 {
		t.Errorf("the wrapped store's default tenant holds the tenant's document: %v, %v", h, err)
	}
}

// unwrapper wraps a store and says so.
type unwrapper struct{ s store.Store }

func (u unwrapper) Upsert(ctx context.Context, d []store.StoredDocument) error {
	return u.s.Upsert(ctx, d)
}
func (u unwrapper) Search(ctx context.Context, q store.Query) ([]store.Result, error) {
	return u.s.Search(ctx, q)
}
func (u unwrapper) Delete(ctx context.Context, ids ...string) error { return u.s.Delete(ctx, ids...) }
func (u unwrapper) Hashes(ctx context.Context, ids ...string) (map[string]string, error) {
	return u.s.Hashes(ctx, ids...)
}
func (u unwrapper) Unwrap() store.Store { return u.s }
