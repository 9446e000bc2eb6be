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

// loadODT reads an OpenDocument text (content.xml) as Markdown: text:h
// as headings by outline level, lists (numbered or bulleted by their list
// style), tables, and the bodies of footnotes and endnotes after the
// text. Annotations, tracked deletions and generated tables of contents
// are left out. Properties come from meta.xml.
func loadODT(ctx context.Context, f *File) ([]document.Document, error) {
	a, err := openContainer(ctx, f)
	if err != nil {
		return nil, err
	}
	content, err := readPart(a, "content.xml")
	if err != nil {
		return nil, err
	}
	st := odtStyles{ordered: map[string]map[int]bool{}, parent: map[string]string{}}
	if styles, err := a.ReadFile("styles.xml"); err == nil {
		// Named styles live here; a broken styles part only costs
		// telling numbers from bullets and titles from paragraphs.
		_ = st.read(ctx, "styles.xml", styles)
	}
	if err := st.read(ctx, "content.xml", content); err != nil {
		return nil, err
	}
	w := &mdwrite.Writer{}
	if err := odtBody(ctx, content, &st, w); err != nil {
		return nil, err
	}
	return officeDocument(mimeODT, odtProperties(a), w.FirstHeading(), []officePart{{text: w.String()}})
}

// odtStyles is what the styles of a document say about structure.
type odtStyles struct {
	ordered map[string]map[int]bool // list style → level → numbered
	parent  map[string]string       // paragraph style → the style it derives from
}

// isTitle reports whether paragraph style name is, or derives from, the
// Title style.
func (s *odtStyles) isTitle(name string) bool {
	for range 8 {
		if name == "Title" {
			return true
		}
		p, ok := s.parent[name]
		if !ok || p == name {
			return false
		}
		name = p
	}
	return false
}

// read records the list styles and paragraph style parents of part.
func (s *odtStyles) read(ctx context.Context, part string, data []byte) error {
	into := s.ordered
	x := newXMLTokens(ctx, part, data)
	current := ""
	for {
		t, err := x.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "list-style":
				current = xmlAttr(t, "name")
				if into[current] == nil {
					into[current] = map[int]bool{}
				}
			case "list-level-style-number", "list-level-style-bullet", "list-level-style-image":
				if current != "" {
					if n, err := strconv.Atoi(xmlAttr(t, "level")); err == nil {
						into[current][n] = t.Name.Local == "list-level-style-number"
					}
				}
			case "style":
				if p := xmlAttr(t, "parent-style-name"); p != "" {
					s.parent[xmlAttr(t, "name")] = p
				}
			case "body":
				return nil
			}
		case xml.EndElement:
			if t.Name.Local == "list-style" {
				current = ""
			}
		}
	}
}

// odtList is an open text:list.
type odtList struct {
	style   string
	ordered bool
}

// odtBody writes office:body of content.xml into w.
func odtBody(ctx context.Context, data []byte, st *odtStyles, w *mdwrite.Writer) error {
	x := newXMLTokens(ctx, "content.xml", data)
	var (
		inBody bool
		pDepth int // nesting of text:p and text:h (frames hold paragraphs inside paragraphs)
		level  int // heading level of the outermost open text:h
		para   strings.Builder
		lists  []odtList
		notes  []string
		note   *strings.Builder // the open note's body, nil outside one
		repeat []int            // the open cells' repeat counts, innermost last
	)
	out := func(s string) {
		if note != nil {
			note.WriteString(s)
		} else if pDepth > 0 {
			para.WriteString(s)
		}
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
			if !inBody {
				inBody = t.Name.Local == "body"
				continue
			}
			switch t.Name.Local {
			case "annotation", "tracked-changes", "table-of-content", "note-citation", "title", "desc", "forms", "sequence-decls", "variable-decls", "user-field-decls":
				if err := x.skip(); err != nil {
					return err
				}
			case "note":
				note = &strings.Builder{}
			case "p", "h":
				pDepth++
				if pDepth == 1 && note == nil {
					para.Reset()
					level = 0
					if t.Name.Local == "h" || st.isTitle(xmlAttr(t, "style-name")) {
						level = 1
						if n, err := strconv.Atoi(xmlAttr(t, "outline-level")); err == nil && n > 0 {
							level = n
						}
					}
				} else {
					out(" ")
				}
			case "s":
				n, err := strconv.Atoi(xmlAttr(t, "c"))
				if err != nil || n < 1 {
					n = 1
				}
				out(strings.Repeat(" ", min(n, 8)))
			case "tab", "line-break":
				out(" ")
			case "list":
				style := xmlAttr(t, "style-name")
				if style == "" && len(lists) > 0 {
					style = lists[len(lists)-1].style
				}
				o := st.ordered[style][len(lists)+1]
				lists = append(lists, odtList{style, o})
				w.StartList(o)
			case "list-item", "list-header":
				w.StartItem()
			case "table":
				w.StartTable()
			case "table-row":
				w.StartRow()
			case "table-cell", "covered-table-cell":
				w.StartCell()
				n, err := strconv.Atoi(xmlAttr(t, "number-columns-repeated"))
				if err != nil {
					n = 1
				}
				repeat = append(repeat, min(n, 64))
			}
		case xml.EndElement:
			if !inBody {
				continue
			}
			switch t.Name.Local {
			case "body":
				inBody = false
			case "note":
				if note != nil {
					if s := mdwrite.Collapse(note.String()); s != "" {
						notes = append(notes, s)
					}
				}
				note = nil
			case "p", "h":
				pDepth--
				if note != nil {
					note.WriteByte(' ')
					continue
				}
				if pDepth == 0 {
					w.Text(para.String())
					if level > 0 {
						w.Heading(level)
					}
					w.EndBlock()
					para.Reset()
				} else if pDepth > 0 {
					out(" ")
				}
				pDepth = max(pDepth, 0)
			case "list":
				if len(lists) > 0 {
					lists = lists[:len(lists)-1]
					w.EndList()
				}
			case "list-item", "list-header":
				w.EndItem()
			case "table":
				w.EndTable()
			case "table-row":
				w.EndRow()
			case "table-cell", "covered-table-cell":
				w.EndCell()
				// A repeated cell's copies after the first become empty
				// cells, to keep the columns aligned.
				if len(repeat) > 0 {
					for range repeat[len(repeat)-1] - 1 {
						w.StartCell()
						w.EndCell()
					}
					repeat = repeat[:len(repeat)-1]
				}
			}
		case xml.CharData:
			if inBody {
				out(string(t))
			}
		}
	}
	for _, n := range notes {
		w.Paragraph(n)
	}
	return nil
}

// odtMeta is meta.xml of an OpenDocument file.
type odtMeta struct {
	Meta struct {
		Title          string `xml:"title"`
		Creator        string `xml:"creator"`
		InitialCreator string `xml:"initial-creator"`
		Language       string `xml:"language"`
		Created        string `xml:"creation-date"`
		Modified       string `xml:"date"`
	} `xml:"meta"`
}

// odtProperties reads meta.xml, if the file has a readable one.
func odtProperties(a *zipx.Archive) properties {
	var p properties
	var m odtMeta
	if !optionalPart(a, "meta.xml", &m) {
		return p
	}
	p.title, p.language = mdwrite.Collapse(m.Meta.Title), strings.TrimSpace(m.Meta.Language)
	p.author = mdwrite.Collapse(m.Meta.InitialCreator)
	if p.author == "" {
		p.author = mdwrite.Collapse(m.Meta.Creator)
	}
	p.created, p.modified = propertyDate(m.Meta.Created), propertyDate(m.Meta.Modified)
	return p
}
