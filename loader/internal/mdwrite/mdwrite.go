// Package mdwrite writes Markdown from a stream of structure events
// (paragraphs, headings, lists, tables), the way the Office and EPUB
// parsers meet them in their XML. Markdown keeps headings, lists and
// tables visible to the Markdown chunker.
//
// Blocks inside a table cell become the cell's text; a table inside a
// table is flattened into the outer cell. A list item's first block is the
// item's line, later ones continue it. Inline text has its white space
// collapsed; a paragraph that would read as Markdown structure ("# x",
// "- x", "1. x") is escaped.
package mdwrite

import (
	"strconv"
	"strings"
	"unicode"
)

// Writer builds one Markdown text. The zero value is ready to use.
//
// Concurrency: a Writer is not safe for concurrent use.
type Writer struct {
	out     strings.Builder
	inline  strings.Builder // the open block's text
	heading int             // the open block's heading level, 0 for a paragraph
	lists   []list          // open lists, outermost first
	tables  int             // depth of open tables
	rows    [][]string      // the outermost table's finished rows
	row     []string        // the outermost table's open row
	cell    strings.Builder // the open cell's text
	inList  bool            // the last block written was a list line
	first   string          // the first heading's text
}

type list struct {
	ordered bool
	n       int  // items so far
	started bool // the open item's first block has been written
}

// Text adds inline text to the open block.
func (w *Writer) Text(s string) { w.inline.WriteString(s) }

// Space adds a word break (a tab, a line break) to the open block.
func (w *Writer) Space() { w.inline.WriteByte(' ') }

// Heading marks the open block as a heading of level (1 to 6).
func (w *Writer) Heading(level int) { w.heading = min(max(level, 1), 6) }

// EndBlock ends the open block: a paragraph, a heading, an item's line or
// a cell's paragraph. A block with no text writes nothing.
func (w *Writer) EndBlock() {
	text := Collapse(w.inline.String())
	level := w.heading
	w.inline.Reset()
	w.heading = 0
	if text == "" {
		return
	}
	if w.tables > 0 {
		if w.cell.Len() > 0 {
			w.cell.WriteByte(' ')
		}
		w.cell.WriteString(text)
		return
	}
	if len(w.lists) > 0 {
		l := &w.lists[len(w.lists)-1]
		indent := strings.Repeat("    ", len(w.lists)-1)
		if !w.inList {
			w.blankLine()
		}
		if l.started {
			// A later block of the same item: a lazy continuation line.
			w.out.WriteString(indent + "    " + escapeLine(text) + "\n")
		} else {
			l.n++
			l.started = true
			marker := "- "
			if l.ordered {
				marker = strconv.Itoa(l.n) + ". "
			}
			w.out.WriteString(indent + marker + escapeLine(text) + "\n")
		}
		w.inList = true
		return
	}
	if level > 0 {
		if w.first == "" {
			w.first = text
		}
		w.block(strings.Repeat("#", level) + " " + text)
		return
	}
	w.block(escapeLine(text))
}

// Paragraph writes text as one paragraph (or item line, or cell text).
func (w *Writer) Paragraph(text string) {
	w.EndBlock()
	w.Text(text)
	w.EndBlock()
}

// HeadingText writes text as a heading of level.
func (w *Writer) HeadingText(level int, text string) {
	w.EndBlock()
	w.Text(text)
	w.Heading(level)
	w.EndBlock()
}

// StartList opens a list, nested in the open one if any.
func (w *Writer) StartList(ordered bool) {
	w.EndBlock()
	if w.tables > 0 {
		return
	}
	w.lists = append(w.lists, list{ordered: ordered})
}

// EndList closes the innermost open list.
func (w *Writer) EndList() {
	w.EndBlock()
	if w.tables > 0 || len(w.lists) == 0 {
		return
	}
	w.lists = w.lists[:len(w.lists)-1]
	if len(w.lists) == 0 {
		w.inList = false // a list that follows is a new list: a blank line before it
	}
}

// Item writes text as an item at depth (0 for the outermost) of nested
// lists, for formats whose items are flat paragraphs with a level (DOCX,
// PPTX): lists are opened and closed to get there, and a list of the
// other kind at that depth is closed first; an item never goes more than
// one list deeper than the open ones. ordered says, for each depth
// it opens, whether that list is numbered. In a table it is cell text.
func (w *Writer) Item(depth int, ordered func(depth int) bool, text string) {
	w.EndBlock()
	if w.tables > 0 {
		w.Paragraph(text)
		return
	}
	// A level skipped ("1" straight after "0"'s parent) would open a
	// list with no item, which Markdown reads as code: go one deeper at
	// most.
	depth = min(max(depth, 0), 8, len(w.lists))
	w.CloseLists(depth + 1)
	if len(w.lists) == depth+1 && w.lists[depth].ordered != ordered(depth) {
		w.CloseLists(depth)
	}
	for len(w.lists) < depth+1 {
		w.StartList(ordered(len(w.lists)))
	}
	w.StartItem()
	w.Text(text)
	w.EndItem()
}

// CloseLists closes open lists until n are left (none in a table, where
// lists are cell text).
func (w *Writer) CloseLists(n int) {
	for w.tables == 0 && len(w.lists) > n {
		w.EndList()
	}
}

// StartItem opens an item of the innermost list.
func (w *Writer) StartItem() {
	w.EndBlock()
	if w.tables == 0 && len(w.lists) > 0 {
		w.lists[len(w.lists)-1].started = false
	}
}

