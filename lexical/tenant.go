package lexical

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragkit-go/rag/store"
)

// tenantsSuffix names the directory, beside the snapshot file, that holds
// the files of its tenants: Path + "@tenants".
const tenantsSuffix = "@tenants"

// Scope returns the index of one tenant, as store.Scoper does for a vector
// store: a Store of its own, with the base's options, so a tenant's
// searches, its document hashes and its BM25 statistics (document
// frequencies, average length) are its own, and the same document ID in
// two tenants is two documents. A persistent Store keeps it in
// Path@tenants/<store.TenantFileName(tenant)> (its logs beside it), and
// Scope opens it again after a reopen; the files at Path are unchanged,
// the default tenant's.
//
// The index is opened on the first Scope of the tenant and shared by the
// later ones; its Close does nothing, the base's Close closes it. Scope
// fails with an error matching store.ErrInvalidTenant for an invalid name
// (see store.CheckTenant), store.ErrScoped on a tenant's index, and
// ErrClosed once the base is closed. It may be called concurrently with
// every method.
func (s *Store) Scope(tenant string) (*Store, error) {
	return s.tenants.Scope("lexical", tenant, s.scoped, ErrClosed, func() (*Store, error) {
		o := s.opts
		if o.Path != "" {
			dir := o.Path + tenantsSuffix
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("lexical: %w", err)
			}
			o.Path = filepath.Join(dir, store.TenantFileName(tenant))
		}
		t, err := NewStore(o)
		if err != nil {
			return nil, err
		}
		t.scoped, t.noFold = true, s.noFold
		return t, nil
	})
}
