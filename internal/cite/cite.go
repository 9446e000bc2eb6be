// Package cite finds and rewrites the citation markers of a model's answer
// ([1], [2, 3], [1-3]) as it streams, keeping the numbers that name a
// passage and removing those that do not.
package cite

import (
	"slices"
	"strconv"
	"strings"
)

// Filter rewrites the citation markers of a text that arrives in
// pieces. A marker is a group in square brackets of passage numbers, ranges
// and separators: [1], [2, 3], [1-3], [4; 5]. Numbers that name a passage
// (1 to n) are kept and recorded; numbers that name none are removed from
// the group and recorded as invalid. A group left empty is removed so that
// the prose stays clean: with the white space before it, with the white
// space after it at the start of a line, and with a separator that joined
// it to a citation kept before it ("[1] and [9]." becomes "[1].").
//
// Markdown code is never read: inside inline code (`os.Args[0]`) and
// fenced blocks (``` or ~~~) brackets are text. Bracketed text that is not
// a group of small numbers ("[sic]", "[2023]") is left as it is.
//
// Text that may be the start of a group, of a code marker or of a
// separator, and trailing white space, are held back until the next piece
// tells what they are, so the pieces written out are final.
type Filter struct {
	n        int // passages, numbered 1..n
	held     string
	cited    []int // valid numbers, in order of first citation
	invalid  []int // invalid numbers, in order of first citation
	seen     map[int]bool
	reported int // cited[:reported] were returned by NewlyCited

	lineStart bool // the next byte begins a line
	inline    int  // length of the backtick run that opened inline code; 0 outside
	fence     byte // '`' or '~' inside a fenced code block; 0 outside
	fenceLen  int  // length of the run that opened the block
	lastGroup int  // afterKept or afterRemoved: a group was the last prose read; 0 otherwise
	removed   bool // a group was just removed: the white space after it may go too
}

// Limits of what counts as a citation group.
const (
	maxGroupLen    = 64  // bytes from '[' to ']'
	maxCiteNumber  = 999 // larger numbers are not citations (years, say)
	maxCitingRange = 50  // [1-50] at most
)

// New returns a filter for an answer over n passages, numbered 1 to n.
func New(n int) *Filter { return &Filter{n: n, seen: map[int]bool{}, lineStart: true} }

// Cited returns the valid passage numbers, in order of first citation.
func (f *Filter) Cited() []int { return f.cited }

// NewlyCited returns the valid passage numbers first cited in the text
// written out since the last call, in order: the citations a stream can
// show as soon as their marker is final.
func (f *Filter) NewlyCited() []int {
	out := f.cited[f.reported:]
	f.reported = len(f.cited)
	return out
}

// Invalid returns the numbers cited that name no passage, in order of
// first citation.
func (f *Filter) Invalid() []int { return f.invalid }

// Write takes the next piece of text and returns the text that is final.
func (f *Filter) Write(s string) string {
	f.held += s
	return f.scan(false)
}

// Flush returns the text still held, decided as the end of the text; the
// filter is then empty.
func (f *Filter) Flush() string { return f.scan(true) }

