package loader

import (
	"strings"
	"time"

	"github.com/ragkit-go/rag/document"
)

// frontMatter is the metadata block at the top of a Markdown or text file:
// YAML between "---" lines, or TOML between "+++" lines. Only the flat
// subset is read: "key: value" (or "key = value") lines, lists ("[a, b]"
// inline or "- item" lines), quoted strings, comments, and TOML table
// headers (their keys become "table.key"). A YAML key whose value is an
// indented block (a nested map, a "|" or ">" text) gets the block's text.
type frontMatter struct {
	keys   []string // in file order
	values map[string]any
}

// splitFrontMatter finds a front matter block at the start of text. It
// returns the block's fields and the body after it; ok is false when the
// text has no block, or a block that is not closed.
func splitFrontMatter(text string) (fm frontMatter, body string, ok bool) {
	delim := ""
	switch {
	case strings.HasPrefix(text, "---\n"), strings.HasPrefix(text, "---\r\n"):
		delim = "---"
	case strings.HasPrefix(text, "+++\n"), strings.HasPrefix(text, "+++\r\n"):
		delim = "+++"
	default:
		return fm, text, false
	}
	rest := text[strings.IndexByte(text, '\n')+1:]
	var lines []string
	for off := 0; off < len(rest); {
		end := strings.IndexByte(rest[off:], '\n')
		next := len(rest)
		if end >= 0 {
			next = off + end + 1
		}
		line := strings.TrimRight(rest[off:next], "\r\n")
		if line == delim || (delim == "---" && line == "...") {
			fm = frontMatter{values: map[string]any{}}
			if delim == "---" {
				fm.parseYAML(lines)
			} else {
				fm.parseTOML(lines)
			}
			return fm, rest[next:], true
		}
		lines = append(lines, line)
		off = next
	}
	return fm, text, false
}

func (fm *frontMatter) set(k string, v any) {
	if k == "" {
		return
	}
	if _, dup := fm.values[k]; !dup {
		fm.keys = append(fm.keys, k)
	}
	fm.values[k] = v
}

func (fm *frontMatter) parseYAML(lines []string) {
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if indent(line) > 0 || isComment(line) {
			continue // stray indented lines are read with the key they follow
		}
		k, v, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		k, v = strings.TrimSpace(unquote(strings.TrimSpace(k))), strings.TrimSpace(v)
		// The indented block under the key, if any.
		j := i + 1
		for j < len(lines) && (indent(lines[j]) > 0 || strings.HasPrefix(lines[j], "- ") || lines[j] == "-" || strings.TrimSpace(lines[j]) == "") {
			j++
		}
		for j > i+1 && strings.TrimSpace(lines[j-1]) == "" {
			j--
		}
		block := lines[i+1 : j]
		i = j - 1
		switch {
		case v == "|" || v == "|-" || v == ">" || v == ">-" || v == "" && len(block) > 0 && !isList(block):
			sep := "\n"
			if strings.HasPrefix(v, ">") {
				sep = " "
			}
			fm.set(k, dedent(block, sep))
		case v == "" && len(block) > 0:
			var items []string
			for _, b := range block {
				b = strings.TrimSpace(b)
				if item, ok := strings.CutPrefix(b, "-"); ok {
					items = append(items, unquote(strings.TrimSpace(item)))
				}
			}
			fm.set(k, items)
		default:
			fm.set(k, scalarOrList(stripComment(v)))
		}
	}
}

func (fm *frontMatter) parseTOML(lines []string) {
	table := ""
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || isComment(line) {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			table = strings.Trim(line, "[] ")
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		k = unquote(strings.TrimSpace(k))
		if table != "" {
			k = table + "." + k
		}
		fm.set(k, scalarOrList(stripComment(strings.TrimSpace(v))))
	}
}

func isList(block []string) bool {
	for _, b := range block {
		if t := strings.TrimSpace(b); t != "" && t != "-" && !strings.HasPrefix(t, "- ") {
			return false
		}
	}
	return true
}

func indent(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }

func isComment(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "#") }

