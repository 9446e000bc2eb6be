package dirsync

import (
	"fmt"
	"path"
	"strings"
)

// A pattern is one include or exclude glob. A pattern without a slash
// matches a name at any depth (as in .gitignore: "*.md", ".git"); one
// with a slash matches the whole slash-separated path from the root,
// element by element with path.Match, where an element "**" matches any
// number of elements, none included ("docs/**/*.md", "build/**").
type pattern struct {
	elems []string // nil: match the base name against name
	name  string
}

// compile checks every pattern; a bad one gives an error matching
// path.ErrBadPattern.
func compile(globs []string) ([]pattern, error) {
	out := make([]pattern, 0, len(globs))
	for _, g := range globs {
		p := pattern{name: g}
		if strings.Contains(g, "/") {
			p.elems = strings.Split(strings.Trim(g, "/"), "/")
		}
		for _, e := range append(p.elems, g) {
			if e == "**" || strings.Contains(e, "/") {
				continue
			}
			if _, err := path.Match(e, ""); err != nil {
				return nil, fmt.Errorf("dirsync: pattern %q: %w", g, err)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func (p *pattern) match(name string) bool {
	if p.elems == nil {
		ok, _ := path.Match(p.name, path.Base(name))
		return ok
	}
	return matchElems(p.elems, strings.Split(name, "/"))
}

func matchElems(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchElems(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// anyMatch reports whether one of ps matches name.
func anyMatch(ps []pattern, name string) bool {
	for i := range ps {
		if ps[i].match(name) {
			return true
		}
	}
	return false
}