// EndItem closes the open item.
func (w *Writer) EndItem() { w.EndBlock() }

// StartTable opens a table; inside a table it is flattened into the open
// cell.
func (w *Writer) StartTable() {
	w.EndBlock()
	w.tables++
	if w.tables == 1 {
		w.rows, w.row = nil, nil
		w.cell.Reset()
	}
}

// StartRow opens a table row.
func (w *Writer) StartRow() {
	w.EndBlock()
	if w.tables == 1 {
		w.row = w.row[:0:0]
	}
}

// StartCell opens a cell of the open row.
func (w *Writer) StartCell() {
	w.EndBlock()
	if w.tables == 1 {
		w.cell.Reset()
	}
}

// EndCell closes the open cell.
func (w *Writer) EndCell() {
	w.EndBlock()
	if w.tables == 1 {
		w.row = append(w.row, w.cell.String())
		w.cell.Reset()
	}
}

// EndRow closes the open row.
func (w *Writer) EndRow() {
	w.EndBlock()
	if w.tables == 1 {
		if w.cell.Len() > 0 { // text outside any cell
			w.row = append(w.row, w.cell.String())
			w.cell.Reset()
		}
		w.rows = append(w.rows, w.row)
		w.row = nil
	}
}

// EndTable closes the open table and, for the outermost one, writes it.
func (w *Writer) EndTable() {
	w.EndBlock()
	if w.tables == 0 {
		return
	}
	w.tables--
	if w.tables > 0 {
		return
	}
	if w.cell.Len() > 0 { // a cell left open
		w.row = append(w.row, w.cell.String())
		w.cell.Reset()
	}
	if len(w.row) > 0 { // a row left open
		w.rows = append(w.rows, w.row)
		w.row = nil
	}
	rows := w.rows
	w.rows = nil
	w.Table(rows)
}

// Table writes rows as a Markdown table, the first row as its header.
// Rows may have different lengths; rows and columns with no text are
// dropped. Inside a table it is flattened into the open cell.
func (w *Writer) Table(rows [][]string) {
	w.EndBlock()
	rows = Trim(rows)
	if len(rows) == 0 {
		return
	}
	if w.tables > 0 {
		for _, r := range rows {
			for _, c := range r {
				w.Text(c + " ")
			}
		}
		w.EndBlock()
		return
	}
	var b strings.Builder
	cols := len(rows[0])
	for i, r := range rows {
		b.WriteByte('|')
		for _, c := range r {
			b.WriteString(" " + escapeCell(c) + " |")
		}
		b.WriteByte('\n')
		if i == 0 {
			b.WriteByte('|')
			for range cols {
				b.WriteString(" --- |")
			}
			b.WriteByte('\n')
		}
	}
	w.block(strings.TrimSuffix(b.String(), "\n"))
}

// Trim returns rows without the rows and columns whose cells are all
// blank, every row padded to the same length, cells' white space
// collapsed. It returns nil when no cell has text.
func Trim(rows [][]string) [][]string {
	cols := 0
	for _, r := range rows {
		for j, c := range r {
			if j >= cols && strings.TrimSpace(c) != "" {
				cols = j + 1
			}
		}
	}
	if cols == 0 {
		return nil
	}
	used := make([]bool, cols)
	var kept [][]string
	for _, r := range rows {
		blank := true
		for j, c := range r {
			if j < cols && strings.TrimSpace(c) != "" {
				used[j], blank = true, false
			}
		}
		if blank {
			continue
		}
		out := make([]string, 0, cols)
		for j := range cols {
			c := ""
			if j < len(r) {
				c = Collapse(r[j])
			}
			out = append(out, c)
		}
		kept = append(kept, out)
	}
	for i, r := range kept {
		out := r[:0]
		for j, c := range r {
			if used[j] {
				out = append(out, c)
			}
		}
		kept[i] = out
	}
	return kept
}

// Code writes text as a fenced code block, its lines kept.
func (w *Writer) Code(text string) {
	w.EndBlock()
	text = strings.Trim(text, "\n")
	if strings.TrimSpace(text) == "" {
		return
	}
	if w.tables > 0 || len(w.lists) > 0 {
		w.Paragraph(text)
		return
	}
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	w.block(fence + "\n" + text + "\n" + fence)
}

// Raw writes md, Markdown written elsewhere, as a block of its own.
func (w *Writer) Raw(md string) {
	w.EndBlock()
	if md = strings.TrimSpace(md); md != "" {
		w.block(md)
	}
}

// FirstHeading returns the text of the first heading written, or "".
func (w *Writer) FirstHeading() string { return w.first }

// String returns the Markdown written so far, the open block ended.
func (w *Writer) String() string {
	w.EndBlock()
	return strings.TrimSuffix(w.out.String(), "\n")
}

// block writes a block separated from the one before by a blank line.
func (w *Writer) block(s string) {
	w.blankLine()
	w.out.WriteString(s + "\n")
	w.inList = false
}

func (w *Writer) blankLine() {
	if w.out.Len() > 0 {
		w.out.WriteByte('\n')
	}
}

// Collapse replaces each run of white space in s with one space and
// trims the ends; invalid UTF-8 becomes U+FFFD.
func Collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == 0 {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// escapeLine escapes the start of a line that Markdown would otherwise
// read as a heading, a list item, a quote, a rule or a fence.
func escapeLine(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '#', '>', '-', '+', '*', '=', '`', '~', '|':
		return `\` + s
	}
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return s[:i] + `\` + s[i:]
	}
	return s
}

// escapeCell makes s safe inside a table cell.
func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
