package pdf

import (
	"strings"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
)

// glyph is one character PDFium found on a page, with its loose box (the
// font's ascent to descent, the glyph's advance), in PDF user space (y up).
type glyph struct {
	r                        rune
	left, right, bottom, top float32
}

// Thresholds of layoutText, in units of the glyphs' height (the font's
// ascent to descent, about its size).
const (
	// wordGap is the horizontal gap between two glyphs of a line above
	// which a word ends. It is the glyphs' positions, not the space
	// characters, that say where words end, as a reader sees them:
	// PDFium's own spaces come from the font's space width and the TJ
	// kerning, which some producers set so that they split words and join
	// others ("langu age", "purelyfunctional"), and some producers put
	// space characters where no gap is.
	wordGap = 0.12
	// spaceGap is the smallest gap at which a space character in the
	// text ends a word: one where the glyphs on its two sides touch is
	// not a space anyone sees.
	spaceGap = 0.05
	// lineOverlap is how much of the smaller glyph's height two glyphs
	// must share vertically to be on one line.
	lineOverlap = 0.5
)

// pageGlyphs reads the characters of text page tp in content order,
// without those PDFium generated (its guessed spaces and line breaks):
// real space characters are kept as ' ' with no box. PDFium's mark of a
// line-end hyphen becomes hyphenMark.
func pageGlyphs(p pdfium.Pdfium, tp references.FPDF_TEXTPAGE, n int) ([]glyph, error) {
	// One call for the whole page's text instead of one a character: it
	// has one rune per character index, except on pages PDFium could not
	// map a character of, where the slower way is taken.
	var text []rune
	if t, err := p.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp, Count: n}); err == nil {
		if rs := []rune(t.Text); len(rs) == n {
			text = rs
		}
	}
	gs := make([]glyph, 0, n)
	for i := range n {
		var r rune
		if text != nil {
			r = text[i]
		} else {
			u, err := p.FPDFText_GetUnicode(&requests.FPDFText_GetUnicode{TextPage: tp, Index: i})
			if err != nil {
				return nil, err
			}
			r = rune(u.Unicode)
		}
		switch r {
		case 0:
			continue
		case '\uFFFE':
			// GetText's mark for both a line-end hyphen and a character
			// with no Unicode mapping (GetUnicode's 2 and 0).
			r = hyphenMark
		case ' ', '\r', '\n', '\t', 0xA0, 0x3000:
			g, err := p.FPDFText_IsGenerated(&requests.FPDFText_IsGenerated{TextPage: tp, Index: i})
			if err != nil {
				return nil, err
			}
			if !g.IsGenerated {
				gs = append(gs, glyph{r: ' '})
			}
			continue
		}
		b, err := p.FPDFText_GetLooseCharBox(&requests.FPDFText_GetLooseCharBox{TextPage: tp, Index: i})
		if err != nil {
			return nil, err
		}
		gs = append(gs, glyph{r: r, left: b.Rect.Left, right: b.Rect.Right, bottom: b.Rect.Bottom, top: b.Rect.Top})
	}
	return gs, nil
}

// layoutText writes glyphs as lines of words: a glyph starts a new line
// when it is not next to the one before along a line, and a new word when
// the gap to the glyph before is wide, or a space character stands between
// them and they do not touch.
func layoutText(gs []glyph) string {
	var b strings.Builder
	b.Grow(len(gs) + len(gs)/4)
	var (
		prev  *glyph
		space bool
	)
	for i := range gs {
		g := &gs[i]
		if g.r == ' ' {
			space = true
			continue
		}
		if prev != nil {
			gap, size, ok := along(prev, g)
			switch {
			case !ok:
				b.WriteByte('\n')
			case gap > wordGap*size || space && gap > spaceGap*size:
				b.WriteByte(' ')
			}
		}
		b.WriteRune(g.r)
		prev, space = g, false
	}
	return b.String()
}

// along reports whether g follows p on one line of text, and then the gap
// between them along the line and the glyphs' size across it. Lines run
// left to right, and also, for text a matrix turned, right to left
// (upside down) and up or down the page (a rotated margin note, an axis
// label): PDFium gives such glyphs boxes wider than they are high.
func along(p, g *glyph) (gap, size float32, ok bool) {
	h := min(g.top-g.bottom, p.top-p.bottom)
	w := min(g.right-g.left, p.right-p.left)
	if h <= 0 || w <= 0 {
		return 0, 0, false
	}
	if min(g.top, p.top)-max(g.bottom, p.bottom) >= lineOverlap*h {
		switch {
		case g.right <= p.left+spaceGap*h:
			// Right to left, by no more than a word gap; further back is
			// the start of another line.
			return p.left - g.right, h, p.left-g.right < 2*h
		case g.left >= p.left-h:
			// Left to right, overlapping glyphs (ligature parts, fake bold)
			// included.
			return g.left - p.right, h, true
		}
		return 0, 0, false
	}
	turned := g.right-g.left > g.top-g.bottom && p.right-p.left > p.top-p.bottom
	if turned && min(g.right, p.right)-max(g.left, p.left) >= lineOverlap*w {
		size = max(g.right-g.left, p.right-p.left)
		if g.bottom >= p.bottom {
			gap = g.bottom - p.top // up the page
		} else {
			gap = p.bottom - g.top // down
		}
		if gap < 2*size {
			return gap, size, true
		}
	}
	return 0, 0, false
}
