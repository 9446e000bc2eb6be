package loader

import (
	"context"
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader/internal/mdwrite"
	"github.com/ragkit-go/rag/loader/internal/zipx"
)

// loadDOCX reads a Word document (Office Open XML): the body, then its
// footnotes and endnotes, as Markdown. Headings come from paragraph
// styles (a style named "heading N" or "Title", or an outline level),
// lists from the numbering definitions, tables as Markdown tables.
// Deleted text of tracked changes, field codes and the fallback copies of
// drawings are left out. Properties come from docProps/core.xml.
func loadDOCX(ctx context.Context, f *File) ([]document.Document, error) {
	a, err := openContainer(ctx, f)
	if err != nil {
		return nil, err
	}
	main, body, err := ooxmlMainPart(a, "word/document.xml")
	if err != nil {
		return nil, err
	}
	rels := packageRels(a, main)
	d := &docxReader{w: &mdwrite.Writer{}, styles: docxReadStyles(a, rels, main), numbering: docxReadNumbering(a, rels, main)}
	if err := d.read(ctx, main, body); err != nil {
		return nil, err
	}
	for _, kind := range []string{"/footnotes", "/endnotes"} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part, ok := relTarget(rels, main, kind)
		if !ok || !a.Has(part) {
			continue
		}
		b, err := readPart(a, part)
		if err != nil {
			return nil, err
		}
		if err := d.read(ctx, part, b); err != nil {
			return nil, err
		}
	}
	text := d.w.String()
	return officeDocument(mimeDOCX, ooxmlProperties(a), d.w.FirstHeading(), []officePart{{text: text}})
}

// docxStyle is what a paragraph style says about structure.
type docxStyle struct {
	heading int    // heading level, 0 for none
	numID   string // the list the style puts paragraphs in, "" for none
	ilvl    int
	ordered bool // the style's name says it is a numbered list
}

// docxStylesXML is word/styles.xml, as much as structure needs.
type docxStylesXML struct {
	Styles []struct {
		Type    string   `xml:"type,attr"`
		ID      string   `xml:"styleId,attr"`
		Name    docxVal  `xml:"name"`
		BasedOn docxVal  `xml:"basedOn"`
		PPr     docxPPrX `xml:"pPr"`
	} `xml:"style"`
}

type docxVal struct {
	Val string `xml:"val,attr"`
}

type docxPPrX struct {
	Outline *docxVal `xml:"outlineLvl"`
	NumPr   struct {
		Ilvl  docxVal `xml:"ilvl"`
		NumID docxVal `xml:"numId"`
	} `xml:"numPr"`
}

// docxReadStyles reads the paragraph styles by ID, each with what it
// inherits from the styles it is based on. A missing or unreadable
// styles part leaves only the built-in names ("Heading1") to go by.
func docxReadStyles(a *zipx.Archive, rels []relationship, main string) map[string]docxStyle {
	out := map[string]docxStyle{}
	part, ok := relTarget(rels, main, "/styles")
	var x docxStylesXML
	if !ok || !optionalPart(a, part, &x) {
		return out
	}
	type raw struct {
		name, basedOn string
		ppr           docxPPrX
	}
	byID := map[string]raw{}
	for _, s := range x.Styles {
		if s.Type == "" || s.Type == "paragraph" {
			byID[s.ID] = raw{strings.ToLower(s.Name.Val), s.BasedOn.Val, s.PPr}
		}
	}
	for id := range byID {
		var st docxStyle
		// Walk the basedOn chain, nearest first; the first style that
		// says something wins. The bound stops a cycle.
		cur := id
		for range 16 {
			r, ok := byID[cur]
			if !ok {
				break
			}
			if st.heading == 0 {
				st.heading = docxHeadingLevel(r.name, cur, r.ppr.Outline)
			}
			if st.numID == "" && r.ppr.NumPr.NumID.Val != "" {
				st.numID = r.ppr.NumPr.NumID.Val
				st.ilvl, _ = strconv.Atoi(r.ppr.NumPr.Ilvl.Val)
			}
			if strings.HasPrefix(r.name, "list number") {
				st.ordered = true
			}
			if r.basedOn == "" || r.basedOn == cur {
				break
			}
			cur = r.basedOn
		}
		out[id] = st
	}
	return out
}

