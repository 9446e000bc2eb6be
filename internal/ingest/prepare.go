package ingest

import (
	"context"
	"fmt"
	"maps"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/store"
)

// hashBatch is the most documents whose stored hashes are read at once.
const hashBatch = 32

// chunkWorker validates, hashes and chunks documents, takes what it can
// from the cache and hands the rest to the batcher.
func (s *Stream) chunkWorker() {
	// Enrichment calls a model for each document: a group would run its
	// calls one after another, so then each worker takes one document at
	// a time and the workers run them concurrently.
	size := hashBatch
	if s.cfg.Enrich != nil {
		size = 1
	}
	group := make([]*job, 0, size)
	for j := range s.jobs {
		// Take the jobs that are ready too, so one Hashes call serves
		// them all (one query instead of many, for a database store).
		group = append(group[:0], j)
	more:
		for len(group) < size {
			select {
			case j, ok := <-s.jobs:
				if !ok {
					break more
				}
				group = append(group, j)
			default:
				break more
			}
		}
		if !s.prepareGroup(group) {
			return
		}
	}
}

// prepareGroup validates, hashes and checks a group of jobs against the
// store's hashes, then chunks and dispatches the changed ones. A job that
// must wait for an earlier one with its ID reads its hash after that wait.
// It reports false when the stream was cancelled.
func (s *Stream) prepareGroup(group []*job) bool {
	ctx := s.ctx
	ids := make([]string, 0, len(group))
	ready := make([]bool, len(group))
	for i, j := range group {
		if j.wait != nil {
			continue
		}
		if err := s.check(j); err != nil {
			s.fail(j, err)
			continue
		}
		ready[i] = true
		ids = append(ids, j.doc.ID)
	}
	var have map[string]string
	if len(ids) > 0 {
		var err error
		if have, err = s.cfg.Store.Hashes(ctx, ids...); err != nil {
			if ctx.Err() != nil {
				return false
			}
			for i, j := range group {
				if ready[i] {
					s.fail(j, fmt.Errorf("reading stored hash: %w", err))
					ready[i] = false
				}
			}
		}
	}
	for i, j := range group {
		if j.wait != nil {
			select {
			case <-j.wait:
			case <-ctx.Done():
				return false
			}
			if err := s.check(j); err != nil {
				s.fail(j, err)
				continue
			}
			h, err := s.cfg.Store.Hashes(ctx, j.doc.ID)
			if err != nil {
				if ctx.Err() != nil {
					return false
				}
				s.fail(j, fmt.Errorf("reading stored hash: %w", err))
				continue
			}
			have, ready[i] = h, true
		}
		if !ready[i] {
			continue
		}
		if ctx.Err() != nil {
			return false
		}
		stored, ok := have[j.doc.ID]
		if err := s.prepare(j, ok && stored == j.hash); err != nil {
			if ctx.Err() != nil {
				return false
			}
			s.fail(j, err)
			continue
		}
		if j.records == nil { // unchanged
			s.settle(j, Result{ID: j.doc.ID, Status: Unchanged})
			continue
		}
		if !s.dispatch(j) {
			return false
		}
	}
	return true
}

// check validates the document and computes its content hash.
func (s *Stream) check(j *job) error {
	d := &j.doc
	if err := document.Validate(d); err != nil {
		return err
	}
	j.hash = document.Hash(d, s.cfg.HashSalts...)
	return nil
}

// prepare chunks a checked document, unless the store already holds this
// version (unchanged), in which case it leaves j.records nil.
func (s *Stream) prepare(j *job, unchanged bool) error {
	d := &j.doc
	if unchanged {
		if l := s.cfg.Lexical; l != nil {
			if lh, ok := l.Hash(d.ID); !ok || lh != j.hash {
				// The store has this version but the lexical index does
				// not: chunk it again (no embedding) to repair the index.
				if err := s.chunk(j); err != nil {
					return err
				}
				if err := l.Upsert(store.StoredDocument{ID: d.ID, Hash: j.hash, Records: j.records}); err != nil {
					return fmt.Errorf("lexical index: %w", err)
				}
				j.records = nil
			}
		}
		return nil
	}
	if err := s.chunk(j); err != nil {
		return err
	}
	if s.cfg.Enrich != nil {
		recs, tokens, err := s.cfg.Enrich(s.ctx, d, j.records, j.tokens)
		if err != nil {
			return fmt.Errorf("enriching: %w", err)
		}
		j.records, j.tokens = recs, tokens
	}
	return nil
}

