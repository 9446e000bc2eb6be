package chromem

import (
	"path/filepath"

	"github.com/ragkit-go/rag/store"
)

var _ store.Scoper = (*Store)(nil)

// tenantsDir is the directory, beside the collection's, that holds the
// collections of its tenants. '@' cannot occur in a collection name, so
// no collection of the user's is ever taken for it.
const tenantsDir = "@tenants"

// Scope returns the store of one tenant (see store.Scoper): a collection
// of its own, so a tenant's searches never see, or even scan, another
// tenant's records. In memory it is another in-memory collection; a
// persistent store keeps it in the directory
// Path/<Collection>@tenants/<store.TenantFileName(tenant)>, with the
// same options (Compress, NoSync) and the same durability, and Scope
// opens it again after a reopen. The directory of a collection is
// unchanged: the records it held before tenants existed are the default
// tenant's, the store's own.
//
// The returned value is a *Store (with List and DocumentIDs), opened on
// the first Scope of the tenant and shared by the later ones; its Close
// does nothing, the base's Close closes it, and its Scope fails with
// store.ErrScoped.
func (s *Store) Scope(tenant string) (store.Store, error) {
	t, err := s.tenants.Scope("chromem", tenant, s.scoped, store.ErrClosed, func() (*Store, error) { return s.openTenant(tenant) })
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
		o.Path = filepath.Join(o.Path, o.Collection+tenantsDir)
	}
	o.Collection = store.TenantFileName(tenant)
	t, err := New(o)
	if err != nil {
		return nil, err
	}
	t.scoped = true
	return t, nil
}