// scan writes out what of the held text is decided; final says no more
// text comes, so everything is.
func (f *Filter) scan(final bool) string {
	var out strings.Builder
	h := f.held
	i := 0
	emit := func(j int) {
		if j > i {
			out.WriteString(h[i:j])
			f.lineStart = h[j-1] == '\n'
			i = j
		}
	}
	hold := func() string {
		f.held = h[i:]
		return out.String()
	}
	for i < len(h) {
		switch {
		case f.fence != 0:
			end := strings.IndexByte(h[i:], '\n')
			if f.lineStart {
				line := h[i:]
				if end >= 0 {
					line = h[i : i+end]
				} else if !final && fencePrefix(line, f.fence) {
					return hold()
				}
				if closesFence(line, f.fence, f.fenceLen) {
					f.fence = 0
				}
			}
			if end < 0 {
				emit(len(h))
			} else {
				emit(i + end + 1)
			}

		case f.inline > 0:
			j := strings.IndexAny(h[i:], "`\n")
			if j < 0 {
				emit(len(h))
				continue
			}
			j += i
			if h[j] == '\n' {
				// A blank line ends the paragraph, and an unclosed span.
				if j+1 == len(h) && !final {
					emit(j)
					return hold()
				}
				if j+1 < len(h) && h[j+1] == '\n' {
					f.inline = 0
				}
				emit(j + 1)
				continue
			}
			k := runLen(h[j:], '`')
			if j+k == len(h) && !final {
				emit(j)
				return hold()
			}
			if k == f.inline {
				f.inline = 0
			}
			emit(j + k)

		default:
			if f.removed {
				// The white space after a removed group goes too at the
				// start of a line, and before punctuation.
				j := i
				for j < len(h) && (h[j] == ' ' || h[j] == '\t') {
					j++
				}
				if j == len(h) && !final {
					return hold()
				}
				if f.lineStart || j < len(h) && strings.IndexByte(",.;:!?)", h[j]) >= 0 {
					i = j
				}
				f.removed = false
				continue
			}
			if f.lineStart {
				p := i
				for p < len(h) && p-i < 3 && h[p] == ' ' {
					p++
				}
				if p == len(h) && !final {
					return hold()
				}
				if p < len(h) && (h[p] == '`' || h[p] == '~') {
					k := runLen(h[p:], h[p])
					if p+k == len(h) && !final {
						return hold()
					}
					if k >= 3 {
						end := strings.IndexByte(h[p+k:], '\n')
						if end < 0 && !final {
							return hold()
						}
						f.fence, f.fenceLen, f.lastGroup = h[p], k, 0
						if end < 0 {
							emit(len(h))
						} else {
							emit(p + k + end + 1)
						}
						continue
					}
				}
			}
			if f.lastGroup != 0 {
				n, open := connector(h[i:])
				if open && !final {
					return hold()
				}
				if n > 0 && i+n < len(h) && h[i+n] == '[' {
					kind, gn := scanGroup(h[i+n:])
					if kind == groupIncomplete && !final {
						return hold()
					}
					if kind == groupFound {
						end := i + n + gn
						switch r := f.rewrite(h[i+n : end]); {
						case r == "":
							// The separator goes with the group.
						case f.lastGroup == afterRemoved:
							// Nothing to separate from: the separator
							// goes, a space stays if it had one.
							if strings.ContainsAny(h[i:i+n], " \t") {
								out.WriteByte(' ')
							}
							out.WriteString(r)
							f.lineStart, f.lastGroup = false, afterKept
						default:
							emit(i + n)
							out.WriteString(r)
							f.lineStart = false
						}
						i = end
						continue
					}
				}
				f.lastGroup = 0
			}
			j := strings.IndexAny(h[i:], "[`\n")
			if j < 0 {
				if final {
					emit(len(h))
				} else {
					emit(i + len(strings.TrimRight(h[i:], " \t")))
					return hold()
				}
				continue
			}
			j += i
			switch h[j] {
			case '\n':
				f.lastGroup = 0
				emit(j + 1)
			case '`':
				f.lastGroup = 0
				emit(j)
				k := runLen(h[j:], '`')
				if j+k == len(h) && !final {
					return hold()
				}
				f.inline = k
				emit(j + k)
			case '[':
				// The white space before a group goes with the group.
				k := i + len(strings.TrimRight(h[i:j], " \t"))
				if k > i {
					f.lastGroup = 0
				}
				emit(k)
				kind, gn := scanGroup(h[j:])
				switch {
				case kind == groupIncomplete && !final:
					return hold()
				case kind == groupFound:
					if r := f.rewrite(h[j : j+gn]); r != "" {
						emit(j)
						out.WriteString(r)
						f.lineStart, f.lastGroup = false, afterKept
					} else {
						f.removed, f.lastGroup = true, afterRemoved
					}
					i = j + gn
				default:
					f.lastGroup = 0
					emit(j + 1)
				}
			}
		}
	}
	f.held = ""
	return out.String()
}

// runLen returns the length of the run of c that starts s.
func runLen(s string, c byte) int {
	k := 0
	for k < len(s) && s[k] == c {
		k++
	}
	return k
}