// docxHeadingLevel is the heading level a style's name, ID or outline
// level gives, 0 for none.
func docxHeadingLevel(name, id string, outline *docxVal) int {
	if name == "title" || id == "Title" {
		return 1
	}
	for _, s := range []string{strings.TrimPrefix(name, "heading "), strings.TrimPrefix(id, "Heading")} {
		if len(s) == 1 && s[0] >= '1' && s[0] <= '9' && s != name && s != id {
			return int(s[0] - '0')
		}
	}
	if outline != nil {
		if n, err := strconv.Atoi(outline.Val); err == nil && n >= 0 && n < 9 {
			return n + 1
		}
	}
	return 0
}

// docxNumberingXML is word/numbering.xml, as much as telling bullets
// from numbers needs.
type docxNumberingXML struct {
	Abstract []struct {
		ID   string       `xml:"abstractNumId,attr"`
		Lvls []docxLvlXML `xml:"lvl"`
	} `xml:"abstractNum"`
	Nums []struct {
		ID        string  `xml:"numId,attr"`
		Abstract  docxVal `xml:"abstractNumId"`
		Overrides []struct {
			Lvl *docxLvlXML `xml:"lvl"`
		} `xml:"lvlOverride"`
	} `xml:"num"`
}

type docxLvlXML struct {
	Ilvl string  `xml:"ilvl,attr"`
	Fmt  docxVal `xml:"numFmt"`
}

// docxNumbering says, by list (numId) and level, whether a list is
// numbered.
type docxNumbering map[string]map[int]bool

func docxReadNumbering(a *zipx.Archive, rels []relationship, main string) docxNumbering {
	out := docxNumbering{}
	part, ok := relTarget(rels, main, "/numbering")
	var x docxNumberingXML
	if !ok || !optionalPart(a, part, &x) {
		return out
	}
	levels := func(lvls []docxLvlXML, into map[int]bool) {
		for _, l := range lvls {
			if n, err := strconv.Atoi(l.Ilvl); err == nil {
				into[n] = l.Fmt.Val != "" && l.Fmt.Val != "bullet" && l.Fmt.Val != "none"
			}
		}
	}
	abstract := map[string][]docxLvlXML{}
	for _, an := range x.Abstract {
		abstract[an.ID] = an.Lvls
	}
	for _, n := range x.Nums {
		m := map[int]bool{}
		levels(abstract[n.Abstract.Val], m)
		for _, o := range n.Overrides {
			if o.Lvl != nil {
				levels([]docxLvlXML{*o.Lvl}, m)
			}
		}
		out[n.ID] = m
	}
	return out
}

// docxReader turns WordprocessingML parts into Markdown.
type docxReader struct {
	w         *mdwrite.Writer
	styles    map[string]docxStyle
	numbering docxNumbering
}

// docxPara is the paragraph being read.
type docxPara struct {
	text          strings.Builder
	style         string
	numID         string
	ilvl          int
	outline       int // outline level + 1 from the paragraph's own properties, 0 for none
	hasNum, inPPr bool
}

