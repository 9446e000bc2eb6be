package flat

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/store"
)

// blockRows is the number of rows a worker scores with one kernel call
// before it looks at the scores; small enough to keep the scores in L1.
const blockRows = 128

// ctxCheckBlocks is how many blocks a worker scans between two looks at the
// context.
const ctxCheckBlocks = 64

// Search implements store.Store. It validates the filter and the query
// vector, scans every row in parallel and returns the exact top-k (with
// Options.Quantize, the top-k of the re-scored candidates). The returned
// results are copies the caller owns.
func (s *Store) Search(ctx context.Context, q store.Query) ([]store.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := q.Filter.Validate(); err != nil {
		return nil, err
	}
	k := q.TopK
	if k <= 0 {
		k = store.DefaultTopK
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	if err := store.CheckVector(q.Vector, s.dim); err != nil {
		return nil, err
	}
	n := len(s.recs)
	if n == 0 {
		return []store.Result{}, nil
	}
	qn := make([]float32, s.dim)
	if inv := invNorm(q.Vector); inv != 0 {
		for i, x := range q.Vector {
			qn[i] = x * inv
		}
	}
	match := compileFilter(q.Filter)
	var hits []hit
	var err error
	if s.opts.Quantize {
		hits, err = s.searchQuantized(ctx, qn, k, match)
	} else {
		hits, err = s.scan(ctx, k, func(t *topK, lo, hi int) bool {
			return s.scanExact(ctx, t, qn, lo, hi, match)
		})
	}
	if err != nil {
		return nil, err
	}
	s.sortHits(hits)
	if len(hits) > k {
		hits = hits[:k]
	}
	out := make([]store.Result, len(hits))
	for i, h := range hits {
		r := store.CloneRecord(s.recs[h.row])
		r.Vector = slices.Clone(s.row(int(h.row)))
		out[i] = store.Result{Record: r, Score: h.score}
	}
	return out, nil
}

// row returns the vector of row r, aliasing the store.
func (s *Store) row(r int) []float32 {
	return s.vecs[r*s.dim : (r+1)*s.dim : (r+1)*s.dim]
}

// hit is a scored row.
type hit struct {
	score float32
	row   int32
}

// topK keeps the best k hits seen, as a min-heap whose root is the worst
// kept hit. Ranking is by score, higher first, then by record ID.
type topK struct {
	k    int
	h    []hit
	recs []store.Record
}

// worse reports whether a ranks below b.
func (t *topK) worse(a, b hit) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return t.recs[a.row].ID > t.recs[b.row].ID
}

// admits reports whether h would be kept.
func (t *topK) admits(h hit) bool {
	return len(t.h) < t.k || t.worse(t.h[0], h)
}

