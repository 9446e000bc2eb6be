package pdf

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"github.com/ragkit-go/rag/loader"
)

// page is one page's text, cleaned, and its label.
type page struct {
	text, label string
}

// sharedPages is the fewest pages a file must have for its load to ask
// for spare instances: a spare opens the file again and may have to start
// an instance first, which a few pages do not repay.
const sharedPages = 8

// readPages reads the n pages of doc, opened in p. While other slots of
// the engine are free it shares them out: each spare instance opens data
// too, and every instance takes the next page not yet taken, so one large
// file keeps the free cores busy and a busy engine reads it alone, as
// before. The text of a page does not depend on the instance that reads
// it.
func (l *Loader) readPages(ctx context.Context, p pdfium.Pdfium, doc references.FPDF_DOCUMENT, spare *spares, data []byte, n int) ([]page, error) {
	pages := make([]page, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	read := func(ctx context.Context, p pdfium.Pdfium, doc references.FPDF_DOCUMENT) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			raw, err := pageText(p, doc, i)
			if err != nil {
				cancel() // the others stop too
				return fmt.Errorf("%w: page %d: %w", loader.ErrMalformed, i+1, err)
			}
			pages[i] = page{text: cleanText(raw), label: pageLabel(p, doc, i)}
		}
	}
	var waits []func() error
	if n >= sharedPages {
		for range l.opts.Instances - 1 {
			wait, ok := spare.try(ctx, func(ctx context.Context, p pdfium.Pdfium, _ *spares) error {
				doc, err := l.open(p, data)
				if err != nil {
					return nil // the first instance opened it: it reads the pages alone
				}
				defer p.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc})
				return read(ctx, p, doc)
			})
			if !ok {
				break
			}
			waits = append(waits, wait)
		}
	}
	errs := []error{read(ctx, p, doc)}
	for _, wait := range waits {
		errs = append(errs, wait())
	}
	return pages, firstError(errs)
}

// firstError returns the error that stopped the instances reading a
// file: the first one that is not the cancellation it caused in the
// others.
func firstError(errs []error) error {
	var cancelled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			if cancelled == nil {
				cancelled = err
			}
		default:
			return err
		}
	}
	return cancelled
}