// fencePrefix reports whether line, not yet complete, may still become a
// closing fence of c.
func fencePrefix(line string, c byte) bool {
	t := strings.TrimLeft(line, " ")
	return len(line)-len(t) <= 3 && strings.Trim(t, string(c)) == ""
}

// closesFence reports whether line closes a block opened by n of c: up to
// three spaces, at least n of c, then only white space.
func closesFence(line string, c byte, n int) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return false
	}
	k := runLen(t, c)
	return k >= n && strings.TrimSpace(t[k:]) == ""
}

// connector returns the length of the separator at the start of s that
// joins a citation to the next ("" , " and ", ", ", "; "), and whether
// more text could make it longer.
func connector(s string) (n int, open bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		return i, true
	}
	switch c := s[i]; {
	case c == ',' || c == ';' || c == '&':
		i++
	default:
		word := false
		for _, w := range []string{"and", "or"} {
			rest := s[i:]
			if len(rest) <= len(w) && strings.HasPrefix(w, rest) {
				return i, true
			}
			if strings.HasPrefix(rest, w) {
				if c := rest[len(w)]; c == ' ' || c == '\t' || c == '[' {
					i += len(w)
					word = true
					break
				}
			}
		}
		if !word {
			return i, false
		}
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i, i == len(s)
}

// Values of Filter.lastGroup.
const (
	afterKept = 1 + iota
	afterRemoved
)

const (
	groupNone = iota
	groupIncomplete
	groupFound
)

// scanGroup looks at s, which starts with '[', and reports whether it
// starts with a citation group (and its length), cannot, or may once more
// text arrives.
func scanGroup(s string) (kind, n int) {
	for j := 1; j < len(s); j++ {
		if j >= maxGroupLen {
			return groupNone, 0
		}
		c := s[j]
		switch {
		case c == ']':
			if _, ok := parseGroup(s[1:j]); ok {
				return groupFound, j + 1
			}
			return groupNone, 0
		case c >= '0' && c <= '9', c == ' ', c == ',', c == ';', c == '-',
			c == 0xe2, c == 0x80, c == 0x93: // the bytes of an en dash
		default:
			return groupNone, 0
		}
	}
	if len(s) >= maxGroupLen {
		return groupNone, 0
	}
	return groupIncomplete, 0
}

const enDash = "–"

// parseGroup parses the inside of a group: numbers and ranges separated by
// commas or semicolons. It reports false when it is not a citation group.
func parseGroup(s string) ([]int, bool) {
	s = strings.ReplaceAll(s, enDash, "-")
	var nums []int
	for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, ok := citeNumber(lo)
		if !ok {
			return nil, false
		}
		if !isRange {
			nums = append(nums, a)
			continue
		}
		b, ok := citeNumber(hi)
		if !ok || b < a || b-a > maxCitingRange {
			return nil, false
		}
		for k := a; k <= b; k++ {
			nums = append(nums, k)
		}
	}
	return nums, len(nums) > 0
}

func citeNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxCiteNumber {
		return 0, false
	}
	return n, true
}

// rewrite records the numbers of a group and returns the group as it
// stays in the text: unchanged when every number is valid, reduced to the
// valid ones otherwise, or "" when none is.
func (f *Filter) rewrite(group string) string {
	nums, _ := parseGroup(group[1 : len(group)-1])
	var valid []int
	for _, k := range nums {
		ok := k >= 1 && k <= f.n
		if ok && !slices.Contains(valid, k) {
			valid = append(valid, k)
		}
		if f.seen[k] {
			continue
		}
		f.seen[k] = true
		if ok {
			f.cited = append(f.cited, k)
		} else {
			f.invalid = append(f.invalid, k)
		}
	}
	switch {
	case len(valid) == 0:
		return ""
	case len(valid) == len(nums):
		return group
	}
	parts := make([]string, len(valid))
	for i, k := range valid {
		parts[i] = strconv.Itoa(k)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Strip removes every citation group from text, for answers kept
// in a conversation whose passage numbers mean nothing any more.
func Strip(text string) string {
	f := New(0)
	return f.Write(text) + f.Flush()
}