// push keeps h, dropping the worst hit when full. Call only if admits(h).
func (t *topK) push(h hit) {
	if len(t.h) < t.k {
		t.h = append(t.h, h)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	t.h[0] = h
	for i := 0; ; {
		m, l, r := i, 2*i+1, 2*i+2
		if l < len(t.h) && t.worse(t.h[l], t.h[m]) {
			m = l
		}
		if r < len(t.h) && t.worse(t.h[r], t.h[m]) {
			m = r
		}
		if m == i {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// full reports whether the heap holds k hits; its root is then the bar a
// new hit must clear.
func (t *topK) full() bool { return len(t.h) == t.k }

// sortHits orders hits best first: score descending, then record ID.
func (s *Store) sortHits(hits []hit) {
	slices.SortFunc(hits, func(a, b hit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(s.recs[a.row].ID, s.recs[b.row].ID)
	})
}

// scan splits the rows over the workers, runs fn on each range with its own
// top-k heap of capacity k, and returns the union of the heaps. fn returns
// false when the context was cancelled.
func (s *Store) scan(ctx context.Context, k int, fn func(t *topK, lo, hi int) bool) ([]hit, error) {
	n := len(s.recs)
	w := s.workers(n)
	heaps := make([]topK, w)
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		heaps[i] = topK{k: k, h: make([]hit, 0, min(k, hi-lo)), recs: s.recs}
		run := func() { fn(&heaps[i], lo, hi) }
		if i == w-1 {
			run() // the calling goroutine takes the last range
		} else {
			wg.Go(run)
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []hit
	for i := range heaps {
		all = append(all, heaps[i].h...)
	}
	return all, nil
}

// scanExact scores rows [lo, hi) against the unit query qn with the float32
// kernel and keeps the matching rows that rank in the top k.
func (s *Store) scanExact(ctx context.Context, t *topK, qn []float32, lo, hi int, f matcher) bool {
	var scores [blockRows]float32
	d := s.dim
	for b, nb := lo, 0; b < hi; b, nb = b+blockRows, nb+1 {
		if nb%ctxCheckBlocks == ctxCheckBlocks-1 && ctx.Err() != nil {
			return false
		}
		e := min(b+blockRows, hi)
		out := scores[:e-b]
		dotRows(qn, s.vecs[b*d:e*d], d, out)
		inv := s.inv[b:e]
		for j, dot := range out {
			sc := clampScore(dot * inv[j])
			if t.full() && sc < t.h[0].score {
				continue
			}
			h := hit{sc, int32(b + j)}
			if !t.admits(h) || (f != nil && !f(&s.recs[b+j])) {
				continue
			}
			t.push(h)
		}
	}
	return true
}

// clampScore keeps a cosine inside [-1, 1] despite float32 rounding.
func clampScore(x float32) float32 {
	if x > 1 {
		return 1
	}
	if x < -1 {
		return -1
	}
	return x
}

// searchQuantized scans the int8 codes for k×Oversample candidates and
// re-scores them exactly.
func (s *Store) searchQuantized(ctx context.Context, qn []float32, k int, f matcher) ([]hit, error) {
	over := s.opts.Oversample
	if over == 0 {
		over = DefaultOversample
	}
	c := k * over
	if c/over != k || c > len(s.recs) { // overflow, or more than there is
		c = len(s.recs)
	}
	q16 := make([]int16, s.dim)
	qscale := quantizeQuery(q16, qn)
	cands, err := s.scan(ctx, c, func(t *topK, lo, hi int) bool {
		return s.scanCodes(ctx, t, q16, qscale, lo, hi, f)
	})
	if err != nil {
		return nil, err
	}
	var one [1]float32
	for i := range cands {
		row := int(cands[i].row)
		dotRows(qn, s.row(row), s.dim, one[:])
		cands[i].score = clampScore(one[0] * s.inv[row])
	}
	return cands, nil
}

// scanCodes is scanExact over the int8 codes, with approximate scores.
func (s *Store) scanCodes(ctx context.Context, t *topK, q16 []int16, qscale float32, lo, hi int, f matcher) bool {
	var dots [blockRows]int32
	d := s.dim
	for b, nb := lo, 0; b < hi; b, nb = b+blockRows, nb+1 {
		if nb%ctxCheckBlocks == ctxCheckBlocks-1 && ctx.Err() != nil {
			return false
		}
		e := min(b+blockRows, hi)
		out := dots[:e-b]
		dotRowsInt8(q16, s.codes[b*d:e*d], d, out)
		scales := s.scales[b:e]
		for j, dot := range out {
			sc := float32(dot) * qscale * scales[j]
			if t.full() && sc < t.h[0].score {
				continue
			}
			h := hit{sc, int32(b + j)}
			if !t.admits(h) || (f != nil && !f(&s.recs[b+j])) {
				continue
			}
			t.push(h)
		}
	}
	return true
}

// quantize writes the int8 codes of v·inv (v scaled to unit length) into
// codes and returns the scale: v·inv ≈ codes × scale. Codes lie in
// [-127, 127].
func quantize(codes []int8, v []float32, inv float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x*inv))))
	}
	if m == 0 {
		clear(codes)
		return 0
	}
	scale := m / 127
	for i, x := range v {
		codes[i] = int8(max(-127, min(127, math.Round(float64(x*inv/scale)))))
	}
	return scale
}

// quantizeQuery is quantize for a unit query, widened to int16 for the
// kernel.
func quantizeQuery(codes []int16, qn []float32) float32 {
	var m float32
	for _, x := range qn {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		clear(codes)
		return 0
	}
	scale := m / 127
	for i, x := range qn {
		codes[i] = int16(max(-127, min(127, math.Round(float64(x/scale)))))
	}
	return scale
}
