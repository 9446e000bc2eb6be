package chunk_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/tokenizer"
)

func mdChunks(t *testing.T, opts chunk.MarkdownOptions, text string) []chunk.Chunk {
	t.Helper()
	tok := opts.Tokenizer
	if tok == nil {
		tok = tokenizer.CL100K()
	}
	size := opts.Size
	if size == 0 {
		size = chunk.DefaultSize
	}
	ov := opts.Overlap
	if ov == 0 {
		ov = -1
	}
	return runChecked(t, chunk.NewMarkdown(opts), text, limits{tok: tok, size: size, overlap: wantOverlap(size, ov), prefix: opts.HeadingPrefix})
}

func TestMarkdownHeadingPaths(t *testing.T) {
	text := "Intro before any heading.\n\n# Install\n\nGeneral steps.\n\n## Linux\n\nUse apt.\n\n### Debian\n\nUse apt-get.\n\n## macOS ##\n\nUse brew.\n\nUsage\n=====\n\nRun it.\n\nOptions\n-------\n\nFlags here.\n"
	cs := mdChunks(t, chunk.MarkdownOptions{}, text)
	want := []struct {
		path []string
		text string
	}{
		{nil, "Intro before any heading."},
		{[]string{"Install"}, "# Install\n\nGeneral steps."},
		{[]string{"Install", "Linux"}, "## Linux\n\nUse apt."},
		{[]string{"Install", "Linux", "Debian"}, "### Debian\n\nUse apt-get."},
		{[]string{"Install", "macOS"}, "## macOS ##\n\nUse brew."},
		{[]string{"Usage"}, "Usage\n=====\n\nRun it."},
		{[]string{"Usage", "Options"}, "Options\n-------\n\nFlags here."},
	}
	if len(cs) != len(want) {
		t.Fatalf("got %d chunks, want %d: %+v", len(cs), len(want), cs)
	}
	for i, w := range want {
		if !slices.Equal(cs[i].Headings, w.path) || cs[i].Text != w.text {
			t.Errorf("chunk %d = %q %q, want %q %q", i, cs[i].Headings, cs[i].Text, w.path, w.text)
		}
	}
}

func TestMarkdownKeepsCodeAndTables(t *testing.T) {
	code := "```go\nfunc main() {\n\n\tfmt.Println(\"hello\")\n\n}\n```"
	table := "| name | value |\n|------|-------|\n| a    | 1     |\n| b    | 2     |"
	para := strings.TrimSpace(strings.Repeat("Some words in a paragraph. ", 6))
	text := "# Doc\n\n" + para + "\n\n" + code + "\n\n" + para + "\n\n" + table + "\n\n" + para + "\n"
	tok := tokenizer.CL100K()
	// Room for one block and a bit, not two.
	size := max(tok.Count(code), tok.Count(table), tok.Count(para)) + 8
	cs := mdChunks(t, chunk.MarkdownOptions{Size: size}, text)
	var sawCode, sawTable bool
	for _, c := range cs {
		if strings.Contains(c.Text, "```") {
			sawCode = true
			if !strings.Contains(c.Text, code) {
				t.Errorf("code block split: %q", c.Text)
			}
		}
		if strings.Contains(c.Text, "|---") {
			sawTable = true
			if !strings.Contains(c.Text, table) {
				t.Errorf("table split: %q", c.Text)
			}
		}
	}
	if !sawCode || !sawTable {
		t.Errorf("code or table missing from chunks: %+v", cs)
	}
}

func TestMarkdownLargeCodeBlockSplitAtLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Big\n\n```\n")
	for i := range 200 {
		b.WriteString("line of code number ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\n")
	}
	b.WriteString("```\n")
	text := b.String()
	cs := mdChunks(t, chunk.MarkdownOptions{Size: 64}, text)
	if len(cs) < 3 {
		t.Fatalf("got %d chunks, want the block split", len(cs))
	}
	for _, c := range cs {
		rest, _, _ := strings.Cut(text[c.End:], "\n")
		if strings.TrimSpace(rest) != "" {
			t.Errorf("chunk %d ends mid-line at %d: %q", c.Index, c.End, c.Text)
		}
		if !slices.Equal(c.Headings, []string{"Big"}) {
			t.Errorf("chunk %d headings %q", c.Index, c.Headings)
		}
	}
}

