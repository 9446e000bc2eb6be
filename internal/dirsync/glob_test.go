package dirsync

import (
	"errors"
	"path"
	"testing"
)

func TestPatterns(t *testing.T) {
	for _, c := range []struct {
		glob, name string
		want       bool
	}{
		{"*.md", "README.md", true},
		{"*.md", "docs/a/README.md", true},
		{"*.md", "docs/a/README.txt", false},
		{".*", "docs/.git", true},
		{"docs/*.md", "docs/a.md", true},
		{"docs/*.md", "docs/x/a.md", false},
		{"docs/**/*.md", "docs/a.md", true},
		{"docs/**/*.md", "docs/x/y/a.md", true},
		{"docs/**/*.md", "src/docs/a.md", false},
		{"**/test/*", "a/b/test/c.go", true},
		{"**/test/*", "test/c.go", true},
		{"build/**", "build", true},
		{"build/**", "build/x/y", true},
		{"build/**", "builder/x", false},
		{"/docs/a.md", "docs/a.md", true},
	} {
		ps, err := compile([]string{c.glob})
		if err != nil {
			t.Fatal(err)
		}
		if got := anyMatch(ps, c.name); got != c.want {
			t.Errorf("%q on %q: %v, want %v", c.glob, c.name, got, c.want)
		}
	}
	for _, bad := range []string{"[", "docs/[a-/x"} {
		if _, err := compile([]string{bad}); !errors.Is(err, path.ErrBadPattern) {
			t.Errorf("%q: %v, want path.ErrBadPattern", bad, err)
		}
	}
}

func TestDocID(t *testing.T) {
	for _, c := range []struct {
		root, path string
		n          int
		want       string
	}{
		{"", "a.md", 0, "a.md"},
		{"docs", "a.md", 0, "docs//a.md"},
		{"docs", "rows.csv", 3, "docs//rows.csv#3"},
	} {
		if got := DocID(c.root, c.path, c.n); got != c.want {
			t.Errorf("DocID(%q, %q, %d) = %q, want %q", c.root, c.path, c.n, got, c.want)
		}
	}
}
