package chunk

import (
	"math"
	"strings"
	"unicode/utf8"
)

// Runes returns a Tokenizer whose tokens are Unicode code points: Encode
// returns the runes of the text, Count its number of runes. Use it to size
// chunks in characters instead of model tokens.
//
// Decode(Encode(text)) == text for valid UTF-8 (the only text chunkers
// accept).
func Runes() Tokenizer { return runeTokenizer{} }

type runeTokenizer struct{}

func (runeTokenizer) Encode(text string) []int {
	out := make([]int, 0, len(text))
	for _, r := range text {
		out = append(out, int(r))
	}
	return out
}

func (runeTokenizer) Decode(tokens []int) string {
	var b strings.Builder
	b.Grow(len(tokens))
	for _, t := range tokens {
		b.WriteRune(rune(t))
	}
	return b.String()
}

func (runeTokenizer) Count(text string) int { return utf8.RuneCountInString(text) }

// index builds the token offsets of text, one entry per rune.
func (runeTokenizer) index(text string) (ends []int32, count func(s, e int) int) {
	ends = make([]int32, 0, len(text))
	for i := range text {
		if i > 0 {
			ends = append(ends, int32(i))
		}
	}
	if len(text) > 0 {
		ends = append(ends, int32(len(text)))
	}
	return ends, func(s, e int) int { return utf8.RuneCountInString(text[s:e]) }
}

// indexer is implemented by tokenizers that can tokenize a text once and
// then count the tokens of any range of it cheaply.
type indexer interface {
	// index returns the end offset of each token of text, in order (the
	// last is len(text)), and a function giving the exact number of tokens
	// of text[s:e] encoded on its own (what Count(text[s:e]) returns).
	index(text string) (ends []int32, count func(s, e int) int)
}

// genericIndex is index for any Tokenizer. For a tokenizer whose tokens
// decode one by one into the bytes they came from (byte-level BPE) the
// offsets are exact; for any other they are spread evenly over the text:
// chunkers use them only to choose where to cut, and check every chunk
// with Count.
func genericIndex(tok Tokenizer, text string) ([]int32, func(s, e int) int) {
	count := func(s, e int) int { return tok.Count(text[s:e]) }
	if len(text) == 0 {
		return nil, count
	}
	ids := tok.Encode(text)
	if len(ids) == 0 {
		return []int32{int32(len(text))}, count
	}
	lens := make(map[int]int)
	ends := make([]int32, len(ids))
	off := 0
	for i, id := range ids {
		n, ok := lens[id]
		if !ok {
			n = len(tok.Decode([]int{id}))
			lens[id] = n
		}
		off += n
		ends[i] = int32(min(off, len(text)))
	}
	if off != len(text) {
		for i := range ends {
			ends[i] = int32(int64(len(text)) * int64(i+1) / int64(len(ids)))
		}
	}
	ends[len(ends)-1] = int32(len(text))
	return ends, count
}

// maxText is the longest text chunkers accept: offsets are kept as int32.
const maxText = math.MaxInt32

// measure counts tokens of ranges of one text.
type measure struct {
	text  string
	ends  []int32 // token end offsets, ascending, last == len(text)
	count func(s, e int) int
}

func newMeasure(tok Tokenizer, text string) *measure {
	m := &measure{text: text}
	if ix, ok := tok.(indexer); ok {
		m.ends, m.count = ix.index(text)
	} else {
		m.ends, m.count = genericIndex(tok, text)
	}
	return m
}

// search returns the index of the first token ending at or after off.
func (m *measure) search(off int) int {
	o := int32(off)
	lo, hi := 0, len(m.ends)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if m.ends[h] < o {
			lo = h + 1
		} else {
			hi = h
		}
	}
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

// exact is the number of tokens of text[s:e] encoded on its own.
func (m *measure) exact(s, e int) int {
	if s >= e {
		return 0
	}
	return m.count(s, e)
}

// tokenIndex returns the number of tokens that end at or before off.
func (m *measure) tokenIndex(off int) int { return m.search(off + 1) }