// dedent joins an indented block's lines, less their common indentation.
func dedent(block []string, sep string) string {
	common := -1
	for _, b := range block {
		if strings.TrimSpace(b) != "" && (common < 0 || indent(b) < common) {
			common = indent(b)
		}
	}
	out := make([]string, len(block))
	for i, b := range block {
		if len(b) >= common && common > 0 {
			b = b[common:]
		}
		out[i] = strings.TrimRight(b, " \t")
	}
	return strings.TrimSpace(strings.Join(out, sep))
}

// stripComment removes a " # comment" after a value.
func stripComment(v string) string {
	if v == "" {
		return v
	}
	if q := v[0]; q == '"' || q == '\'' {
		for i := 1; i < len(v); i++ {
			if v[i] == '\\' && q == '"' {
				i++
				continue
			}
			if v[i] == q {
				if rest := strings.TrimSpace(v[i+1:]); rest == "" || rest[0] == '#' {
					return v[:i+1]
				}
				return v
			}
		}
		return v
	}
	if i := strings.Index(v, " #"); i >= 0 {
		return strings.TrimSpace(v[:i])
	}
	return v
}

// scalarOrList reads an inline value: "[a, 'b']" is a []string, true and
// false are booleans, anything else a string, unquoted.
func scalarOrList(v string) any {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		inner := strings.TrimSpace(v[1 : len(v)-1])
		items := []string{}
		if inner == "" {
			return items
		}
		for _, it := range splitList(inner) {
			items = append(items, unquote(strings.TrimSpace(it)))
		}
		return items
	}
	switch v {
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	return unquote(v)
}

// splitList splits at commas outside quotes.
func splitList(s string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" {
		out = append(out, s[start:])
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		inner := v[1 : len(v)-1]
		if v[0] == '"' {
			inner = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\t`, "\t").Replace(inner)
		} else {
			inner = strings.ReplaceAll(inner, "''", "'")
		}
		return inner
	}
	return v
}

// apply writes the front matter into d: title to Title, tags (or
// keywords) to Tags, author, language and dates to the loader's metadata
// keys, every other field to Metadata under its own name. A key the
// document model reserves ("_…", "rag_…") is kept as "frontmatter_" +
// key.
func (fm frontMatter) apply(d *document.Document) {
	if len(fm.keys) == 0 {
		return
	}
	if d.Metadata == nil {
		d.Metadata = make(map[string]any, len(fm.keys))
	}
	for _, k := range fm.keys {
		v := fm.values[k]
		s, isString := v.(string)
		switch lk := strings.ToLower(k); {
		case lk == "title" && isString && d.Title == "":
			d.Title = s
			continue
		case (lk == "tags" || lk == "keywords") && d.Tags == nil:
			switch x := v.(type) {
			case []string:
				d.Tags = x
				continue
			case string:
				if x != "" {
					d.Tags = splitTags(x)
					continue
				}
			}
		case (lk == "author" || lk == "authors") && isString:
			d.Metadata[MetaAuthor] = s
			continue
		case (lk == "lang" || lk == "language") && isString:
			d.Metadata[MetaLanguage] = s
			continue
		case lk == "date" || lk == "created" || lk == "published":
			if t, ok := parseDate(s); isString && ok {
				d.Metadata[MetaCreated] = t
				continue
			}
		case lk == "lastmod" || lk == "modified" || lk == "updated":
			if t, ok := parseDate(s); isString && ok {
				d.Metadata[MetaModified] = t
				continue
			}
		}
		if strings.HasPrefix(k, "_") || strings.HasPrefix(k, "rag_") {
			k = "frontmatter_" + k
		}
		d.Metadata[k] = v
	}
}

// splitTags reads "a, b" or "a b" as a list of tags.
func splitTags(s string) []string {
	sep := func(r rune) bool { return r == ',' }
	if !strings.Contains(s, ",") {
		sep = func(r rune) bool { return r == ' ' }
	}
	var out []string
	for _, t := range strings.FieldsFunc(s, sep) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// parseDate reads the date forms front matter and document properties
// use (RFC 3339, W3CDTF, ISO 8601 with or without a zone), in UTC.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
