package chunk

import (
	"context"
	"slices"
	"strings"

	"github.com/ragkit-go/rag/tokenizer"
)

// MarkdownOptions configures a Markdown chunker. The zero value is ready
// to use.
type MarkdownOptions struct {
	// Size is the most tokens a chunk may hold, heading prefix included.
	// Zero means DefaultSize.
	Size int
	// Overlap is the most tokens a chunk may repeat from the end of the
	// one before in the same section, in whole blocks (paragraphs, list
	// items, code blocks, tables). Zero means none: Markdown chunks follow
	// the document's structure, and the heading path gives each chunk the
	// context an overlap would. It is capped at Size/2.
	Overlap int
	// Tokenizer measures sizes. Nil means tokenizer.CL100K().
	Tokenizer tokenizer.Tokenizer
	// HeadingPrefix, when set, starts each chunk's Text with its heading
	// path joined by " > " and a blank line ("Install > Linux\n\n"), so that
	// the embedding sees where the chunk sits. Tokens counts the prefix and
	// Size limits the whole Text; the prefix is left out of a section's
	// chunks when it alone would take more than half of Size. Checking
	// sizes with a prefix costs one more tokenization of each chunk.
	HeadingPrefix bool
	// SkipFrontMatter, when set, leaves YAML ("---") or TOML ("+++") front
	// matter at the start of the document out of the chunks. By default it
	// is a chunk of its own, with no headings.
	SkipFrontMatter bool
}

// Markdown splits Markdown at its headings (ATX "## Title" and setext
// "Title\n=====") and packs each section's blocks — paragraphs, lists,
// fenced code blocks, tables — into chunks of up to Size tokens. Chunks
// never span two sections, and carry the section's heading path in
// Chunk.Headings, outermost first (["Install", "Linux"]). A section with
// nothing but its heading joins the section after it.
//
// A fenced code block (``` or ~~~) or a table is never split unless it
// alone exceeds Size; then a code block or table is cut between lines,
// and a line longer than Size between tokens. A long paragraph is cut at
// line breaks, sentence ends, white space, then between tokens, like
// Recursive. Front matter is recognised only at the very start of the
// text, and "---" elsewhere is a setext underline or a thematic break, as
// in CommonMark.
//
// Chunks are trimmed of surrounding white space: content[Start:End] is
// the chunk's source text, and Text is that text, after the heading
// prefix when HeadingPrefix is set. Tokens == Tokenizer.Count(Text).
//
// A Markdown is safe for concurrent use.
type Markdown struct {
	size, overlap int
	tok           tokenizer.Tokenizer
	prefix        bool
	skipFront     bool
}

var _ Chunker = (*Markdown)(nil)

// NewMarkdown returns a Markdown chunker with the given options.
func NewMarkdown(opts MarkdownOptions) *Markdown {
	size, overlap := sizes(opts.Size, opts.Overlap, -1)
	c := &Markdown{size: size, overlap: overlap, tok: opts.Tokenizer, prefix: opts.HeadingPrefix, skipFront: opts.SkipFrontMatter}
	if c.tok == nil {
		c.tok = tokenizer.CL100K()
	}
	return c
}

// Block kinds.
const (
	mdText uint8 = iota
	mdHeading
	mdCode
	mdTable
)

type mdBlock struct {
	s    int // start; a block ends where the next one starts
	kind uint8
}

type mdSection struct {
	s, e   int
	path   []string
	blocks []mdBlock
}

// textLevels cut an oversized paragraph; lineLevels a code block or table.
var (
	textLevels = []level{lines, sentenceEnds, words}
	lineLevels = []level{lines}
)

