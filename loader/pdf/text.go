package pdf

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ligatures maps the Unicode ligature presentation forms (U+FB00–FB06)
// that some fonts' ToUnicode tables leave in the text to the letters they
// join, so that "ﬁnd" is found by a search for "find".
var ligatures = map[rune]string{
	'\uFB00': "ff", '\uFB01': "fi", '\uFB02': "fl", '\uFB03': "ffi",
	'\uFB04': "ffl", '\uFB05': "st", '\uFB06': "st",
}

// hyphenMark is the character PDFium puts in place of a hyphen it found
// at the end of a line (a hyphenated word broken across two lines).
const hyphenMark = '\u0002'

// cleanText turns the text PDFium extracts from a page into Content:
//   - line breaks (CR LF, CR, LF, the Unicode line and paragraph
//     separators) become LF, trailing blanks on a line go, and runs of
//     blank lines shrink to one;
//   - a word hyphenated at a line end is joined again ("exam-" then
//     "ple" on the next line gives "example") when the break is a soft
//     one: a letter before the hyphen and a lower-case letter starting
//     the next line; a hyphen before anything else ("non-" then "Euclidean",
//     "1990-" then "1995") stays, with the line break;
//   - ligatures become their letters, soft hyphens and the other
//     invisible format characters go, as do control characters, U+FFFD
//     (the replacement character, for glyphs with no Unicode mapping) and
//     private-use code points, which no reader or search can use;
//   - the result is valid UTF-8 with no leading or trailing white space.
func cleanText(raw string) string {
	lines := splitLines(raw)
	var b strings.Builder
	b.Grow(len(raw))
	blank := 0 // blank lines seen since the last text
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRightFunc(cleanLine(lines[i]), unicode.IsSpace)
		if strings.TrimSpace(line) == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			if blank > 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = 0
		// Join the following lines while this one ends in a soft break.
		for {
			stem, ok := softHyphenated(line)
			if !ok || i+1 >= len(lines) {
				break
			}
			next := strings.TrimRightFunc(cleanLine(lines[i+1]), unicode.IsSpace)
			trimmed := strings.TrimLeftFunc(next, unicode.IsSpace)
			r, _ := utf8.DecodeRuneInString(trimmed)
			if !unicode.IsLower(r) {
				break
			}
			line = stem + trimmed
			i++
		}
		b.WriteString(dropMarks(strings.TrimLeftFunc(line, unicode.IsSpace)))
	}
	return b.String()
}

// splitLines splits s at every line break PDFium or a producer may use.
func splitLines(s string) []string {
	return strings.Split(lineBreaks.Replace(s), "\n")
}

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n")

// softHyphenated reports whether line ends in a hyphen that breaks a word
// (a letter before it), and returns the line without it.
func softHyphenated(line string) (string, bool) {
	r, size := utf8.DecodeLastRuneInString(line)
	switch r {
	case '-', '\u2010', hyphenMark:
	default:
		return "", false
	}
	stem := line[:len(line)-size]
	if p, _ := utf8.DecodeLastRuneInString(stem); !unicode.IsLetter(p) {
		return "", false
	}
	return stem, true
}

// cleanLine maps ligatures to letters and drops what no reader can use
// from one line (or a metadata string): control and format characters
// (soft hyphens inside a line too), U+FFFD, private-use and unassigned
// code points, and invalid UTF-8. Tabs become spaces. Soft hyphens and
// PDFium's mark for a line-end hyphen become hyphenMark, for cleanText.
func cleanLine(s string) string {
	clean := true
	for _, r := range s {
		if r >= utf8.RuneSelf || r < ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == hyphenMark, r == '\u00AD':
			b.WriteRune(hyphenMark)
		case r == utf8.RuneError, r < ' ', unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r), r >= 0x7F && r < 0xA0:
		default:
			if l, ok := ligatures[r]; ok {
				b.WriteString(l)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// dropMarks removes the hyphen marks left in a line once soft breaks are
// joined: one ending the line (a break before an upper-case letter or a
// digit, or the page's last line) becomes a visible hyphen, the others
// (soft hyphens within a line) go.
func dropMarks(line string) string {
	if !strings.ContainsRune(line, hyphenMark) {
		return line
	}
	end := ""
	if strings.HasSuffix(line, string(hyphenMark)) {
		end = "-"
	}
	return strings.ReplaceAll(line, string(hyphenMark), "") + end
}
