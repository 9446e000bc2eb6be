package loader

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ragkit-go/rag/document"
)

// Registry maps extensions and media types to loaders.
//
// Concurrency: a Registry's methods may be called concurrently.
type Registry struct {
	mu    sync.RWMutex
	exts  map[string]entry // ".pdf" → entry
	mimes map[string]entry // "application/pdf" → entry
}

type entry struct {
	format string
	l      Loader
}

// Default is the registry Load uses. This package registers its own
// formats in it; sub-packages register theirs when imported.
var Default = &Registry{}

// Register makes l the loader of files whose extension (".md", case
// insensitive) is one of exts or whose media type is one of mimes, named
// format in errors and reports. A later registration replaces an earlier
// one for the same extension or type.
func (r *Registry) Register(format string, l Loader, exts, mimes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exts == nil {
		r.exts, r.mimes = map[string]entry{}, map[string]entry{}
	}
	e := entry{format, l}
	for _, x := range exts {
		r.exts[strings.ToLower(x)] = e
	}
	for _, m := range mimes {
		r.mimes[strings.ToLower(m)] = e
	}
}

// Register registers l in Default.
func Register(format string, l Loader, exts, mimes []string) {
	Default.Register(format, l, exts, mimes)
}

// Lookup returns the loader for f and its format name: by extension
// first, then by f.MIME, then by the media type sniffed from f.Data
// (http.DetectContentType).
func (r *Registry) Lookup(f *File) (Loader, string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e, ok := r.exts[strings.ToLower(path.Ext(f.Name))]; ok {
		return e.l, e.format, true
	}
	for _, m := range []string{f.MIME, http.DetectContentType(f.Data)} {
		m, _, _ = strings.Cut(m, ";")
		if e, ok := r.mimes[strings.ToLower(strings.TrimSpace(m))]; ok {
			return e.l, e.format, true
		}
	}
	return nil, "", false
}

// Supports reports whether r has a loader for a file named name (by its
// extension alone).
func (r *Registry) Supports(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.exts[strings.ToLower(path.Ext(name))]
	return ok
}

// Load loads f with the loader Lookup finds, within f.Limits (defaults
// for zero fields). Every failure is an *Error: ErrUnsupported,
// ErrTooLarge, ErrTimeout, ErrPanic, or the loader's own error (which
// loaders wrap in ErrMalformed, ErrEncrypted or ErrNoText). Each
// document's Source is f.Name unless the loader set one; documents are
// validated (document.Validate) before they are returned.
//
// A loader that overruns the timeout is abandoned: Load returns, and the
// loader's goroutine is left to notice its cancelled context.
func (r *Registry) Load(ctx context.Context, f *File) ([]document.Document, error) {
	g := *f
	g.Limits = f.Limits.WithDefaults()
	l, format, ok := r.Lookup(&g)
	if !ok {
		return nil, &Error{Name: f.Name, Err: ErrUnsupported}
	}
	fail := func(err error) error { return &Error{Name: f.Name, Format: format, Err: err} }
	if g.Limits.MaxFileSize > 0 && int64(len(g.Data)) > g.Limits.MaxFileSize {
		return nil, fail(fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(g.Data), g.Limits.MaxFileSize))
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}
	type outcome struct {
		docs []document.Document
		err  error
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timer <-chan time.Time
	if g.Limits.Timeout > 0 {
		t := time.NewTimer(g.Limits.Timeout)
		defer t.Stop()
		timer = t.C
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o = outcome{err: fmt.Errorf("%w: %v", ErrPanic, p)}
			}
			done <- o
		}()
		o.docs, o.err = l.Load(cctx, &g)
	}()
	var o outcome
	select {
	case o = <-done:
	case <-timer:
		return nil, fail(fmt.Errorf("%w after %v", ErrTimeout, g.Limits.Timeout))
	case <-ctx.Done():
		return nil, fail(ctx.Err())
	}
	if o.err != nil {
		return nil, fail(o.err)
	}
	if len(o.docs) == 0 {
		return nil, fail(ErrNoText)
	}
	for i := range o.docs {
		d := &o.docs[i]
		if d.Source == "" {
			d.Source = f.Name
		}
		if err := document.Validate(d); err != nil {
			if errors.Is(err, document.ErrEmptyContent) {
				err = fmt.Errorf("%w: %w", ErrNoText, err)
			}
			return nil, fail(err)
		}
	}
	return o.docs, nil
}

// Load loads f with Default.
func Load(ctx context.Context, f *File) ([]document.Document, error) {
	return Default.Load(ctx, f)
}