// Chunk splits text. See Chunker for the contract.
func (c *Markdown) Chunk(ctx context.Context, text string) ([]Chunk, error) {
	if s, e, err := start(ctx, text); err != nil || s == e {
		return nil, err
	}
	front, sections := parseMarkdown(text)
	m, err := newMeasure(ctx, c.tok, text)
	if err != nil {
		return nil, err
	}
	var out []Chunk
	add := func(p *packer, spans []span, path []string, prefix string) {
		for k, sp := range spans {
			out = append(out, Chunk{
				Text: prefix + text[sp.s:sp.e], Index: len(out), Start: sp.s, End: sp.e,
				Tokens: p.counts[k], Headings: slices.Clone(path),
			})
		}
	}
	if front.e > 0 && !c.skipFront {
		p := &packer{ctx: ctx, m: m, size: c.size, budget: c.size, levels: lineLevels, cutLevels: lineLevels}
		spans, err := p.packStream(front.s, front.e)
		if err != nil {
			return nil, err
		}
		add(p, spans, nil, "")
	}
	for i := 0; i < len(sections); i++ {
		sec := sections[i]
		// A section that is only its heading joins the next one.
		start := sec.s
		for i+1 < len(sections) && onlyHeadings(sec) {
			i++
			sec = sections[i]
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// A chunk that comes out too long is cut between pieces first.
		p := &packer{ctx: ctx, m: m, size: c.size, budget: c.size, overlap: c.overlap, cutAtPieces: true}
		prefix := ""
		if c.prefix && len(sec.path) > 0 {
			prefix = strings.Join(sec.path, " > ") + "\n\n"
			if n := c.tok.Count(prefix); n <= c.size/2 {
				p.prefix, p.tok = prefix, c.tok
				p.budget = c.size - n
				p.overlap = min(p.overlap, p.budget/2)
			} else {
				prefix = ""
			}
		}
		// Pieces: each block, split further when it alone is too big,
		// packed as they come.
		p.begin(true)
		for k, b := range sec.blocks {
			bs := max(b.s, start)
			if k == 0 {
				bs = start
			}
			be := sec.e
			if k+1 < len(sec.blocks) {
				be = sec.blocks[k+1].s
			}
			if bs >= be {
				continue
			}
			if b.kind == mdCode || b.kind == mdTable {
				p.levels = lineLevels
			} else {
				p.levels = textLevels
			}
			p.split(bs, be, 0)
		}
		if len(sec.blocks) == 0 {
			p.levels = textLevels
			p.split(start, sec.e, 0)
		}
		spans, err := p.finish()
		if err != nil {
			return nil, err
		}
		add(p, spans, sec.path, prefix)
	}
	return out, nil
}

func onlyHeadings(s mdSection) bool {
	for _, b := range s.blocks {
		if b.kind != mdHeading {
			return false
		}
	}
	return true
}

// parseMarkdown finds the front matter (front.e == 0 when there is none)
// and the sections of text, in order, covering text after the front matter.
func parseMarkdown(text string) (front span, sections []mdSection) {
	pos := 0
	if fe := frontMatterEnd(text); fe > 0 {
		front = span{0, fe}
		pos = fe
	}
	var (
		stack     []mdHeadingEntry
		cur       = mdSection{s: pos}
		open      = false // a text or table block is open
		openKind  uint8
		paraLines int
		inFence   = false
		fenceChar byte
		fenceLen  int
	)
	newSection := func(at int, level int, title string) {
		cur.e = at
		sections = append(sections, cur)
		for len(stack) > 0 && stack[len(stack)-1].level >= level {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, mdHeadingEntry{level, title})
		path := make([]string, len(stack))
		for k, h := range stack {
			path[k] = h.title
		}
		cur = mdSection{s: at, path: path, blocks: []mdBlock{{at, mdHeading}}}
		open = false
	}
	startBlock := func(at int, kind uint8) {
		cur.blocks = append(cur.blocks, mdBlock{at, kind})
		open, openKind, paraLines = kind == mdText || kind == mdTable, kind, 0
	}
	for pos < len(text) {
		end := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if end < 0 {
			end = len(text)
		} else {
			end += pos
			next = end + 1
		}
		line := strings.TrimRight(text[pos:end], "\r")
		body := stripContainers(line)
		switch {
		case inFence:
			if ch, n, rest := fence(body); ch == fenceChar && n >= fenceLen && strings.TrimSpace(rest) == "" {
				inFence = false
			}
		case strings.TrimSpace(line) == "":
			open = false
		case fenceOpen(body, &fenceChar, &fenceLen):
			startBlock(pos, mdCode)
			open, inFence = false, true
		default:
			if level, title, ok := atxHeading(line); ok {
				newSection(pos, level, title)
				break
			}
			if open && openKind == mdText && paraLines > 0 {
				if level := setextLevel(line); level > 0 {
					b := cur.blocks[len(cur.blocks)-1]
					para := text[b.s:pos]
					if setextEligible(para) {
						cur.blocks = cur.blocks[:len(cur.blocks)-1]
						newSection(b.s, level, joinLines(para))
						break
					}
				}
				if paraLines == 1 && isDelimiterRow(line) {
					cur.blocks[len(cur.blocks)-1].kind = mdTable
					openKind = mdTable
					break
				}
			}
			if strings.HasPrefix(strings.TrimLeft(body, " \t"), "|") || (open && openKind == mdTable && strings.Contains(line, "|")) {
				if !open || openKind != mdTable {
					startBlock(pos, mdTable)
				}
				break
			}
			if !open || openKind != mdText {
				startBlock(pos, mdText)
			}
			paraLines++
		}
		pos = next
	}
	cur.e = len(text)
	sections = append(sections, cur)
	// Drop sections with nothing in them (the empty preamble before a
	// heading at the start).
	out := sections[:0]
	for _, s := range sections {
		if s.s < s.e {
			if len(s.blocks) == 0 || s.blocks[0].s > s.s {
				s.blocks = append([]mdBlock{{s.s, mdText}}, s.blocks...)
			}
			out = append(out, s)
		}
	}
	return front, out
}

type mdHeadingEntry struct {
	level int
	title string
}

// frontMatterEnd returns the end of the YAML (---) or TOML (+++) front
// matter at the start of text, including its closing line, or 0.
func frontMatterEnd(text string) int {
	var delim string
	switch {
	case strings.HasPrefix(text, "---"):
		delim = "---"
	case strings.HasPrefix(text, "+++"):
		delim = "+++"
	default:
		return 0
	}
	nl := strings.IndexByte(text, '\n')
	if nl < 0 || strings.TrimRight(text[:nl], " \t\r") != delim {
		return 0
	}
	pos := nl + 1
	for pos < len(text) {
		end := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if end < 0 {
			end = len(text)
		} else {
			end += pos
			next = end + 1
		}
		l := strings.TrimRight(text[pos:end], " \t\r")
		if l == delim || (delim == "---" && l == "...") {
			return next
		}
		pos = next
	}
	return 0
}

// stripContainers removes up to three spaces of indentation, block quote
// markers and list markers' indentation, for finding fences inside quotes
// and lists.
func stripContainers(line string) string {
	for {
		t := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(t, ">") {
			line = t[1:]
			continue
		}
		return t
	}
}

// fence reports the fence character and length at the start of s (after
// containers), and the rest of the line.
func fence(s string) (byte, int, string) {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return 0, 0, s
	}
	c := s[0]
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	if n < 3 {
		return 0, 0, s
	}
	return c, n, s[n:]
}

