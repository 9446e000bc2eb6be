package document

import (
	"fmt"
	"unicode/utf8"
)

// Span marks where one part of a document's content came from in its
// source file: a PDF page, a slide, a sheet, a chapter. Loaders set them
// so that chunks, hits and citations can say "p. 12".
type Span struct {
	// Kind says what the part is: one of the Span* constants, or a
	// loader's own word for it.
	Kind string
	// Label is how a reader cites the part: "12" for page 12, a sheet's
	// name, a chapter's title.
	Label string
	// Start and End are byte offsets into Content: the part's text is
	// Content[Start:End].
	Start, End int
}

// Kinds of Span the module's loaders produce.
const (
	SpanPage    = "page"
	SpanSlide   = "slide"
	SpanSheet   = "sheet"
	SpanChapter = "chapter"
	SpanSection = "section"
)

// checkSpans reports whether spans are in order, do not overlap, lie within
// content and start and end on rune boundaries.
func checkSpans(content string, spans []Span) error {
	prev := 0
	for i, s := range spans {
		if s.Start < prev || s.End < s.Start || s.End > len(content) {
			return fmt.Errorf("%w: span %d [%d, %d) is out of order, overlaps the one before or lies outside the content (%d bytes)", ErrInvalidDocument, i, s.Start, s.End, len(content))
		}
		if !runeStart(content, s.Start) || !runeStart(content, s.End) {
			return fmt.Errorf("%w: span %d [%d, %d) splits a UTF-8 sequence", ErrInvalidDocument, i, s.Start, s.End)
		}
		if !utf8.ValidString(s.Kind) || !utf8.ValidString(s.Label) {
			return ErrInvalidUTF8
		}
		prev = s.End
	}
	return nil
}

func runeStart(s string, i int) bool {
	return i == len(s) || utf8.RuneStart(s[i])
}

// SpanAt returns the span holding byte offset off of the content, and
// whether there is one. spans must be valid (see Validate).
func SpanAt(spans []Span, off int) (Span, bool) {
	lo, hi := 0, len(spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if spans[m].End <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(spans) && spans[lo].Start <= off && off < spans[lo].End {
		return spans[lo], true
	}
	return Span{}, false
}
