package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Boundary finders. Each appends to cuts the offsets p, s < p < e, in
// increasing order, where text[s:e] may be cut at its level. Cuts fall at
// the end of a run of white space, so white space stays with the piece
// before it and pieces start with a non-space character.

// level finds the cut points of one separator level: those of text[s:e]
// that lie after from (s <= from < e), where from is s or a cut the level
// found in text[s:e] (its scan ends each cut at the cut, so it resumes
// there), stopping once cuts holds limit of them (limit <= 0: no limit).
// Taking the cuts of a long range in batches (from the last cut of one
// batch, limit cuts at a time) keeps a line of a million words from
// listing a million cuts at once.
type level func(text string, s, from, e int, cuts []int, limit int) []int

// allCuts returns every cut of text[s:e] at level lv, appended to cuts.
func allCuts(lv level, text string, s, e int, cuts []int) []int { return lv(text, s, s, e, cuts, 0) }

// isSpaceAt reports whether text[i:] starts with a white space rune
// (unicode.IsSpace), and its size. The text is valid UTF-8 (i may be
// inside a character: the size is then 1, as utf8.DecodeRuneInString
// says).
func isSpaceAt(text string, i int) (bool, int) {
	c := text[i]
	if c < utf8.RuneSelf {
		return asciiSpace[c], 1
	}
	if !spaceLead[c] {
		return false, runeLen(c)
	}
	r, n := utf8.DecodeRuneInString(text[i:])
	return unicode.IsSpace(r), n
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// Scanners look at the few bytes that can start what they look for and
// step over every other byte, rather than decoding each character: in
// valid UTF-8 a first byte is never inside another character, so they
// stop at the same characters as a scan character by character.

// leadBytes marks the first bytes of the UTF-8 encodings of runes.
func leadBytes(runes []rune) *[256]bool {
	var t [256]bool
	for _, r := range runes {
		t[string(r)[0]] = true
	}
	return &t
}

// whiteSpace lists the runes for which unicode.IsSpace is true: those of
// Unicode's White_Space property.
func whiteSpace() []rune {
	var rs []rune
	for _, r := range unicode.White_Space.R16 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			rs = append(rs, c)
		}
	}
	for _, r := range unicode.White_Space.R32 {
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			rs = append(rs, c)
		}
	}
	return rs
}

// spaceLead marks the bytes that can start a white space rune: the ASCII
// white space and the first bytes of U+0085, U+00A0, U+1680, U+2000 to
// U+205F and U+3000.
var spaceLead = leadBytes(whiteSpace())

// runeLen is the length of the character whose first byte is c in valid
// UTF-8 (1 for a byte inside a character).
func runeLen(c byte) int {
	switch {
	case c >= 0xf0:
		return 4
	case c >= 0xe0:
		return 3
	case c >= 0xc0:
		return 2
	}
	return 1
}

// spaceRuns calls fn for each maximal run text[a:b] of white space within
// text[from:e], with the number of '\n' it holds, until fn returns false.
func spaceRuns(text string, from, e int, fn func(a, b, newlines int) bool) {
	i := from
	for i < e {
		if !spaceLead[text[i]] {
			i++
			continue
		}
		sp, n := isSpaceAt(text, i)
		if !sp {
			i += n
			continue
		}
		a, nl := i, 0
		for i < e {
			sp, n := isSpaceAt(text, i)
			if !sp {
				break
			}
			if text[i] == '\n' {
				nl++
			}
			i += n
		}
		if !fn(a, i, nl) {
			return
		}
	}
}

// paragraphs cuts after blank lines: runs of white space holding two or
// more line feeds (so "\n\n" and "\r\n\r\n" alike).
func paragraphs(text string, s, from, e int, cuts []int, limit int) []int {
	return breakRuns(text, s, from, e, 2, cuts, limit)
}

// lines cuts after line breaks.
func lines(text string, s, from, e int, cuts []int, limit int) []int {
	return breakRuns(text, s, from, e, 1, cuts, limit)
}

// breakRuns cuts after each run of white space holding at least minNL
// line feeds, finding them from the line feeds (fast: IndexByte).
func breakRuns(text string, s, from, e, minNL int, cuts []int, limit int) []int {
	i := from
	for i < e {
		k := strings.IndexByte(text[i:e], '\n')
		if k < 0 {
			break
		}
		k += i
		a := k // the run's start
		for a > i {
			c := text[a-1]
			if c < utf8.RuneSelf {
				if !asciiSpace[c] {
					break
				}
				a--
				continue
			}
			r, n := utf8.DecodeLastRuneInString(text[i:a])
			if !unicode.IsSpace(r) {
				break
			}
			a -= n
		}
		b, nl := k, 0 // the run's end
		for b < e {
			sp, n := isSpaceAt(text, b)
			if !sp {
				break
			}
			if text[b] == '\n' {
				nl++
			}
			b += n
		}
		if nl >= minNL && a > s && b < e {
			if cuts = append(cuts, b); len(cuts) == limit {
				return cuts
			}
		}
		i = b
	}
	return cuts
}