func fenceOpen(s string, ch *byte, n *int) bool {
	c, k, rest := fence(s)
	if k == 0 || (c == '`' && strings.IndexByte(rest, '`') >= 0) {
		return false
	}
	*ch, *n = c, k
	return true
}

// atxHeading parses "## Title ##".
func atxHeading(line string) (int, string, bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || !strings.HasPrefix(t, "#") {
		return 0, "", false
	}
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n > 6 || (n < len(t) && t[n] != ' ' && t[n] != '\t') {
		return 0, "", false
	}
	title := strings.TrimSpace(t[n:])
	// A closing sequence of #s, if separated by a space.
	if k := strings.TrimRight(title, "#"); k != title && (k == "" || strings.HasSuffix(k, " ") || strings.HasSuffix(k, "\t")) {
		title = strings.TrimSpace(k)
	}
	return n, title, true
}

// setextLevel returns 1 for a "===" underline, 2 for "---", else 0.
func setextLevel(line string) int {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return 0
	}
	t = strings.TrimRight(t, " \t")
	if t == "" {
		return 0
	}
	if strings.Trim(t, "=") == "" {
		return 1
	}
	if strings.Trim(t, "-") == "" {
		return 2
	}
	return 0
}

// setextEligible reports whether a paragraph may be a setext heading's
// text: not a list item, quote or table row.
func setextEligible(para string) bool {
	t := strings.TrimLeft(para, " ")
	if t == "" {
		return false
	}
	switch t[0] {
	case '>', '|':
		return false
	case '-', '*', '+':
		if len(t) == 1 || t[1] == ' ' || t[1] == '\t' {
			return false
		}
	}
	// "1. item"
	k := 0
	for k < len(t) && t[k] >= '0' && t[k] <= '9' {
		k++
	}
	if k > 0 && k < len(t)-1 && (t[k] == '.' || t[k] == ')') && t[k+1] == ' ' {
		return false
	}
	return true
}

// isDelimiterRow reports whether line is a table's delimiter row
// ("|---|:--:|" or "--- | ---").
func isDelimiterRow(line string) bool {
	t := strings.TrimSpace(line)
	if !strings.Contains(t, "-") || (!strings.Contains(t, "|") && !strings.HasPrefix(t, ":")) {
		return false
	}
	for _, c := range []byte(t) {
		switch c {
		case '|', '-', ':', ' ', '\t':
		default:
			return false
		}
	}
	return strings.Contains(t, "|")
}

func joinLines(para string) string {
	return strings.Join(strings.Fields(para), " ")
}
