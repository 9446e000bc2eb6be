package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/ragkit-go/rag/store"
)

// Limits of one Upsert of a writer, and the number of writers. Two
// writers keep two Upserts in flight: while one waits for a persistent
// store's fsync, the other encodes its group, and their fsyncs may be
// shared. A document's records are in one Upsert; two versions of one ID
// are never in flight together (a later version waits until the earlier
// one settles before it is even hashed).
const (
	writeDocs    = 64
	writeRecords = 4096
	writers      = 2
)

// verifyTimeout bounds the look-up, after a write cut short by
// cancellation, of which documents the store holds.
const verifyTimeout = 10 * time.Second

// writer writes complete documents to the store, several per Upsert; it
// is one of the stream's writers.
func (s *Stream) writer() {
	var group []*job
	for {
		group = group[:0]
		j, ok := <-s.writes
		if !ok {
			return
		}
		group = append(group, j)
		n := len(j.records)
	drain:
		for len(group) < writeDocs && n < writeRecords {
			select {
			case j, ok := <-s.writes:
				if !ok {
					break drain
				}
				group = append(group, j)
				n += len(j.records)
			default:
				break drain
			}
		}
		s.write(group)
		if s.ctx.Err() != nil {
			// Drain so no sender is stuck; Close reports the jobs as
			// cancelled.
			for range s.writes {
			}
			return
		}
	}
}

func (s *Stream) write(group []*job) {
	docs := make([]store.StoredDocument, 0, len(group))
	live := group[:0:0]
	for _, j := range group {
		if !j.settled.Load() {
			docs = append(docs, store.StoredDocument{ID: j.doc.ID, Hash: j.hash, Records: j.records})
			live = append(live, j)
		}
	}
	if len(docs) == 0 {
		return
	}
	// The vectors are the pipeline's own, one a record (the embedder's
	// answers, which belong to the caller, made distinct by embedBatch,
	// or copies out of the cache), so the store may keep them instead of
	// copying them. After a success nothing reads them again (stored
	// reads the texts); after a failure they are as they were, for the
	// writes one by one below.
	err := store.UpsertTakingVectors(s.ctx, s.cfg.Store, docs)
	if err == nil {
		s.stored(live, docs)
		return
	}
	if s.ctx.Err() != nil {
		// Cut short by cancellation: the store holds whole documents only,
		// but perhaps some of these. Ask it which, so the report says
		// Stored exactly for the documents it holds.
		s.settleWritten(live)
		return
	}
	if len(live) == 1 {
		s.fail(live[0], fmt.Errorf("writing to the store: %w", err))
		return
	}
	// Find which documents the store refused by writing them one by one
	// (Upsert replaces whole documents, so writing one again is harmless).
	for _, j := range live {
		s.write([]*job{j})
	}
}

// stored settles the jobs whose documents (docs, in the same order) the
// store holds, and keeps the lexical index in step with one Upsert for all
// of them (for a persistent index, one log record and one fsync). A
// lexical failure does not fail the documents (the store holds them, and
// the next ingestion repairs the index): it is an error of the run.
func (s *Stream) stored(jobs []*job, docs []store.StoredDocument) {
	if l := s.cfg.Lexical; l != nil {
		if err := l.Upsert(docs...); err != nil {
			s.runError(fmt.Errorf("%d document(s) stored, but not in the lexical index: %w", len(docs), err))
		}
	}
	for _, j := range jobs {
		var n int64
		for _, r := range j.records {
			n += int64(len(r.Text))
		}
		s.writtenBytes.Add(n)
		s.settle(j, Result{ID: j.doc.ID, Status: Stored, Chunks: len(j.records)})
	}
}

// settleWritten settles, after a cancelled Upsert, the jobs whose version
// the store holds. The others are left to Close, which reports them as
// cancelled. If the store cannot say, they are reported as cancelled and
// the uncertainty is an error of the run.
func (s *Stream) settleWritten(jobs []*job) {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.doc.ID
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), verifyTimeout)
	defer cancel()
	have, err := s.cfg.Store.Hashes(ctx, ids...)
	if err != nil {
		s.runError(fmt.Errorf("after a cancelled write, reading which documents the store holds: %w", err))
		return
	}
	var held []*job
	var docs []store.StoredDocument
	for _, j := range jobs {
		if h, ok := have[j.doc.ID]; ok && h == j.hash {
			held = append(held, j)
			docs = append(docs, store.StoredDocument{ID: j.doc.ID, Hash: j.hash, Records: j.records})
		}
	}
	if len(held) > 0 {
		s.stored(held, docs)
	}
}
