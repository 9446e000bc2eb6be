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

// PPTXOptions configure NewPPTX. The zero value reads speaker notes.
type PPTXOptions struct {
	// SkipNotes leaves each slide's speaker notes out.
	SkipNotes bool
}

// NewPPTX returns a loader of PowerPoint presentations (Office Open
// XML). Each slide, in the presentation's order, is one span (kind
// document.SpanSlide, labelled with the slide's number): its title as a
// heading, its text boxes' paragraphs (bulleted and numbered ones as
// list items), its tables as Markdown tables, then its speaker notes
// after a "Notes:" line. Hidden slides are read too. Properties come from
// docProps/core.xml; page_count is the number of slides.
//
// The loader is registered in Default for .pptx files with the zero
// options.
func NewPPTX(o PPTXOptions) Loader {
	return LoaderFunc(func(ctx context.Context, f *File) ([]document.Document, error) {
		return loadPPTX(ctx, f, o)
	})
}

// The relationships namespaces of OOXML (transitional and strict), the
// namespace of the r:id attributes that name slides.
const (
	relsNS       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	relsStrictNS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
)

func loadPPTX(ctx context.Context, f *File, o PPTXOptions) ([]document.Document, error) {
	a, err := openContainer(ctx, f)
	if err != nil {
		return nil, err
	}
	main, pres, err := ooxmlMainPart(a, "ppt/presentation.xml")
	if err != nil {
		return nil, err
	}
	slides, err := pptxSlideOrder(ctx, main, pres, packageRels(a, main))
	if err != nil {
		return nil, err
	}
	var parts []officePart
	first := ""
	for i, slide := range slides {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := readPart(a, slide)
		if err != nil {
			return nil, err
		}
		w := &mdwrite.Writer{}
		if err := pptxText(ctx, slide, b, w, false); err != nil {
			return nil, err
		}
		if !o.SkipNotes {
			if err := pptxNotes(ctx, a, slide, w); err != nil {
				return nil, err
			}
		}
		if first == "" {
			first = w.FirstHeading()
		}
		parts = append(parts, officePart{kind: document.SpanSlide, label: strconv.Itoa(i + 1), text: w.String()})
	}
	return officeDocument(mimePPTX, ooxmlProperties(a), first, parts)
}

// pptxSlideOrder returns the archive paths of the slides, in the order of
// the presentation's slide list.
func pptxSlideOrder(ctx context.Context, main string, pres []byte, rels []relationship) ([]string, error) {
	byID := map[string]string{}
	for _, r := range rels {
		if strings.HasSuffix(r.Type, "/slide") && r.TargetMode != "External" {
			byID[r.ID] = zipx.Resolve(main, r.Target)
		}
	}
	var slides []string
	x := newXMLTokens(ctx, main, pres)
	for {
		t, err := x.next()
		if err == io.EOF {
			return slides, nil
		}
		if err != nil {
			return nil, err
		}
		if s, ok := t.(xml.StartElement); ok && s.Name.Local == "sldId" {
			for _, at := range s.Attr {
				if at.Name.Local == "id" && (at.Name.Space == relsNS || at.Name.Space == relsStrictNS) {
					if p, ok := byID[at.Value]; ok {
						slides = append(slides, p)
					}
				}
			}
		}
	}
}

// pptxNotes writes the speaker notes of slide, if it has any.
func pptxNotes(ctx context.Context, a *zipx.Archive, slide string, w *mdwrite.Writer) error {
	part, ok := relTarget(packageRels(a, slide), slide, "/notesSlide")
	if !ok || !a.Has(part) {
		return nil
	}
	b, err := readPart(a, part)
	if err != nil {
		return err
	}
	notes := &mdwrite.Writer{}
	if err := pptxText(ctx, part, b, notes, true); err != nil {
		return err
	}
	if text := notes.String(); text != "" {
		w.Paragraph("Notes:")
		w.EndBlock()
		// The notes' Markdown is already written; it goes in as it is.
		w.Raw(text)
	}
	return nil
}

// pptxShape is a shape being read: what its placeholder says.
type pptxShape struct {
	ph    string // the placeholder type, "" when it is none
	isPh  bool   // the shape is a placeholder
	skip  bool   // its text is not content (slide numbers, the notes page's slide image)
	title bool
}

// pptxText writes the text of a slide (or notes page) into w: the
// shapes in their order in the slide, title placeholders as headings,
// paragraphs of body placeholders as list items unless they say they
// have no bullet, tables as tables. On a notes page only the body
// placeholder counts.
func pptxText(ctx context.Context, part string, data []byte, w *mdwrite.Writer, notes bool) error {
	x := newXMLTokens(ctx, part, data)
	var (
		shapes  []pptxShape // open shapes, outermost first
		inText  bool
		inPara  bool
		lvl     int
		bullet  int // 0 inherit, 1 none, 2 character, 3 number
		para    strings.Builder
		tables  int
		shapeAt = func() *pptxShape {
			if len(shapes) == 0 {
				return &pptxShape{}
			}
			return &shapes[len(shapes)-1]
		}
	)
	endPara := func() {
		text := mdwrite.Collapse(para.String())
		para.Reset()
		sh := shapeAt()
		if text == "" || sh.skip {
			return
		}
		if tables > 0 {
			w.Paragraph(text)
			return
		}
		if sh.title {
			w.CloseLists(0)
			w.HeadingText(1, text)
			return
		}
		// A body placeholder's paragraphs inherit bullets from the
		// layout; other text boxes have none unless they say so.
		listed := bullet == 2 || bullet == 3 || (bullet == 0 && sh.isPh && (sh.ph == "body" || sh.ph == "" || sh.ph == "obj") && !notes)
		if !listed {
			w.CloseLists(0)
			w.Paragraph(text)
			return
		}
		ordered := bullet == 3
		w.Item(lvl, func(int) bool { return ordered }, text)
	}
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
			case "sp", "graphicFrame", "grpSp", "cxnSp", "pic":
				w.CloseLists(0)
				shapes = append(shapes, pptxShape{})
			case "Fallback":
				if err := x.skip(); err != nil {
					return err
				}
			case "ph":
				sh := shapeAt()
				sh.isPh, sh.ph = true, xmlAttr(t, "type")
				switch sh.ph {
				case "title", "ctrTitle":
					sh.title = !notes
				case "sldNum", "sldImg", "hdr":
					sh.skip = true
				}
				if notes && sh.ph != "body" {
					sh.skip = true
				}
			case "p":
				inPara, lvl, bullet = true, 0, 0
				para.Reset()
			case "pPr":
				if inPara {
					lvl, _ = strconv.Atoi(xmlAttr(t, "lvl"))
				}
			case "buNone":
				bullet = 1
			case "buChar", "buBlip":
				bullet = 2
			case "buAutoNum":
				bullet = 3
			case "t":
				inText = inPara
			case "br":
				para.WriteByte(' ')
			case "tbl":
				if tables == 0 {
					w.CloseLists(0)
				}
				tables++
				w.StartTable()
			case "tr":
				w.StartRow()
			case "tc":
				w.StartCell()
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "sp", "graphicFrame", "grpSp", "cxnSp", "pic":
				w.CloseLists(0)
				if len(shapes) > 0 {
					shapes = shapes[:len(shapes)-1]
				}
			case "p":
				if inPara {
					endPara()
				}
				inPara = false
			case "t":
				inText = false
			case "tbl":
				if tables > 0 {
					tables--
					w.EndTable()
				}
			case "tr":
				w.EndRow()
			case "tc":
				w.EndCell()
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	w.CloseLists(0)
	return nil
}