// read reads one part (the body, the footnotes) into d.w.
func (d *docxReader) read(ctx context.Context, part string, data []byte) error {
	x := newXMLTokens(ctx, part, data)
	var (
		p      docxPara
		pDepth int  // nesting of w:p (text boxes hold paragraphs inside paragraphs)
		inText bool // inside w:t
		tables int
		span   int // the open cell's gridSpan
	)
	for {
		t, err := x.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "Fallback", "del", "moveFrom", "sdtPr", "pPrChange", "rPrChange", "instrText", "delText":
				// A drawing's fallback repeats its text; deleted and
				// moved-away text and field codes are not the document's.
				if err := x.skip(); err != nil {
					return err
				}
			case "footnote", "endnote":
				if typ := xmlAttr(t, "type"); typ != "" && typ != "normal" {
					if err := x.skip(); err != nil {
						return err
					}
				}
			case "p":
				pDepth++
				if pDepth == 1 {
					p = docxPara{}
				} else {
					p.text.WriteByte(' ')
				}
			case "pPr":
				p.inPPr = pDepth == 1
			case "pStyle":
				if p.inPPr {
					p.style = xmlAttr(t, "val")
				}
			case "ilvl":
				if p.inPPr {
					p.ilvl, _ = strconv.Atoi(xmlAttr(t, "val"))
				}
			case "numId":
				if p.inPPr {
					p.numID, p.hasNum = xmlAttr(t, "val"), true
				}
			case "outlineLvl":
				if p.inPPr {
					if n, err := strconv.Atoi(xmlAttr(t, "val")); err == nil && n >= 0 && n < 9 {
						p.outline = n + 1
					}
				}
			case "t":
				inText = pDepth > 0
			case "tab", "br", "cr":
				if pDepth > 0 && !p.inPPr {
					p.text.WriteByte(' ')
				}
			case "noBreakHyphen":
				if pDepth > 0 {
					p.text.WriteByte('-')
				}
			case "tbl":
				if pDepth == 0 {
					if tables == 0 {
						d.w.CloseLists(0)
					}
					tables++
					d.w.StartTable()
				}
			case "tr":
				if pDepth == 0 && tables > 0 {
					d.w.StartRow()
				}
			case "tc":
				if pDepth == 0 && tables > 0 {
					d.w.StartCell()
				}
			case "gridSpan":
				if n, err := strconv.Atoi(xmlAttr(t, "val")); err == nil && pDepth == 0 && tables == 1 {
					span = min(n, 64)
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "p":
				pDepth--
				if pDepth == 0 {
					d.paragraph(&p, tables > 0)
				} else if pDepth > 0 {
					p.text.WriteByte(' ')
				}
				pDepth = max(pDepth, 0)
			case "pPr":
				p.inPPr = false
			case "t":
				inText = false
			case "tbl":
				if pDepth == 0 && tables > 0 {
					tables--
					d.w.EndTable()
				}
			case "tr":
				if pDepth == 0 && tables > 0 {
					d.w.EndRow()
				}
			case "tc":
				if pDepth == 0 && tables > 0 {
					d.w.EndCell()
					// The columns a merged cell spans after its first
					// become empty cells, so that the columns stay aligned.
					for ; span > 1 && tables == 1; span-- {
						d.w.StartCell()
						d.w.EndCell()
					}
					span = 0
				}
			}
		case xml.CharData:
			if inText && !p.inPPr {
				p.text.Write(t)
			}
		}
	}
	d.w.CloseLists(0)
	return nil
}

// paragraph writes a finished paragraph as a heading, a list item or a
// paragraph (in a table, as cell text).
func (d *docxReader) paragraph(p *docxPara, inTable bool) {
	text := mdwrite.Collapse(p.text.String())
	if text == "" {
		return
	}
	if inTable {
		d.w.Paragraph(text)
		return
	}
	st := d.styles[p.style]
	if st.heading == 0 {
		st.heading = docxHeadingLevel("", p.style, nil)
	}
	level := st.heading
	if p.outline > 0 {
		level = p.outline
	}
	if level > 0 {
		// A numbered heading ("1.2 Methods", numbering in its style) is
		// a heading, not a list item.
		d.w.CloseLists(0)
		d.w.HeadingText(level, text)
		return
	}
	numID, ilvl := st.numID, st.ilvl
	if p.hasNum {
		numID, ilvl = p.numID, p.ilvl
	}
	if numID != "" && numID != "0" {
		d.item(numID, min(max(ilvl, 0), 8), st.ordered, text)
		return
	}
	d.w.CloseLists(0)
	d.w.Paragraph(text)
}

// item writes text as an item at level ilvl of list numID.
func (d *docxReader) item(numID string, ilvl int, styleOrdered bool, text string) {
	d.w.Item(ilvl, func(l int) bool {
		if m, ok := d.numbering[numID]; ok {
			if o, ok := m[l]; ok {
				return o
			}
		}
		return styleOrdered
	}, text)
}
