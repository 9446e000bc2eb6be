package chunk

import (
	"path"
	"strings"
	"sync"
)

var defaultChunkers = sync.OnceValues(func() (Chunker, Chunker) {
	return NewRecursive(RecursiveOptions{}), NewMarkdown(MarkdownOptions{})
})

// ByExtension returns a default chunker for a file name or extension
// (".md", "notes/README.markdown"): a Markdown chunker with zero options
// for .md, .markdown, .mdown, .mkd and .mdx, and a Recursive chunker with
// zero options for anything else. The chunkers are shared and safe for
// concurrent use.
func ByExtension(name string) Chunker {
	rec, md := defaultChunkers()
	ext := strings.ToLower(path.Ext(name))
	if ext == "" && strings.HasPrefix(name, ".") {
		ext = strings.ToLower(name)
	}
	switch ext {
	case ".md", ".markdown", ".mdown", ".mkd", ".mdx":
		return md
	}
	return rec
}
