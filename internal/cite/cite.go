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
// the group and recorded as invalid, and a group left empty is removed with
// the white space before it. Text that may be the start of a group, and
// trailing white space, are held back until the next piece tells what they
// are, so the pieces written out are final.
//
// Bracketed text that is not a group of small numbers ("[sic]", "[2023]")
// is left as it is.
type Filter struct {
	n       int // passages, numbered 1..n
	held    string
	cited   []int // valid numbers, in order of first citation
	invalid []int // invalid numbers, in order of first citation
	seen    map[int]bool
}

// Limits of what counts as a citation group.
const (
	maxGroupLen    = 64  // bytes from '[' to ']'
	maxCiteNumber  = 999 // larger numbers are not citations (years, say)
	maxCitingRange = 50  // [1-50] at most
)

// New returns a filter for an answer over n passages, numbered 1 to n.
func New(n int) *Filter { return &Filter{n: n, seen: map[int]bool{}} }

// Cited returns the valid passage numbers, in order of first citation.
func (f *Filter) Cited() []int { return f.cited }

// Invalid returns the numbers cited that name no passage, in order of
// first citation.
func (f *Filter) Invalid() []int { return f.invalid }

// Write takes the next piece of text and returns the text that is final.
func (f *Filter) Write(s string) string {
	f.held += s
	var out strings.Builder
	for {
		i := strings.IndexByte(f.held, '[')
		if i < 0 {
			k := len(strings.TrimRight(f.held, " \t"))
			out.WriteString(f.held[:k])
			f.held = f.held[k:]
			return out.String()
		}
		// The white space before a group goes with the group.
		k := len(strings.TrimRight(f.held[:i], " \t"))
		out.WriteString(f.held[:k])
		f.held = f.held[k:]
		ws := i - k
		switch kind, n := scanGroup(f.held[ws:]); kind {
		case groupIncomplete:
			return out.String()
		case groupNone:
			out.WriteString(f.held[:ws+1])
			f.held = f.held[ws+1:]
		default:
			if r := f.rewrite(f.held[ws : ws+n]); r != "" {
				out.WriteString(f.held[:ws])
				out.WriteString(r)
			}
			f.held = f.held[ws+n:]
		}
	}
}

// Flush returns the text still held; the filter is then empty.
func (f *Filter) Flush() string {
	s := f.held
	f.held = ""
	return s
}

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
