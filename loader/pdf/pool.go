package pdf

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// engine is a lazily started, bounded pool of PDFium WebAssembly
// instances. Starting one (compiling PDFium's module, then instantiating
// it) is what costs; the engine starts on the first load, keeps up to size
// instances idle for the next ones, and close releases them all.
//
// A call into WebAssembly cannot be interrupted (wazero can only do that
// by starting a goroutine per call, which made extraction ten times
// slower), so a load whose context ends is abandoned instead: run returns
// at once, its slot goes to the next load, and the instance finishes its
// call on its own goroutine, notices the context between two calls, and
// is destroyed rather than reused. A file that keeps PDFium busy for
// ever keeps one instance and goroutine busy, not the pool.
//
// Concurrency: run and close may be called from many goroutines at once.
// At most size loads run at once; the others wait for a slot (or for
// their context).
type engine struct {
	size  int
	cache cacheChoice
	slots chan struct{} // a load holds one while it runs

	mu     sync.Mutex
	pool   pdfium.Pool
	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	active sync.WaitGroup // goroutines using an instance of pool
	// cacheErr says why the last start kept compiled PDFium in memory only
	// when a cache directory was asked for; nil when it used the directory.
	cacheErr error
}

// cacheChoice is where an engine keeps compiled PDFium: dir, or, when dir
// is empty, DefaultCacheDir; only in memory when memoryOnly is set.
type cacheChoice struct {
	dir        string
	memoryOnly bool
}

func newEngine(size int, cache cacheChoice) *engine {
	return &engine{size: size, cache: cache, slots: make(chan struct{}, size)}
}

// start returns the running pool and the context close cancels, starting
// them if needed, and counts the caller as active: it must call
// e.active.Done when it no longer uses the pool.
func (e *engine) start() (pdfium.Pool, context.Context, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		p, err := e.startPool()
		if err != nil {
			return nil, nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		e.pool, e.ctx, e.cancel = p, ctx, cancel
	}
	e.active.Add(1)
	return e.pool, e.ctx, nil
}

// work is what a load does with an instance of PDFium: it should check
// ctx between calls into PDFium, and may ask spare for more instances.
type work func(ctx context.Context, p pdfium.Pdfium, spare *spares) error

// run calls fn with an instance of PDFium and a context that ends when
// ctx does or the engine is closed. run returns fn's error, or, as soon
// as the context ends, ctx's error (or ErrClosed) without waiting for fn.
func (e *engine) run(ctx context.Context, fn work) error {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.slots }()
	pool, engineCtx, err := e.start()
	if err != nil {
		return err
	}
	return e.use(ctx, pool, engineCtx, fn)
}

// use runs fn with an instance of pool, for run: the caller holds a slot
// and is counted in e.active, which use ends.
func (e *engine) use(ctx context.Context, pool pdfium.Pool, engineCtx context.Context, fn work) error {
	runCtx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(engineCtx, cancel)
	done := make(chan error, 1)
	go func() {
		defer e.active.Done()
		defer cancel()
		defer stop()
		inst, err := pool.GetInstanceWithContext(runCtx)
		if err != nil {
			done <- fmt.Errorf("pdf: getting a PDFium instance: %w", err)
			return
		}
		err = fn(runCtx, inst, &spares{e: e, pool: pool, engineCtx: engineCtx})
		if runCtx.Err() != nil {
			// Abandoned: its state is whatever the interrupted work left.
			_ = inst.Kill()
		} else {
			_ = inst.Close() // back to the pool for the next load
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && ctx.Err() == nil && engineCtx.Err() != nil {
			// fn noticed the close first (its context's error) and its
			// result came in before runCtx's end was seen: the load failed
			// because of the close all the same.
			return ErrClosed
		}
		return err
	case <-runCtx.Done():
		// fn's goroutine cancels runCtx too, once it has sent its result.
		select {
		case err := <-done:
			if err == nil || ctx.Err() != nil || engineCtx.Err() == nil {
				return err // fn's own result, not the close's
			}
		default:
		}
		if ctx.Err() == nil {
			return ErrClosed
		}
		return ctx.Err()
	}
}

// spares gives a running load more instances while slots are free, so
// that one large file can use the cores that no other load uses. It never
// waits for a slot: a busy engine gives none, and each load keeps its one.
type spares struct {
	e         *engine
	pool      pdfium.Pool
	engineCtx context.Context
}

// try runs fn with another instance, on a goroutine of its own, if a
// slot is free now; wait then returns fn's error, as run would (at once
// when ctx ends). It must be called by the load's own work, and wait
// called before that work returns.
func (s *spares) try(ctx context.Context, fn work) (wait func() error, ok bool) {
	select {
	case s.e.slots <- struct{}{}:
	default:
		return nil, false
	}
	// The load that asks is active, so close has not released the pool.
	s.e.active.Add(1)
	done := make(chan error, 1)
	go func() {
		defer func() { <-s.e.slots }()
		done <- s.e.use(ctx, s.pool, s.engineCtx, fn)
	}()
	return func() error { return <-done }, true
}

// close ends every running load, waits until their instances are
// destroyed, and releases the idle instances and the WebAssembly runtime.
// A call into PDFium that never returns would make it wait for ever. The
// engine stays usable: the next load starts it again.
func (e *engine) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		return nil
	}
	e.cancel()
	e.active.Wait()
	err := e.pool.Close()
	e.pool, e.ctx, e.cancel = nil, nil, nil
	return err
}

