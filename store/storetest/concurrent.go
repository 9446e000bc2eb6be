package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/store"
)

// hotVersion returns version v of a hot document: 8 records when v is even,
// 3 when odd, with record IDs that differ between versions (so a stale
// record of an older version would be visible), every record tagged with
// the version and the record count in its metadata.
func (g *gen) hotVersion(id string, v int) store.StoredDocument {
	n := 8
	if v%2 == 1 {
		n = 3
	}
	d := g.doc(id, n)
	d.Hash = "v" + strconv.Itoa(v)
	for i := range d.Records {
		r := &d.Records[i]
		r.ID = fmt.Sprintf("%s/v%d/%d", id, v%3, i)
		r.Metadata = map[string]any{"version": float64(v), "count": float64(n)}
	}
	return d
}

// Search, Hashes, Upsert and Delete run concurrently (run with -race), and
// a reader always sees a document whole: every record it finds of a
// document belongs to one version, and a search filtered to that document
// finds all of that version's records.
func (s *suite) concurrent(t *testing.T) {
	st := s.newStore(t)
	g := newGen(t, s.dim)
	hot := []string{"hot-a", "hot-b"}
	for _, id := range hot {
		upsert(t, st, g.hotVersion(id, 0))
	}
	const writes = 60
	ctx := context.Background()

	// Each writer goroutine gets its own generator: rand.Rand is not safe
	// for concurrent use.
	gens := make([]*gen, len(hot)+1)
	for i := range gens {
		gens[i] = newGen(t, s.dim)
	}
	queries := make([][]float32, 16)
	for i := range queries {
		queries[i] = g.vector()
	}

	done := make(chan struct{})
	var writers, readers sync.WaitGroup
	for i, id := range hot {
		writers.Go(func() {
			for v := 1; v <= writes; v++ {
				if err := st.Upsert(ctx, []store.StoredDocument{gens[i].hotVersion(id, v)}); err != nil {
					t.Errorf("Upsert %s v%d: %v", id, v, err)
					return
				}
			}
		})
	}
	writers.Go(func() { // cold documents come and go
		gc := gens[len(hot)]
		for i := range writes {
			id := fmt.Sprintf("cold-%d", i%5)
			if i%3 == 2 {
				if err := st.Delete(ctx, id); err != nil {
					t.Errorf("Delete %s: %v", id, err)
					return
				}
				continue
			}
			if err := st.Upsert(ctx, []store.StoredDocument{gc.doc(id, 1+i%4)}); err != nil {
				t.Errorf("Upsert %s: %v", id, err)
				return
			}
		}
	})

	checkWhole := func(rs []store.Result, full bool) error {
		version := map[string]float64{}
		count := map[string]int{}
		for _, r := range rs {
			if !strings.HasPrefix(r.DocID, "hot-") {
				continue
			}
			v, _ := r.Metadata["version"].(float64)
			if old, ok := version[r.DocID]; ok && old != v {
				return fmt.Errorf("document %s seen at versions %v and %v in one search: %v", r.DocID, old, v, resultIDs(rs))
			}
			version[r.DocID] = v
			count[r.DocID]++
			if full {
				if want, _ := r.Metadata["count"].(float64); count[r.DocID] > int(want) {
					return fmt.Errorf("document %s version %v has %d records, found more: %v", r.DocID, v, int(want), resultIDs(rs))
				}
			}
		}
		if full {
			for id, n := range count {
				var want float64
				for _, r := range rs {
					if r.DocID == id {
						want, _ = r.Metadata["count"].(float64)
						break
					}
				}
				if n != int(want) {
					return fmt.Errorf("document %s version %v: found %d of its %d records: %v", id, version[id], n, int(want), resultIDs(rs))
				}
			}
		}
		return nil
	}

	for r := range 3 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				q := queries[(i+r)%len(queries)]
				id := hot[i%len(hot)]
				rs, err := st.Search(ctx, store.Query{Vector: q, TopK: 20, Filter: store.Eq(store.FieldDocID, id)})
				if err != nil {
					t.Errorf("Search: %v", err)
					return
				}
				if len(rs) == 0 {
					t.Errorf("document %s not found while being replaced", id)
					return
				}
				if err := checkWhole(rs, true); err != nil {
					t.Error(err)
					return
				}
				rs, err = st.Search(ctx, store.Query{Vector: q, TopK: 12})
				if err != nil {
					t.Errorf("Search: %v", err)
					return
				}
				if err := checkWhole(rs, false); err != nil {
					t.Error(err)
					return
				}
				h, err := st.Hashes(ctx, hot...)
				if err != nil {
					t.Errorf("Hashes: %v", err)
					return
				}
				if len(h) != len(hot) {
					t.Errorf("Hashes(%v) = %v while the documents are being replaced", hot, h)
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()

	for _, id := range hot {
		rs := search(t, st, store.Query{Vector: g.vector(), TopK: all, Filter: store.Eq(store.FieldDocID, id)})
		if err := checkWhole(rs, true); err != nil {
			t.Error(err)
		}
		if len(rs) == 0 || rs[0].Metadata["version"] != float64(writes) {
			t.Errorf("after the writers finished, %s is not at version %d: %v", id, writes, resultIDs(rs))
		}
	}
}
