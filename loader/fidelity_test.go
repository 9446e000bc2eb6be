package loader_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/loader/internal/fidelity"
)

// fidelityFiles is how many SciFact abstracts the fidelity tests write.
const fidelityFiles = 50

// minFidelity is the least word-level F1 a file may score.
const minFidelity = 0.99

type abstract = fidelity.Abstract

// scifact returns the first n SciFact abstracts with enough sentences
// for every layout.
func scifact(t *testing.T, n int) []abstract {
	t.Helper()
	out := fidelity.SciFact(t, func(a abstract) bool { return strings.Count(a.Text, ". ") >= 3 })
	return out[:min(n, len(out))]
}

// sentences splits an abstract at its sentence ends, roughly.
func sentences(text string) []string {
	var out []string
	for _, s := range strings.SplitAfter(text, ". ") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// layouts write an abstract as Markdown in one of a few structures:
// sections, lists, a table, quotes and emphasis. Each opens with front
// matter naming the title.
var layouts = []struct {
	name  string
	write func(b *strings.Builder, title string, ss []string)
}{
	{"sections", func(b *strings.Builder, title string, ss []string) {
		half := len(ss) / 2
		fmt.Fprintf(b, "# %s\n\n## Background\n\n%s\n\n## Results\n\n%s\n", title, strings.Join(ss[:half], " "), strings.Join(ss[half:], " "))
	}},
	{"lists", func(b *strings.Builder, title string, ss []string) {
		fmt.Fprintf(b, "# %s\n\n%s\n\n", title, ss[0])
		for _, s := range ss[1 : len(ss)/2+1] {
			fmt.Fprintf(b, "- %s\n", s)
		}
		b.WriteString("\n## Findings\n\n")
		for i, s := range ss[len(ss)/2+1:] {
			fmt.Fprintf(b, "%d. %s\n", i+1, s)
		}
	}},
	{"table", func(b *strings.Builder, title string, ss []string) {
		fmt.Fprintf(b, "# %s\n\n| Sentence | Text |\n|---|---|\n", title)
		for i, s := range ss {
			fmt.Fprintf(b, "| %d | %s |\n", i+1, strings.ReplaceAll(s, "|", `\|`))
		}
	}},
	{"mixed", func(b *strings.Builder, title string, ss []string) {
		first, rest, _ := strings.Cut(ss[0], " ")
		fmt.Fprintf(b, "# %s\n\n> %s\n\n**%s** %s %s\n\n### Notes\n\n", title, ss[1], first, rest, strings.Join(ss[2:len(ss)-1], " "))
		fmt.Fprintf(b, "- Last point\n    - *%s*\n", strings.TrimSuffix(ss[len(ss)-1], "."))
	}},
}

// markdownFile writes abstract a in layout l, with front matter.
func markdownFile(a abstract, l int) string {
	var b strings.Builder
	title := strings.TrimSuffix(strings.Join(strings.Fields(a.Title), " "), ".")
	fmt.Fprintf(&b, "---\ntitle: %q\ntags: [scifact, %s]\n---\n", title, layouts[l].name)
	layouts[l].write(&b, title, sentences(a.Text))
	return b.String()
}

func pandoc(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("pandoc %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// fidelityRun scores each abstract's extraction against pandoc's plain
// text and logs the median and the minimum per layout and overall.
func fidelityRun(t *testing.T, score func(t *testing.T, dir string, i int, md string) float64) {
	abstracts := scifact(t, fidelityFiles)
	dir := t.TempDir()
	var all []float64
	byLayout := map[string][]float64{}
	for i, a := range abstracts {
		l := i % len(layouts)
		f1 := score(t, dir, i, markdownFile(a, l))
		if f1 < minFidelity {
			t.Errorf("abstract %s (%s): F1 %.4f < %.2f", a.ID, layouts[l].name, f1, minFidelity)
		}
		all = append(all, f1)
		byLayout[layouts[l].name] = append(byLayout[layouts[l].name], f1)
	}
	for _, l := range layouts {
		med, lo := stats(byLayout[l.name])
		t.Logf("%-8s %2d files: median F1 %.4f, min %.4f", l.name, len(byLayout[l.name]), med, lo)
	}
	med, lo := stats(all)
	t.Logf("all      %2d files: median F1 %.4f, min %.4f", len(all), med, lo)
}

func stats(xs []float64) (median, lo float64) {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0, 0
	}
	if len(s)%2 == 1 {
		median = s[len(s)/2]
	} else {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return median, s[0]
}

// HTML written by pandoc from real text, extracted by the HTML loader,
// against pandoc's own plain-text rendering of that HTML.
func TestFidelityHTML(t *testing.T) {
	bin := fidelity.Tool(t, "pandoc")
	fidelityRun(t, func(t *testing.T, dir string, i int, md string) float64 {
		src := filepath.Join(dir, fmt.Sprintf("%d.md", i))
		page := filepath.Join(dir, fmt.Sprintf("%d.html", i))
		// The page's <title> says the title and its first heading opens
		// the body, as on most sites: no front matter here, or pandoc
		// would write the title twice (a title block above the heading).
		_, body, _ := strings.Cut(md[len("---\n"):], "\n---\n")
		title, _, _ := strings.Cut(strings.TrimPrefix(body, "# "), "\n")
		if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		pandoc(t, bin, "--standalone", "--metadata", "pagetitle="+title, "--from", "markdown", "--to", "html5", "--output", page, src)
		want := pandoc(t, bin, "--from", "html", "--to", "plain", page)
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := loader.Load(t.Context(), &loader.File{Name: page, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		f1 := fidelity.F1(docs[0].Content, want)
		if f1 < minFidelity {
			t.Logf("file %d: pandoc:\n%s\nloader:\n%s", i, want, docs[0].Content)
		}
		return f1
	})
}

// Markdown files, read by the Markdown loader, against pandoc's plain-text
// rendering of the same file (front matter is metadata to both).
func TestFidelityMarkdown(t *testing.T) {
	bin := fidelity.Tool(t, "pandoc")
	fidelityRun(t, func(t *testing.T, dir string, i int, md string) float64 {
		src := filepath.Join(dir, fmt.Sprintf("%d.md", i))
		if err := os.WriteFile(src, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
		want := pandoc(t, bin, "--from", "markdown", "--to", "plain", src)
		docs, err := loader.Load(t.Context(), &loader.File{Name: src, Data: []byte(md)})
		if err != nil {
			t.Fatal(err)
		}
		d := docs[0]
		if !slices.Contains(d.Tags, "scifact") || d.Title == "" || strings.HasPrefix(d.Content, "---") {
			t.Errorf("file %d: front matter not read: title %q, tags %q", i, d.Title, d.Tags)
		}
		f1 := fidelity.F1(d.Content, want)
		if f1 < minFidelity {
			t.Logf("file %d: pandoc:\n%s\nloader:\n%s", i, want, d.Content)
		}
		return f1
	})
}
