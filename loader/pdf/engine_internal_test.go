package pdf

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"
)

// leftovers returns the stacks of goroutines running code of PDFium's
// engine: wazero, go-pdfium, its pool, or this package's.
func leftovers() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leftovers") {
			continue
		}
		for _, s := range []string{"wazero", "go-pdfium", "go-commons-pool", "loader/pdf.(*engine)"} {
			if strings.Contains(g, s) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// checkNoLeftovers fails t if engine goroutines are still running. A
// goroutine that has signalled its end may not have returned yet, so it
// yields a bounded number of times before looking for good.
func checkNoLeftovers(t *testing.T) {
	t.Helper()
	for range 1000 {
		if len(leftovers()) == 0 {
			return
		}
		runtime.Gosched()
	}
	t.Errorf("goroutines left behind:\n%s", strings.Join(leftovers(), "\n\n"))
}

// openHello checks that p is a working PDFium instance.
func openHello(p pdfium.Pdfium) error {
	data := []byte(hello)
	d, err := p.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return err
	}
	_, err = p.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: d.Document})
	return err
}

// TestAbandonedLoadFreesItsSlot: a load whose context ends while PDFium
// is busy returns at once, and the next load gets the slot (a working
// instance) although the abandoned call has not returned: a file that
// keeps PDFium busy does not wedge the pool. Close waits for the
// abandoned call, and leaves no goroutine behind.
func TestAbandonedLoadFreesItsSlot(t *testing.T) {
	if err := Default.Close(); err != nil {
		t.Fatal(err)
	}
	e := newEngine(1, cacheChoice{memoryOnly: true})
	ctx, cancel := context.WithCancel(context.Background())
	started, stuck := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- e.run(ctx, func(context.Context, pdfium.Pdfium, *spares) error {
			close(started)
			<-stuck // a call into PDFium that does not return
			return nil
		})
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned run: err = %v, want context.Canceled", err)
	}
	if err := e.run(context.Background(), func(_ context.Context, p pdfium.Pdfium, _ *spares) error { return openHello(p) }); err != nil {
		t.Fatalf("the next run, with the only slot: %v", err)
	}
	close(stuck)
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	checkNoLeftovers(t)
}

// TestCloseEndsRunningLoads: Close cancels the context of running loads,
// which fail with ErrClosed, waits for them, and a later load starts the
// engine again.
func TestCloseEndsRunningLoads(t *testing.T) {
	e := newEngine(2, cacheChoice{memoryOnly: true})
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- e.run(context.Background(), func(ctx context.Context, _ pdfium.Pdfium, _ *spares) error {
			close(started)
			<-ctx.Done() // checks its context between two calls
			return ctx.Err()
		})
	}()
	<-started
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("running load: err = %v, want ErrClosed", err)
	}
	checkNoLeftovers(t)
	if err := e.run(context.Background(), func(_ context.Context, p pdfium.Pdfium, _ *spares) error { return openHello(p) }); err != nil {
		t.Fatalf("a load after Close: %v", err)
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	if err := e.close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	checkNoLeftovers(t)
}

// hello is the smallest PDF PDFium opens: one empty page.
const hello = "%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

// TestSparesUseFreeSlotsOnly: a running load gets a spare instance while
// a slot is free, and none, without waiting, once all are taken; the
// spare is another working instance.
func TestSparesUseFreeSlotsOnly(t *testing.T) {
	e := newEngine(2, cacheChoice{memoryOnly: true})
	release := make(chan struct{})
	err := e.run(context.Background(), func(ctx context.Context, p pdfium.Pdfium, spare *spares) error {
		wait, ok := spare.try(ctx, func(_ context.Context, q pdfium.Pdfium, _ *spares) error {
			<-release
			if q == p {
				return errors.New("the spare is the load's own instance")
			}
			return openHello(q)
		})
		if !ok {
			return errors.New("no spare with a slot free")
		}
		if _, ok := spare.try(ctx, func(context.Context, pdfium.Pdfium, *spares) error { return nil }); ok {
			close(release)
			_ = wait()
			return errors.New("a spare beyond the engine's size")
		}
		close(release)
		return wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	checkNoLeftovers(t)
}