// chunk splits the document into records without vectors.
func (s *Stream) chunk(j *job) error {
	d := &j.doc
	chunks, err := s.cfg.Chunker(*d).Chunk(s.ctx, d.Content)
	if err != nil {
		return fmt.Errorf("chunking: %w", err)
	}
	if len(chunks) == 0 {
		return fmt.Errorf("%w: the chunker made no chunk", document.ErrEmptyContent)
	}
	j.records = make([]store.Record, len(chunks))
	j.tokens = make([]int, len(chunks))
	for i, c := range chunks {
		n := c.Tokens
		if n <= 0 {
			n = s.cfg.Tokenizer.Count(c.Text)
		}
		if s.cfg.MaxInputTokens > 0 && n > s.cfg.MaxInputTokens {
			return fmt.Errorf("chunk %d has %d tokens, the model takes %d: %w", i, n, s.cfg.MaxInputTokens, embed.ErrInputTooLong)
		}
		j.tokens[i] = n
		meta := d.Metadata
		span, inSpan := document.SpanAt(d.Spans, c.Start)
		if len(c.Headings) > 0 || inSpan {
			// The chunk's own section and page, as metadata it can be
			// filtered on.
			meta = make(map[string]any, len(d.Metadata)+3)
			maps.Copy(meta, d.Metadata)
			if len(c.Headings) > 0 {
				meta[document.MetaHeadings] = c.Headings
			}
			if inSpan {
				meta[document.MetaSpanKind], meta[document.MetaSpanLabel] = span.Kind, span.Label
			}
		}
		j.records[i] = store.Record{
			ID: document.RecordID(d.ID, i), DocID: d.ID, Chunk: i, Start: c.Start, End: c.End, Text: c.Text,
			Title: d.Title, Source: d.Source, Tags: d.Tags, Metadata: meta,
		}
	}
	return nil
}

// dispatch fills vectors from the cache and sends the remaining chunks to
// the batcher, holding pending-chunk budget for them. It reports false when
// the stream was cancelled.
func (s *Stream) dispatch(j *job) bool {
	n := len(j.records) // chunks to embed
	var missing []item  // with a cache, those it did not have
	if s.cfg.Cache != nil {
		for i := range j.records {
			it := item{j: j, i: i, tokens: j.tokens[i]}
			it.key = embed.CacheKey(s.cfg.Model, j.records[i].Text)
			if v, ok := s.cfg.Cache.Get(s.ctx, it.key); ok && s.cfg.Dimension.OK(len(v)) {
				j.records[i].Vector = v
				s.cached.Add(1)
				continue
			}
			missing = append(missing, it)
		}
		n = len(missing)
	}
	j.pending.Store(int32(n))
	if n == 0 {
		return s.toWriter(j)
	}
	j.weight = min(int64(n), int64(s.cfg.MaxPendingChunks))
	if err := s.pending.Acquire(s.ctx, j.weight); err != nil {
		j.weight = 0
		return false
	}
	if s.cfg.Cache == nil {
		for i := range j.records {
			if !send(s.ctx, s.items, item{j: j, i: i, tokens: j.tokens[i]}) {
				return false
			}
		}
		return true
	}
	for _, it := range missing {
		if !send(s.ctx, s.items, it) {
			return false
		}
	}
	return true
}

func (s *Stream) toWriter(j *job) bool { return send(s.ctx, s.writes, j) }

// send sends v on ch and reports true, or reports false once ctx is done.
// It tries the channel alone first: the stages' channels mostly have
// room, and a select of two cases costs several times a plain send (a
// fifth of the engine's own time when every send was one).
func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	default:
	}
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}
