package flat

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragkit-go/rag/store"
)

var _ store.Scoper = (*Store)(nil)

// tenantsSuffix names the directory, beside the snapshot file, that holds
// the snapshots of its tenants: Path + "@tenants".
const tenantsSuffix = "@tenants"

// Scope returns the store of one tenant (see store.Scoper): a Store of its
// own, so the tenant's searches scan its records only (an exact search
// over a tenant holding 1% of the records costs 1% of a full scan) and
// no query or filter can reach another tenant's. It has the base's
// options; a persistent store keeps it in the file
// Path@tenants/<store.TenantFileName(tenant)> (with its log beside it),
// opened again by Scope after a reopen. The snapshot at Path is
// unchanged: the records it held before tenants existed are the default
// tenant's, the store's own.
//
// The returned value is a *Store (with DocumentIDs and Checkpoint), opened
// on the first Scope of the tenant and shared by the later ones; its Close
// does nothing, the base's Close closes it, and its Scope fails with
// store.ErrScoped.
func (s *Store) Scope(tenant string) (store.Store, error) {
	t, err := s.tenants.Scope("flat", tenant, s.scoped, store.ErrClosed, func() (*Store, error) { return s.openTenant(tenant) })
	if err != nil {
		return nil, err // not a nil *Store in a non-nil interface
	}
	return t, nil
}

// openTenant opens the store of a tenant.
func (s *Store) openTenant(tenant string) (*Store, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, store.ErrClosed
	}
	o := s.opts
	if o.Path != "" {
		dir := o.Path + tenantsSuffix
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("flat: %w", err)
		}
		o.Path = filepath.Join(dir, store.TenantFileName(tenant))
	}
	t, err := New(o)
	if err != nil {
		return nil, err
	}
	t.scoped = true
	return t, nil
}
