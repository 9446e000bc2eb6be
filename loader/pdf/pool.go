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
	slots chan struct{} // a load holds one while it runs

	mu     sync.Mutex
	pool   pdfium.Pool
	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	active sync.WaitGroup // goroutines using an instance of pool
}

func newEngine(size int) *engine {
	return &engine{size: size, slots: make(chan struct{}, size)}
}

// start returns the running pool and the context close cancels, starting
// them if needed, and counts the caller as active: it must call
// e.active.Done when it no longer uses the pool.
func (e *engine) start() (pdfium.Pool, context.Context, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p, err := webassembly.Init(webassembly.Config{
			// Not bounded here: the slots bound the loads, and an abandoned
			// instance must not hold a place in the pool.
			MaxTotal: -1,
			MaxIdle:  e.size,
			// PDFium gets the bytes in memory; it needs no file system.
			FSConfig: wazero.NewFSConfig(),
			RuntimeConfig: wazero.NewRuntimeConfig().
				WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
				WithCompilationCache(compilationCache()),
			Stdout:       io.Discard,
			Stderr:       io.Discard,
			ReuseWorkers: true,
		})
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("pdf: starting PDFium: %w", err)
		}
		e.pool, e.ctx, e.cancel = p, ctx, cancel
	}
	e.active.Add(1)
	return e.pool, e.ctx, nil
}

// run calls fn with an instance of PDFium and a context that ends when
// ctx does or the engine is closed; fn should check it between calls
// into PDFium. run returns fn's error, or, as soon as the context ends,
// ctx's error (or ErrClosed) without waiting for fn.
func (e *engine) run(ctx context.Context, fn func(context.Context, pdfium.Pdfium) error) error {
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
		err = fn(runCtx, inst)
		if runCtx.Err() != nil {
			// Abandoned: its state is whatever the interrupted work left.
			_ = inst.Kill()
		} else {
			_ = inst.Close() // back to the pool for the next load
		}
		done <- err
	}()
	var ended error
	select {
	case ended = <-done:
	case <-runCtx.Done():
		// fn's goroutine cancels runCtx too, once it has sent its result.
		select {
		case ended = <-done:
		default:
			return interrupted(ctx)
		}
	}
	if ended != nil && engineCtx.Err() != nil {
		// fn saw the context end: report why (the caller's own cancel,
		// or close), not the context error fn returned.
		return interrupted(ctx)
	}
	return ended
}

// interrupted is the error of a load whose context ended: ctx's error
// if the caller's context ended, else ErrClosed.
func interrupted(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return ErrClosed
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

var (
	cacheOnce sync.Once
	cache     wazero.CompilationCache
)

// compilationCache is the package's one cache of compiled PDFium: the
// module is compiled once per process (the slowest part of starting, a few
// seconds), not again each time an engine restarts after a close.
func compilationCache() wazero.CompilationCache {
	cacheOnce.Do(func() { cache = wazero.NewCompilationCache() })
	return cache
}
