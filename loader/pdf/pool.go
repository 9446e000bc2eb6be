package pdf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// errClosed is what a load racing a Close gets; it never escapes Load
// (a closed engine starts again on the next load).
var errClosed = errors.New("pdf: engine closed")

// engine is a lazily started, bounded pool of PDFium WebAssembly
// instances. Starting one (compiling PDFium's module, then instantiating
// it) is what costs; the pool starts on the first load, keeps up to size
// instances idle for the next ones, and a Close releases them all.
//
// Concurrency: run and close may be called from many goroutines at once.
// At most size loads run at once; the others wait for an instance (or
// for their context).
type engine struct {
	size int

	mu     sync.Mutex
	pool   pdfium.Pool
	ctx    context.Context // cancelled by close: kills every running call
	cancel context.CancelFunc
	active sync.WaitGroup // runs holding an instance of pool
}

// acquire returns the running pool (starting it if needed) and the
// context close cancels, and counts the caller as active until it calls
// the returned release.
func (e *engine) acquire() (pdfium.Pool, context.Context, func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p, err := webassembly.Init(webassembly.Config{
			Context:  ctx,
			MaxTotal: e.size,
			MaxIdle:  e.size,
			// PDFium gets the bytes in memory; it needs no file system.
			FSConfig: wazero.NewFSConfig(),
			// CloseOnContextDone makes a killed instance's running call
			// return instead of running on in the background.
			RuntimeConfig: wazero.NewRuntimeConfig().
				WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
				WithCloseOnContextDone(true).
				WithCompilationCache(compilationCache()),
			Stdout:       io.Discard,
			Stderr:       io.Discard,
			ReuseWorkers: true,
		})
		if err != nil {
			cancel()
			return nil, nil, nil, fmt.Errorf("pdf: starting PDFium: %w", err)
		}
		e.pool, e.ctx, e.cancel = p, ctx, cancel
	}
	e.active.Add(1)
	return e.pool, e.ctx, e.active.Done, nil
}

// run gives fn an instance of PDFium for the length of the call. When ctx
// is done (or the engine is closed) before fn returns, the instance is
// killed, so that fn's running call returns with an error, and it is
// discarded: the pool starts a fresh one for a later load rather than
// reuse one whose state is unknown. run returns only once the instance
// is back in the pool or destroyed.
func (e *engine) run(ctx context.Context, fn func(pdfium.Pdfium) error) error {
	pool, engineCtx, release, err := e.acquire()
	if err != nil {
		return err
	}
	defer release()
	wait, stopWait := context.WithCancel(ctx)
	defer stopWait()
	stopEngine := context.AfterFunc(engineCtx, stopWait)
	defer stopEngine()
	inst, err := pool.GetInstanceWithContext(wait)
	if err != nil {
		if engineCtx.Err() != nil {
			return errClosed
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("pdf: getting a PDFium instance: %w", err)
	}
	killed := make(chan struct{})
	stopKill := context.AfterFunc(wait, func() {
		defer close(killed)
		_ = inst.Kill()
	})
	err = fn(inst)
	if stopKill() {
		// Not killed: the instance goes back to the pool for the next load.
		_ = inst.Close()
		return err
	}
	<-killed
	if engineCtx.Err() != nil && ctx.Err() == nil {
		return errClosed
	}
	return ctx.Err()
}

// close kills the running calls, waits for their loads to return and
// releases every instance and the WebAssembly runtime. The engine stays
// usable: the next load starts it again.
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
// module is compiled once per process (the slowest part of starting), not
// again each time an engine restarts after a close.
func compilationCache() wazero.CompilationCache {
	cacheOnce.Do(func() { cache = wazero.NewCompilationCache() })
	return cache
}
