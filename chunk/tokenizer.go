package chunk

import (
	"sort"
	"strings"
	"sync"
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

// tokenEnds appends to dst the byte offset in text where each token ends.
func (runeTokenizer) tokenEnds(text string, dst []int) []int {
	for i := range text {
		if i > 0 {
			dst = append(dst, i)
		}
	}
	if len(text) > 0 {
		dst = append(dst, len(text))
	}
	return dst
}

// exactCount counts the tokens of text[s:e] (runes are context free).
func (runeTokenizer) countRange(text string, ends []int, s, e int) int {
	return utf8.RuneCountInString(text[s:e])
}

// spanner is implemented by tokenizers that can tell where their tokens end
// in the text more cheaply than Encode followed by decoding each token.
type spanner interface {
	// tokenEnds appends to dst the end offset of each token of text, in
	// order; the last one is len(text).
	tokenEnds(text string, dst []int) []int
}

// rangeCounter is implemented by tokenizers that can count the tokens of
// text[s:e] exactly, given ends = tokenEnds(text), faster than Count.
type rangeCounter interface {
	countRange(text string, ends []int, s, e int) int
}

// tokenLens caches, per Tokenizer, the byte length of each token id.
var tokenLens sync.Map // Tokenizer -> *lenCache

type lenCache struct {
	mu sync.RWMutex
	m  map[int]int
}

func (c *lenCache) get(tok Tokenizer, id int) int {
	c.mu.RLock()
	n, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return n
	}
	n = len(tok.Decode([]int{id}))
	c.mu.Lock()
	c.m[id] = n
	c.mu.Unlock()
	return n
}

// tokenEnds returns the end offset of each token of text under tok.
//
// For a tokenizer whose tokens decode one by one into the bytes they came
// from (byte-level BPE such as cl100k, and Runes) the offsets are exact. For
// any other tokenizer they are spread evenly over the text: chunkers use them
// only to choose where to cut, and check every chunk with Count.
func tokenEnds(tok Tokenizer, text string) []int {
	if len(text) == 0 {
		return nil
	}
	if s, ok := tok.(spanner); ok {
		return s.tokenEnds(text, make([]int, 0, len(text)/3+1))
	}
	ids := tok.Encode(text)
	if len(ids) == 0 {
		return []int{len(text)}
	}
	var c *lenCache
	if v, ok := tokenLens.Load(tok); ok {
		c = v.(*lenCache)
	} else {
		v, _ := tokenLens.LoadOrStore(tok, &lenCache{m: make(map[int]int)})
		c = v.(*lenCache)
	}
	ends := make([]int, len(ids))
	off := 0
	for i, id := range ids {
		off += c.get(tok, id)
		ends[i] = off
	}
	if off == len(text) {
		return ends
	}
	// Not byte-aligned: spread evenly.
	for i := range ends {
		ends[i] = int(int64(len(text)) * int64(i+1) / int64(len(ids)))
	}
	ends[len(ends)-1] = len(text)
	return ends
}

// measure counts tokens of ranges of one text.
type measure struct {
	tok  Tokenizer
	text string
	ends []int // token end offsets, ascending, last == len(text)
	rc   rangeCounter
}

func newMeasure(tok Tokenizer, text string) *measure {
	m := &measure{tok: tok, text: text, ends: tokenEnds(tok, text)}
	m.rc, _ = tok.(rangeCounter)
	return m
}

// approx is the number of tokens of the whole text's encoding that overlap
// text[s:e]. It is what the chunkers plan with; exact checks the result.
func (m *measure) approx(s, e int) int {
	if s >= e {
		return 0
	}
	lo := sort.SearchInts(m.ends, s+1) // first token ending after s
	hi := sort.SearchInts(m.ends, e)   // first token ending at or after e
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
	if m.rc != nil {
		return m.rc.countRange(m.text, m.ends, s, e)
	}
	return m.tok.Count(m.text[s:e])
}

// tokenIndex returns the number of tokens that end at or before off.
func (m *measure) tokenIndex(off int) int { return sort.SearchInts(m.ends, off+1) }
