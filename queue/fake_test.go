package queue_test

import (
	"context"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/document"
)

// fakeIngester is an Ingester over a map: a document is "stored" with one
// chunk per line, Unchanged when its content is what the map holds.
type fakeIngester struct {
	mu        sync.Mutex
	docs      map[string]document.Document
	submitted map[string]int // Submit calls by ID
	deleted   map[string]int
	fail      func(d document.Document, call int) error // nil: never fails
	wg        sync.WaitGroup
}

func newFake() *fakeIngester {
	return &fakeIngester{docs: map[string]document.Document{}, submitted: map[string]int{}, deleted: map[string]int{}}
}

func (f *fakeIngester) Submit(ctx context.Context, d document.Document, done func(document.Result)) error {
	f.mu.Lock()
	f.submitted[d.ID]++
	call := f.submitted[d.ID]
	f.mu.Unlock()
	f.wg.Go(func() {
		res := document.Result{ID: d.ID}
		f.mu.Lock()
		switch {
		case f.fail != nil && f.fail(d, call) != nil:
			res.Status, res.Err = document.Failed, &document.Error{DocID: d.ID, Err: f.fail(d, call)}
		case document.Validate(&d) != nil:
			res.Status, res.Err = document.Failed, &document.Error{DocID: d.ID, Err: document.Validate(&d)}
		case f.docs[d.ID].Content == d.Content:
			res.Status = document.Unchanged
		default:
			f.docs[d.ID] = d
			res.Status, res.Chunks = document.Stored, strings.Count(d.Content, "\n")+1
		}
		f.mu.Unlock()
		done(res)
	})
	return nil
}

func (f *fakeIngester) Delete(ctx context.Context, ids ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.docs, id)
		f.deleted[id]++
	}
	return nil
}

func (f *fakeIngester) doc(id string) (document.Document, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.docs[id]
	return d, ok
}

func (f *fakeIngester) calls(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.submitted[id]
}
