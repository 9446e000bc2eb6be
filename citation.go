package rag

import (
	"strconv"

	"github.com/ragkit-go/rag/internal/cite"
)

// Location says where in its document the hit starts, as a reference
// does: "p. 12", "slide 4", "sheet Q3", a chapter's title. It is "" when
// the document had no Spans.
func (h Hit) Location() string { return cite.Locator(h.SpanKind, h.SpanLabel) }

// Citation is how an answer's reader sees the passage cited: its number,
// its document's title (its source when untitled) and Location:
// "[3] Annual report, p. 12".
func (p Passage) Citation() string {
	s := "[" + strconv.Itoa(p.N) + "]"
	name := p.Title
	if name == "" {
		name = p.Source
	}
	if name != "" {
		s += " " + name
	}
	if loc := p.Location(); loc != "" {
		if name != "" {
			s += ","
		}
		s += " " + loc
	}
	return s
}
