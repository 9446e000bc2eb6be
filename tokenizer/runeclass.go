package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The pre-tokenizer's class of every code point (clLetter, clNumber,
// clSpace or clOther, as classOf's unicode.IsLetter, IsNumber and IsSpace
// give it), in two levels: classBlock[r>>8] numbers the block of 256 code
// points r is in, and classBits holds each distinct block's classes, two
// bits a code point (32 to a word). Unicode has about 130 distinct blocks,
// so the tables take about 13 KB and stay in cache; a look-up is two loads
// and a shift, where unicode.IsLetter searches a range table (for random
// characters, a third of the scanner's time). Built at init from the
// range tables, in well under a millisecond (BenchmarkClassTable).
var classBlock, classBits = buildClassTable()

// classBlocks is the number of blocks of classBlock: the code points up to
// 0x13FFFF, the most decodeValid can give for a lead byte it accepts
// (beyond utf8.MaxRune only on text that is not valid UTF-8, whose
// classes are then clOther).
const classBlocks = 0x1400

func buildClassTable() (*[classBlocks]uint8, []uint64) {
	const wordsPerBlock = 256 / 32
	dense := make([]uint64, (utf8.MaxRune+1)/32)
	fill := func(lo, hi, stride uint32, c uint8) {
		all := uint64(c) * 0x5555555555555555 // c in each two bits
		for x := lo; x <= hi; x += stride {
			if stride == 1 && x%32 == 0 && hi-x >= 31 {
				dense[x/32] |= all // a whole word at once
				x += 31
				continue
			}
			dense[x/32] |= uint64(c) << (2 * (x % 32))
		}
	}
	set := func(t *unicode.RangeTable, c uint8) {
		for _, r := range t.R16 {
			fill(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride), c)
		}
		for _, r := range t.R32 {
			fill(r.Lo, r.Hi, r.Stride, c)
		}
	}
	// The general categories L and N and the property White_Space are
	// disjoint, so their bits never mix; IsSpace's Latin-1 spaces are
	// White_Space's too, and so are IsLetter's and IsNumber's Latin-1
	// letters and numbers L's and N's (TestClassTable checks every rune).
	set(unicode.White_Space, clSpace)
	set(unicode.N, clNumber)
	set(unicode.L, clLetter)
	blocks := new([classBlocks]uint8)
	var bits []uint64
	index := make(map[[wordsPerBlock]uint64]uint8)
	var prev [wordsPerBlock]uint64
	for b := range classBlocks {
		var key [wordsPerBlock]uint64
		if b*wordsPerBlock < len(dense) {
			copy(key[:], dense[b*wordsPerBlock:])
		}
		if b > 0 && key == prev {
			blocks[b] = blocks[b-1] // most blocks repeat the one before: no hashing
			continue
		}
		k, ok := index[key]
		if !ok {
			if len(index) == 256 {
				panic("tokenizer: more than 256 distinct blocks of character classes")
			}
			k = uint8(len(index))
			index[key] = k
			bits = append(bits, key[:]...)
		}
		blocks[b], prev = k, key
	}
	return blocks, bits
}

// runeClass returns the class of r (0 <= r < classBlocks<<8).
func runeClass(r rune) uint8 {
	w := classBits[int(classBlock[r>>8])<<3|int(r>>5&7)]
	return uint8(w>>(2*(r&31))) & 3
}

// leadInfo[c] describes a rune whose first byte is c: its length in the
// low three bits (0 if c never starts a rune: a continuation byte or a
// byte that is never in UTF-8) and the mask of the lead's payload bits
// above them.
var leadInfo = func() (t [256]uint16) {
	for c := range t {
		var n, mask int
		switch {
		case c < 0x80:
			n, mask = 1, 0x7f
		case c >= 0xc2 && c < 0xe0:
			n, mask = 2, 0x1f
		case c >= 0xe0 && c < 0xf0:
			n, mask = 3, 0x0f
		case c >= 0xf0 && c < 0xf5:
			n, mask = 4, 0x07
		}
		t[c] = uint16(mask<<3 | n)
	}
	return t
}()

// decodeValid returns the rune at s[i:] and its size, for valid UTF-8
// with at least four bytes from i (i+4 <= len(s)), or size 0 if s[i] does
// not start a rune. It trusts the bytes after the lead to be continuation
// bytes (the scanner's text is valid UTF-8) and has no branch on the
// rune's length, which in text of random characters is a branch
// mispredicted half of the time: the four bytes are assembled as if the
// rune were four bytes long and the surplus shifted out.
func decodeValid(s string, i int) (rune, int) {
	_ = s[i+3]
	info := leadInfo[s[i]]
	n := int(info & 7)
	v := uint32(s[i]&uint8(info>>3))<<18 | uint32(s[i+1]&0x3f)<<12 | uint32(s[i+2]&0x3f)<<6 | uint32(s[i+3]&0x3f)
	return rune(v >> (6 * uint(4-n))), n
}
