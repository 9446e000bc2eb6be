// Package tenancy keeps the per-tenant parts of a store that gives each
// tenant a partition of its own (store/chromem, store/flat, lexical):
// opened on first use, found again after, closed together with the store.
package tenancy

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ragkit-go/rag/store"
)

// ErrClosed: Get was called after Close.
var ErrClosed = errors.New("tenancy: closed")

// Partitions holds one T per tenant. The zero value is empty and ready.
//
// Concurrency: Get and Close may be called concurrently. Get opens each
// tenant's partition once, however many callers ask at the same time;
// opens of different tenants are serialized (they are rare: once per
// tenant per process). The common case, a tenant already open, takes a
// read lock only.
type Partitions[T any] struct {
	mu     sync.RWMutex
	m      map[string]T
	closed bool
}

// Get returns tenant's partition, opening it with open the first time.
// An error from open is returned and nothing is kept, so the next Get
// tries again. After Close, Get returns ErrClosed.
func (p *Partitions[T]) Get(tenant string, open func() (T, error)) (T, error) {
	var zero T
	p.mu.RLock()
	v, ok := p.m[tenant]
	closed := p.closed
	p.mu.RUnlock()
	if closed {
		return zero, ErrClosed
	}
	if ok {
		return v, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return zero, ErrClosed
	}
	if v, ok := p.m[tenant]; ok {
		return v, nil
	}
	v, err := open()
	if err != nil {
		return zero, err
	}
	if p.m == nil {
		p.m = make(map[string]T)
	}
	p.m[tenant] = v
	return v, nil
}

// Close marks the set closed and closes the partitions it held with
// closeOne, returning their errors joined; a second Close closes none.
func (p *Partitions[T]) Close(closeOne func(T) error) error {
	p.mu.Lock()
	held := p.m
	p.closed, p.m = true, nil
	p.mu.Unlock()
	var errs []error
	for _, v := range held {
		errs = append(errs, closeOne(v))
	}
	return errors.Join(errs...)
}

// CloseBase is a base store's Close: it closes the partitions, then the
// base itself, both with closeOne, and returns their errors joined. On a
// partition (view true) it does nothing: the base closes it.
func (p *Partitions[T]) CloseBase(view bool, base T, closeOne func(T) error) error {
	if view {
		return nil
	}
	return errors.Join(p.Close(closeOne), closeOne(base))
}

// Scope is Get for a store's Scope method (see store.Scoper): it checks
// tenant with store.CheckTenant, refuses to scope a view (view true) with
// store.ErrScoped, and reports a closed set as closedErr. Errors are
// prefixed by pkg ("chromem: scope ...").
func (p *Partitions[T]) Scope(pkg, tenant string, view bool, closedErr error, open func() (T, error)) (T, error) {
	var zero T
	if err := store.CheckTenant(tenant); err != nil {
		return zero, fmt.Errorf("%s: scope: %w", pkg, err)
	}
	if view {
		return zero, fmt.Errorf("%s: scope %q: %w", pkg, tenant, store.ErrScoped)
	}
	v, err := p.Get(tenant, open)
	if errors.Is(err, ErrClosed) {
		return zero, fmt.Errorf("%s: scope: %w", pkg, closedErr)
	}
	if err != nil {
		return zero, fmt.Errorf("%s: scope %q: %w", pkg, tenant, err)
	}
	return v, nil
}
