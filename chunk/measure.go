package chunk

import (
	"context"
	"math"

	"github.com/ragkit-go/rag/tokenizer"
)

// maxText is the longest text chunkers accept: offsets are kept as int32.
const maxText = math.MaxInt32

// measure counts tokens of ranges of one text. It belongs to one Chunk
// call: it is not safe for concurrent use.
type measure struct {
	text    string
	ends    []int32 // token end offsets, ascending, last == len(text)
	count   func(s, e int) int
	hint    int             // the index search found last
	counted [2]countedRange // the last ranges exact counted, latest first
	// The last answer of reach, for reachS and reachN, if reached.
	reached                bool
	reachS, reachN, reachE int
}

// newMeasure tokenizes text once; it fails only with ctx's error.
func newMeasure(ctx context.Context, tok tokenizer.Tokenizer, text string) (*measure, error) {
	m := &measure{text: text}
	var err error
	if m.ends, m.count, err = tokenizer.IndexContext(ctx, tok, text); err != nil {
		return nil, err
	}
	return m, nil
}

// search returns the index of the first token ending at or after off.
// Chunkers search near where they searched last (they walk the text
// forwards), so it gallops out from the index it found last, then
// bisects: a few probes near the last, instead of a cold binary search
// of millions of tokens a piece.
func (m *measure) search(off int) int {
	o := int32(off)
	n := len(m.ends)
	h := min(m.hint, n)
	var lo, hi int // the answer is in [lo, hi]
	if h < n && m.ends[h] < o {
		// Forwards: the answer is after h.
		lo, hi = h+1, n
		for step := 1; h+step < n; step *= 2 {
			if m.ends[h+step] >= o {
				hi = h + step
				break
			}
			lo = h + step + 1
		}
	} else {
		// Backwards: the answer is at or before h.
		lo, hi = 0, h
		for step := 1; h-step >= 0; step *= 2 {
			if m.ends[h-step] < o {
				lo = h - step + 1
				break
			}
			hi = h - step
		}
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.ends[mid] < o {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	m.hint = lo
	return lo
}

// approx is the number of tokens of the whole text's encoding that overlap
// text[s:e]. It is what the chunkers plan with; exact checks the result.
func (m *measure) approx(s, e int) int {
	if s >= e {
		return 0
	}
	lo := m.search(s + 1) // first token ending after s
	hi := m.search(e)     // first token ending at or after e
	if hi >= len(m.ends) {
		hi = len(m.ends) - 1
	}
	return hi - lo + 1
}

// reach returns the end up to which ranges from s hold at most n tokens
// by approx: for every e > s, approx(s, e) <= n if and only if e <= reach
// (math.MaxInt: every range from s does). Packing asks it once a chunk
// instead of approx once a piece.
func (m *measure) reach(s, n int) int {
	if m.reached && s == m.reachS && n == m.reachN {
		return m.reachE
	}
	lo := m.search(s + 1) // first token ending after s
	k := lo + n - 1       // the last token a range from s may reach
	r := math.MaxInt
	switch {
	case k < lo:
		r = s // n <= 0: no range fits
	case k < len(m.ends)-1:
		r = int(m.ends[k])
	}
	m.reached, m.reachS, m.reachN, m.reachE = true, s, n, r
	return r
}

// exact is the number of tokens of text[s:e] encoded on its own. The
// counts of the last two ranges are kept: chunkers often count a range
// twice (a window checked, its overlap checked, then the window emitted).
func (m *measure) exact(s, e int) int {
	if s >= e {
		return 0
	}
	for _, c := range &m.counted {
		if c.s == s && c.e == e {
			return c.n
		}
	}
	n := m.count(s, e)
	m.counted[1], m.counted[0] = m.counted[0], countedRange{s, e, n}
	return n
}

// countedRange is a range text[s:e] that exact counted, and its count
// (e == 0: none).
type countedRange struct{ s, e, n int }

// tokenIndex returns the number of tokens that end at or before off.
func (m *measure) tokenIndex(off int) int { return m.search(off + 1) }
