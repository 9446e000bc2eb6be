package ingest

import (
	"fmt"
	"slices"
	"time"
)

// item is one text to embed, for one chunk of one job.
type item struct {
	j      *job
	i      int // index into j.records
	tokens int
	key    string // cache key
}

// batch is one embedding request.
type batch struct {
	items  []item
	texts  []string // distinct texts
	of     []int    // of[k]: index in texts of items[k]
	tokens int
}

// batcher packs items into requests within the batch limits. A batch is
// sent when full, when no more items will come, or when it has waited
// Linger for more.
func (s *Stream) batcher() {
	defer close(s.batches)
	var (
		cfg     = s.cfg
		cur     = s.newBatch()
		carry   item // an item that did not fit in cur, if carried
		carried bool
		seen    = map[string]int{}
		in      = s.items
		linger  = time.NewTimer(time.Hour)
		expired bool
	)
	linger.Stop()
	defer linger.Stop()
	add := func(it item) bool {
		text := it.j.records[it.i].Text
		k, dup := seen[text]
		if !dup {
			if len(cur.texts) >= cfg.BatchSize || (cfg.BatchTokens > 0 && len(cur.texts) > 0 && cur.tokens+it.tokens > cfg.BatchTokens) {
				return false
			}
			k = len(cur.texts)
			seen[text] = k
			cur.texts = append(cur.texts, text)
			cur.tokens += it.tokens
		}
		cur.items = append(cur.items, it)
		cur.of = append(cur.of, k)
		if len(cur.items) == 1 {
			linger.Reset(cfg.Linger)
			expired = false
		}
		return true
	}
	for {
		full := carried || len(cur.texts) >= cfg.BatchSize
		var send chan<- *batch
		if len(cur.items) > 0 && (full || expired || in == nil) {
			send = s.batches
		}
		recv := in
		if full {
			recv = nil
		}
		if recv == nil && send == nil {
			return // input closed and nothing left
		}
		if send == nil {
			// Items come in bursts: take one that is there without a
			// select of four cases (a tenth of the engine's own time).
			select {
			case it, ok := <-recv:
				if !ok {
					in = nil
				} else if !add(it) {
					carry, carried = it, true
				}
				continue
			default:
			}
		}
		select {
		case it, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			if !add(it) {
				// A value, not &it: that would put every item received
				// on the heap.
				carry, carried = it, true
			}
		case send <- cur:
			cur = s.newBatch()
			clear(seen)
			linger.Stop()
			expired = false
			if carried {
				add(carry)
				carry, carried = item{}, false
			}
		case <-linger.C:
			expired = true
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *Stream) newBatch() *batch {
	return &batch{items: make([]item, 0, s.cfg.BatchSize), texts: make([]string, 0, s.cfg.BatchSize)}
}

// requestWorker embeds batches and hands complete documents to the writer.
func (s *Stream) requestWorker() {
	for b := range s.batches {
		s.embedBatch(b)
		if s.ctx.Err() != nil {
			return
		}
	}
}

// embedBatch embeds one batch. A batch that fails with a permanent error
// is split in two and each half tried again, so one bad input fails only
// its own document.
func (s *Stream) embedBatch(b *batch) {
	s.tokens.Add(int64(b.tokens))
	vecs, requests, err := s.cfg.Embed(s.ctx, b.texts, b.tokens)
	s.requests.Add(int64(requests))
	if requests > 1 {
		s.retries.Add(int64(requests - 1))
	}
	if s.ctx.Err() != nil {
		return
	}
	if err != nil {
		if len(b.texts) > 1 && s.cfg.Permanent(err) {
			left, right := b.split()
			s.embedBatch(left)
			s.embedBatch(right)
			return
		}
		for _, it := range b.items {
			s.fail(it.j, fmt.Errorf("embedding: %w", err))
		}
		return
	}
	var n int64
	for _, t := range b.texts {
		n += int64(len(t))
	}
	s.embeddedChunks.Add(int64(len(b.items)))
	s.embeddedBytes.Add(n)
	if s.cfg.Progress != nil {
		defer s.cfg.Progress()
	}
	// Each record owns its vector: the store may scale it in place (see
	// write) once its document goes to the writer, which may be within
	// this loop. A vector several records share (a text of several
	// chunks, or an answer that gives several texts one slice) is copied
	// for all but the last of them, so that no copy reads a vector handed
	// over. Check rejected empty vectors.
	last := make(map[*float32]int, len(vecs))
	for k := range b.items {
		last[&vecs[b.of[k]][0]] = k
	}
	for k, it := range b.items {
		v := vecs[b.of[k]]
		if last[&v[0]] != k {
			v = slices.Clone(v)
		}
		if it.key != "" && s.cfg.Cache != nil {
			s.cfg.Cache.Put(s.ctx, it.key, v)
		}
		if it.j.settled.Load() {
			continue // the document already failed
		}
		it.j.records[it.i].Vector = v
		if it.j.pending.Add(-1) == 0 {
			if !s.toWriter(it.j) {
				return
			}
		}
	}
}

// split halves a batch by distinct texts.
func (b *batch) split() (*batch, *batch) {
	mid := len(b.texts) / 2
	left, right := &batch{}, &batch{}
	left.texts, right.texts = b.texts[:mid], b.texts[mid:]
	for k, it := range b.items {
		t := b.of[k]
		if t < mid {
			left.items, left.of, left.tokens = append(left.items, it), append(left.of, t), left.tokens+it.tokens
		} else {
			right.items, right.of, right.tokens = append(right.items, it), append(right.of, t-mid), right.tokens+it.tokens
		}
	}
	return left, right
}