func TestMarkdownFencedHeadingIsCode(t *testing.T) {
	text := "# Real\n\n```md\n# Not a heading\nText\n===\n```\n\nAfter.\n"
	cs := mdChunks(t, chunk.MarkdownOptions{}, text)
	for _, c := range cs {
		if !slices.Equal(c.Headings, []string{"Real"}) {
			t.Errorf("chunk %d has headings %q; fenced text must not be parsed", c.Index, c.Headings)
		}
	}
}

func TestMarkdownFrontMatter(t *testing.T) {
	text := "---\ntitle: Hello\ndate: 2024-01-01\n---\n# Title\n\nBody text.\n"
	cs := mdChunks(t, chunk.MarkdownOptions{}, text)
	if len(cs) != 2 || cs[0].Text != "---\ntitle: Hello\ndate: 2024-01-01\n---" || cs[0].Headings != nil {
		t.Fatalf("want the front matter as its own chunk, got %+v", cs)
	}
	if cs[1].Text != "# Title\n\nBody text." || !slices.Equal(cs[1].Headings, []string{"Title"}) {
		t.Fatalf("chunk 1 = %+v", cs[1])
	}
	cs, err := chunk.NewMarkdown(chunk.MarkdownOptions{SkipFrontMatter: true}).Chunk(context.Background(), text)
	if err != nil || len(cs) != 1 || strings.Contains(cs[0].Text, "title:") {
		t.Fatalf("SkipFrontMatter: %+v, %v", cs, err)
	}
	// "---" not at the very start is no front matter.
	cs = mdChunks(t, chunk.MarkdownOptions{}, "Para\n\n---\nkey: v\n---\n")
	for _, c := range cs {
		if c.Headings == nil && strings.HasPrefix(c.Text, "---") && c.Start == 0 {
			t.Errorf("front matter found mid-document: %+v", cs)
		}
	}
}

func TestMarkdownHeadingPrefix(t *testing.T) {
	text := "# Install\n\n## Linux\n\n" + strings.Repeat("Install the package with apt. ", 30)
	tok := tokenizer.CL100K()
	cs := mdChunks(t, chunk.MarkdownOptions{Size: 40, HeadingPrefix: true}, text)
	if len(cs) < 2 {
		t.Fatalf("got %d chunks", len(cs))
	}
	for _, c := range cs {
		if !strings.HasPrefix(c.Text, "Install > Linux\n\n") {
			t.Errorf("chunk %d lacks the prefix: %q", c.Index, c.Text)
		}
		if c.Tokens != tok.Count(c.Text) || c.Tokens > 40 {
			t.Errorf("chunk %d: Tokens %d for %q", c.Index, c.Tokens, c.Text)
		}
	}
	// The heading-only section "Install" joined "Linux".
	if !strings.HasPrefix(cs[0].Text, "Install > Linux\n\n# Install\n\n## Linux") {
		t.Errorf("chunk 0 = %q", cs[0].Text)
	}
}

func TestMarkdownCRLFAndNesting(t *testing.T) {
	text := strings.ReplaceAll("# A\n\ntext a\n\n## B\n\n> quote\n> > nested\n\n- item\n  - sub\n    ```\n    code\n    ```\n", "\n", "\r\n")
	cs := mdChunks(t, chunk.MarkdownOptions{}, text)
	if len(cs) != 2 || !slices.Equal(cs[1].Headings, []string{"A", "B"}) {
		t.Fatalf("got %+v", cs)
	}
	for _, c := range cs {
		if strings.HasSuffix(c.Text, "\r") {
			t.Errorf("chunk %d keeps a trailing CR", c.Index)
		}
	}
}