// words cuts after every run of white space.
func words(text string, s, from, e int, cuts []int, limit int) []int {
	spaceRuns(text, from, e, func(a, b, _ int) bool {
		if b < e && a > s {
			cuts = append(cuts, b)
			return len(cuts) != limit
		}
		return true
	})
	return cuts
}

// isCloser reports whether r may follow a sentence end and still belong to
// the sentence: closing quotes and brackets.
func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '»', '”', '’', '」', '』', '）', '〕', '】', '》', '〉', '］', '｝':
		return true
	}
	return false
}

// isFullStop reports whether r ends a sentence without needing a following
// space: the CJK full-width sentence ends.
func isFullStop(r rune) bool {
	switch r {
	case '。', '！', '？', '｡':
		return true
	}
	return false
}

// sentenceEnds cuts after sentence ends: '.', '!' or '?' (and '…')
// followed by white space, or a CJK full stop (。！？) followed by anything;
// closing quotes and brackets after the mark stay with the sentence, and
// so does the white space after it. It does not look at abbreviations; the
// Sentence chunker does.
func sentenceEnds(text string, s, from, e int, cuts []int, limit int) []int {
	i := from
	for i < e {
		if !markLead[text[i]] {
			i++
			continue
		}
		r, n, ok := markAt(text, i)
		if !ok {
			i += n
			continue
		}
		j := skipClosers(text, i+n, e)
		k := skipSpace(text, j, e)
		if (k > j || isFullStop(r)) && k < e && k > s {
			if len(cuts) == 0 || cuts[len(cuts)-1] < k {
				if cuts = append(cuts, k); len(cuts) == limit {
					return cuts
				}
			}
		}
		i = k // k >= j >= i+n: progress
	}
	return cuts
}

// sentenceMarks are the runes markAt reports.
const sentenceMarks = ".!?…。！？｡"

// markLead marks the bytes that can start a sentence mark.
var markLead = leadBytes([]rune(sentenceMarks))

// markAt reports whether text[i:] starts with a sentence mark ('.', '!',
// '?', '…' or a CJK full stop), which rune it is and its length; when it
// does not, n is the length of the rune to step over.
func markAt(text string, i int) (r rune, n int, ok bool) {
	if c := text[i]; c < utf8.RuneSelf {
		return rune(c), 1, c == '.' || c == '!' || c == '?'
	}
	r, n = utf8.DecodeRuneInString(text[i:])
	return r, n, isFullStop(r) || r == '…'
}

// skipClosers returns the offset after the closing quotes and brackets
// that start at text[j:e].
func skipClosers(text string, j, e int) int {
	for j < e {
		r, n := utf8.DecodeRuneInString(text[j:])
		if !isCloser(r) {
			break
		}
		j += n
	}
	return j
}

// skipSpace returns the offset after the white space that starts at
// text[k:e].
func skipSpace(text string, k, e int) int {
	for k < e {
		sp, n := isSpaceAt(text, k)
		if !sp {
			break
		}
		k += n
	}
	return k
}

// literal returns a level that cuts after each occurrence of sep and the
// white space that follows it.
func literal(sep string) level {
	return func(text string, s, from, e int, cuts []int, limit int) []int {
		if sep == "" {
			return cuts
		}
		i := from
		for i < e {
			j := indexFrom(text[:e], sep, i)
			if j < 0 {
				break
			}
			k := skipSpace(text, j+len(sep), e)
			if k < e && k > s && (len(cuts) == 0 || cuts[len(cuts)-1] < k) {
				if cuts = append(cuts, k); len(cuts) == limit {
					return cuts
				}
			}
			if k == j {
				k++
			}
			i = k
		}
		return cuts
	}
}

func indexFrom(text, sep string, from int) int {
	if from >= len(text) {
		return -1
	}
	j := strings.Index(text[from:], sep)
	if j < 0 {
		return -1
	}
	return from + j
}

// trim returns the bounds of text[s:e] without leading and trailing white
// space. It returns s == e for a range of only white space.
func trim(text string, s, e int) (int, int) {
	for s < e {
		sp, n := isSpaceAt(text, s)
		if !sp {
			break
		}
		s += n
	}
	for e > s {
		c := text[e-1]
		if c < utf8.RuneSelf {
			if !asciiSpace[c] {
				break
			}
			e--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		e -= n
	}
	return s, e
}

// runeStart moves p back to the start of the rune it is in.
func runeStart(text string, p int) int {
	for p > 0 && p < len(text) && !utf8.RuneStart(text[p]) {
		p--
	}
	return p
}
