package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scoper is implemented by stores that keep tenants apart: many customers
// in one store, each seeing only its own documents.
//
// Scope returns a view of the store confined to one tenant. Every method
// of the view (Upsert, Search, Delete, Hashes, and TextSearcher and Lister
// when the store has them) reads and writes only that tenant's records,
// whatever the query or filter says: the store enforces the boundary, it
// is not a filter the caller adds. Document and record IDs are the
// tenant's own: the same document ID in two tenants is two documents, with
// their own hashes. The store itself, unscoped, is the default tenant: it
// sees none of the tenants' records, and the records it held before any
// tenant existed stay its own.
//
// A view lives as long as the store: closing the store closes its views
// (their methods then fail with ErrClosed), and a view's own Close, if it
// has one, does nothing. A view does not scope again (its Scope, if any,
// fails with an error matching errors.ErrUnsupported). Persistent stores
// keep each tenant's records across a reopen; Scope with the same tenant
// finds them again.
//
// Scope fails with an error matching ErrInvalidTenant if CheckTenant
// rejects tenant, and with ErrClosed once the store is closed. Scope may
// be called concurrently with every method, and cheaply: calling it once
// a request is fine. The views follow the Store contract, concurrency,
// ownership and errors included.
type Scoper interface {
	Scope(tenant string) (Store, error)
}

// ErrInvalidTenant: a tenant name is empty, too long (see MaxTenantLen),
// not valid UTF-8, or holds a control or other non-printing character.
var ErrInvalidTenant = errors.New("store: invalid tenant")

// MaxTenantLen is the longest tenant name, in bytes. It keeps the names
// that file-based stores derive from a tenant (TenantFileName, at most
// three bytes a byte) within the 255 bytes a file name may have.
const MaxTenantLen = 64

// CheckTenant reports an error matching ErrInvalidTenant if tenant is not
// a valid tenant name: it must be 1 to MaxTenantLen bytes of valid UTF-8
// made of printable characters (letters, marks, numbers, punctuation,
// symbols and the ASCII space; no control, format or unassigned
// characters).
func CheckTenant(tenant string) error {
	switch {
	case tenant == "":
		return fmt.Errorf("%w: empty name", ErrInvalidTenant)
	case len(tenant) > MaxTenantLen:
		return fmt.Errorf("%w: name is %d bytes, longer than %d", ErrInvalidTenant, len(tenant), MaxTenantLen)
	case !utf8.ValidString(tenant):
		return fmt.Errorf("%w: name %q is not valid UTF-8", ErrInvalidTenant, tenant)
	}
	for _, r := range tenant {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: name %q holds the non-printing character %U", ErrInvalidTenant, tenant, r)
		}
	}
	return nil
}

// Scope returns the view of s confined to tenant (see Scoper), looking
// through wrappers that expose the store they wrap with an Unwrap() Store
// method, as DocumentIDs does: the view is then the wrapped store's,
// without the wrapper (a wrapper that must stay in the way implements
// Scoper itself, or has no Unwrap). A store that cannot scope gives an error
// matching errors.ErrUnsupported; an invalid tenant one matching
// ErrInvalidTenant, checked first.
func Scope(s Store, tenant string) (Store, error) {
	if err := CheckTenant(tenant); err != nil {
		return nil, err
	}
	for x := s; x != nil; {
		if sc, ok := x.(Scoper); ok {
			return sc.Scope(tenant)
		}
		u, ok := x.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	return nil, fmt.Errorf("store: %T cannot keep tenants apart (it does not implement store.Scoper): %w", s, errors.ErrUnsupported)
}

// ErrScoped is returned, wrapped, by the Scope of a view: tenants do not
// nest. It matches errors.ErrUnsupported.
var ErrScoped = fmt.Errorf("store: the store is already scoped to a tenant: %w", errors.ErrUnsupported)

// TenantFileName returns a file name that stands for tenant, for stores
// that keep each tenant in files of its own: lower-case ASCII letters,
// digits and '-' as they are, every other byte as '_' and two lower-case
// hex digits. Distinct tenants get distinct names, also on file systems
// that ignore case, and a name never starts with '.'. tenant must have
// passed CheckTenant (the name is then at most 192 bytes).
func TenantFileName(tenant string) string {
	var b strings.Builder
	const hex = "0123456789abcdef"
	for i := 0; i < len(tenant); i++ {
		c := tenant[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