// startPool compiles PDFium, or reads it compiled from the cache
// directory, and returns a pool of its instances. A
// cache directory that cannot be used (not creatable, not writable,
// holding entries that are damaged or of another version) never fails the
// start: PDFium is compiled again, into the directory when it can be
// written, else in memory only; e.cacheErr says why.
func (e *engine) startPool() (pdfium.Pool, error) {
	e.cacheErr = nil
	if !e.cache.memoryOnly {
		dir := e.cache.dir
		var err error
		if dir == "" {
			dir, err = DefaultCacheDir()
		}
		if err == nil {
			var p pdfium.Pool
			if p, err = startWithDir(dir, func(c wazero.CompilationCache) (pdfium.Pool, error) { return initPool(c, e.size) }); err == nil {
				return p, nil
			}
		}
		e.cacheErr = err
	}
	p, err := initPool(memoryCache(), e.size)
	if err != nil {
		return nil, fmt.Errorf("pdf: starting PDFium: %w", err)
	}
	return p, nil
}

// startWithDir starts a pool whose compiled PDFium is kept in dir. wazero
// fails the compilation when it cannot read an entry (damaged) or cannot
// write one (a read-only directory), in the second case with the compiled
// code already in the cache's memory: so a failed start is tried again
// with the same cache, then once more with dir emptied. start is
// initPool (tests give it a small module to compile instead).
func startWithDir(dir string, start func(wazero.CompilationCache) (pdfium.Pool, error)) (pdfium.Pool, error) {
	var err error
	for attempt := range 2 {
		var c wazero.CompilationCache
		if c, err = dirCache(dir); err != nil {
			return nil, err
		}
		var p pdfium.Pool
		if p, err = start(c); err != nil {
			p, err = start(c)
		}
		if err == nil {
			// A manifest that cannot be written costs a compilation in the
			// next process (its entries are not trusted), not this start.
			_ = updateManifest(dir)
			return p, nil
		}
		if attempt == 0 {
			if err := forgetDirCache(dir); err != nil {
				return nil, err
			}
		}
	}
	return nil, err
}

// initPool starts go-pdfium's pool of PDFium instances with compilation
// cache c, keeping up to idle instances idle. It compiles PDFium unless c
// holds it; it starts no instance.
func initPool(c wazero.CompilationCache, idle int) (pdfium.Pool, error) {
	return webassembly.Init(webassembly.Config{
		// Not bounded here: the slots bound the loads, and an abandoned
		// instance must not hold a place in the pool.
		MaxTotal: -1,
		MaxIdle:  idle,
		// PDFium gets the bytes in memory; it needs no file system.
		FSConfig: wazero.NewFSConfig(),
		RuntimeConfig: wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			WithCompilationCache(c),
		Stdout:       io.Discard,
		Stderr:       io.Discard,
		ReuseWorkers: true,
	})
}
