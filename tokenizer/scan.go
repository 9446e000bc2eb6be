package tokenizer

import (
	"math/bits"
	"unicode/utf8"
)

// clMulti is the class byteClass gives the bytes of multi-byte runes: the
// rune must be decoded to be classed.
const clMulti uint8 = 4

// byteClass is asciiClass for the ASCII bytes and clMulti for the others:
// the scanner's loops class a byte with one load and no test of its range.
var byteClass = func() (t [256]uint8) {
	for c := range t {
		if c < utf8.RuneSelf {
			t[c] = asciiClass[c]
		} else {
			t[c] = clMulti
		}
	}
	return t
}()

// cl100kNext is cl100kNextSlow (the end of the pre-token of s that starts
// at i), with a fast path for the pre-tokens of ASCII prose: a word, a
// space and a word, a number, punctuation. It classes bytes by table and
// decodes no rune; whatever it is not sure of (a multi-byte rune where it
// would decide, an apostrophe, a line break, a run of white space) it
// hands to cl100kNextSlow from i, so the two give the same pre-tokens.
func cl100kNext(s string, i int) int {
	c0 := s[i]
	k0 := byteClass[c0]
	j := i + 1
	switch {
	case k0 == clLetter: // \p{L}+
		return letterRunEnd(s, j)
	case k0 == clMulti || c0 == '\'' || c0 == '\r' || c0 == '\n':
		return cl100kNextSlow(s, i)
	case k0 == clNumber: // \p{N}{1,3}
		for n := 1; n < 3 && j < len(s); n++ {
			k := byteClass[s[j]]
			if k == clMulti {
				return cl100kNextSlow(s, i) // maybe a number that is not ASCII
			}
			if k != clNumber {
				break
			}
			j++
		}
		return j
	}
	// c0 is ASCII white space other than a line break, or punctuation
	// other than an apostrophe.
	if j == len(s) {
		return j // one character at the end: [^\s\p{L}\p{N}]+ or \s+
	}
	k1 := byteClass[s[j]]
	switch {
	case k1 == clLetter: // [^\r\n\p{L}\p{N}]\p{L}+
		return letterRunEnd(s, j+1)
	case k1 == clMulti:
		return cl100kNextSlow(s, i)
	case k0 == clOther, c0 == ' ' && k1 == clOther: // ' '?[^\s\p{L}\p{N}]+[\r\n]*
		return crlfEnd(s, runEnd(s, j, clOther))
	}
	return cl100kNextSlow(s, i) // white space, then not a letter
}

// letterRunEnd returns the end of the run of letters that starts at i,
// after a letter: ASCII letters eight at a time, then by table, and the
// rest of the run, from its first multi-byte rune, by runEnd.
func letterRunEnd(s string, i int) int {
	for i+8 <= len(s) {
		if m := nonLetters(le64(s[i:])); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if s[i] >= utf8.RuneSelf {
				return runEnd(s, i, clLetter)
			}
			return i
		}
		i += 8
	}
	for i < len(s) {
		switch byteClass[s[i]] {
		case clLetter:
			i++
			continue
		case clMulti:
			return runEnd(s, i, clLetter)
		}
		return i
	}
	return i
}

// nonLetters returns the bytes of x (eight bytes of text, little-endian)
// that are not ASCII letters, as their high bits: a byte b below 0x80 is a
// letter if b|0x20 is in 'a'..'z', which adding 0x80-'a' and 0x80-'z'-1 to
// its low seven bits tells in their high bits, without a carry between
// bytes.
func nonLetters(x uint64) uint64 {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	low := (x | 0x20*ones) &^ high
	atLeastA := low + (0x80-'a')*ones
	pastZ := low + (0x80-'z'-1)*ones
	return ^(atLeastA &^ pastZ &^ x) & high
}
