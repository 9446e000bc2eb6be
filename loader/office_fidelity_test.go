package loader_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/loader/internal/fidelity"
)

// The fidelity tests compare what the loaders extract with what
// independent tools extract from the same files: pandoc for the files it
// writes (DOCX, ODT, EPUB, PPTX), excelize's own cell values for real
// workbooks. The measure is word-level F1 (fidelity.F1); every file must
// reach 0.99.

const officeMinF1 = 0.99

// scifactAbstracts returns n abstracts spread over the corpus.
func scifactAbstracts(t *testing.T, n int) []abstract {
	t.Helper()
	all := fidelity.SciFact(t, func(a abstract) bool { return len(strings.Fields(a.Text)) >= 60 })
	if len(all) < n {
		t.Fatalf("only %d abstracts", len(all))
	}
	out := make([]abstract, n)
	for i := range out {
		out[i] = all[i*len(all)/n]
	}
	return out
}

// mdEscape escapes every ASCII punctuation character, so that pandoc
// reads the abstract's text as plain words (no emphasis, math,
// citations or sub- and superscripts).
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if r < 128 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdTitle is a title as the loaders write it: its white space collapsed.
func mdTitle(s string) string { return strings.Join(strings.Fields(s), " ") }

// fidelitySource writes abstracts as a Markdown source with every
// structure the loaders convert: a heading per abstract, paragraphs, a
// bulleted list with a nested item, a numbered list, a table.
func fidelitySource(abs []abstract) string {
	var b strings.Builder
	for _, a := range abs {
		ss := sentences(a.Text)
		take := func(n int) []string {
			n = min(n, len(ss))
			out := ss[:n]
			ss = ss[n:]
			return out
		}
		fmt.Fprintf(&b, "# %s\n\n", mdEscape(a.Title))
		fmt.Fprintf(&b, "%s\n\n", mdEscape(strings.Join(take(2), " ")))
		if bs := take(3); len(bs) > 0 {
			b.WriteString("## Key sentences\n\n")
			for i, s := range bs {
				indent := ""
				if i == 2 {
					indent = "    "
				}
				fmt.Fprintf(&b, "%s- %s\n", indent, mdEscape(s))
			}
			b.WriteString("\n")
		}
		if ol := take(2); len(ol) > 0 {
			for i, s := range ol {
				fmt.Fprintf(&b, "%d. %s\n", i+1, mdEscape(s))
			}
			b.WriteString("\n")
		}
		if ts := take(2); len(ts) > 0 {
			b.WriteString("| Document | Sentence |\n| --- | --- |\n")
			for _, s := range ts {
				fmt.Fprintf(&b, "| %s | %s |\n", mdEscape(a.ID), mdEscape(s))
			}
			b.WriteString("\n")
		}
		if rest := take(len(ss)); len(rest) > 0 {
			fmt.Fprintf(&b, "%s\n\n", mdEscape(strings.Join(rest, " ")))
		}
	}
	return b.String()
}

func pandocRun(t *testing.T, pandoc, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(pandoc, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("pandoc %v: %v\n%s", args, err, stderr)
	}
	return out
}

// f1Summary logs the median and minimum of scores and fails the files
// below officeMinF1.
func f1Summary(t *testing.T, format string, scores map[string]float64) {
	t.Helper()
	var all []float64
	for name, f := range scores {
		all = append(all, f)
		if f < officeMinF1 {
			t.Errorf("%s: %s: F1 %.4f < %.2f", format, name, f, officeMinF1)
		}
	}
	if len(all) == 0 {
		t.Fatalf("%s: no files measured", format)
	}
	slices.Sort(all)
	median := all[len(all)/2]
	if len(all)%2 == 0 {
		median = (all[len(all)/2-1] + all[len(all)/2]) / 2
	}
	t.Logf("%s: %d files, word-level F1 median %.4f, min %.4f", format, len(all), median, all[0])
}

// TestPandocFidelity writes SciFact abstracts with pandoc as DOCX, ODT,
// EPUB and PPTX and compares the loaders' text with pandoc's own
// plain-text rendering of the same source (title, author and date
// included, as the written files carry them on their title page).
func TestPandocFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pandoc 60 times")
	}
	pandoc := fidelity.Tool(t, "pandoc")
	const files, perFile = 12, 4
	abs := scifactAbstracts(t, files*perFile)
	dir := t.TempDir()
	formats := []string{"docx", "odt", "epub", "pptx"}
	scores := map[string]map[string]float64{}
	for _, f := range formats {
		scores[f] = map[string]float64{}
	}
	for i := range files {
		group := abs[i*perFile : (i+1)*perFile]
		src := fmt.Sprintf("doc%02d.md", i)
		source := fidelitySource(group)
		if err := os.WriteFile(filepath.Join(dir, src), []byte(source), 0o644); err != nil {
			t.Fatal(err)
		}
		meta := []string{"-M", "title=" + group[0].Title, "-M", "author=SciFact corpus", "-M", "date=2020", "-M", "lang=en"}
		want := string(pandocRun(t, pandoc, dir, append([]string{"-s", "-f", "markdown", "-t", "plain", src}, meta...)...))
		for _, format := range formats {
			out := strings.TrimSuffix(src, ".md") + "." + format
			pandocRun(t, pandoc, dir, append([]string{"-s", "-f", "markdown", "-o", out, src}, meta...)...)
			data, err := os.ReadFile(filepath.Join(dir, out))
			if err != nil {
				t.Fatal(err)
			}
			docs, err := loader.Load(context.Background(), &loader.File{Name: out, Data: data})
			if err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			got := docs[0].Content
			scores[format][out] = fidelity.F1(got, want)
			// The structure is kept as Markdown, not only the words.
			if !strings.Contains(got, "# "+mdTitle(group[1].Title)) {
				t.Errorf("%s: no heading for %q", out, group[1].Title)
			}
			for _, mark := range []string{"\n- ", "\n    - ", "\n1. ", "\n2. ", "\n| --- | --- |\n"} {
				if strings.Contains(source, mark) && !strings.Contains(got, mark) {
					t.Errorf("%s: no %q in the Markdown", out, mark)
				}
			}
			if docs[0].Title != group[0].Title {
				t.Errorf("%s: title %q, want %q", out, docs[0].Title, group[0].Title)
			}
			if scores[format][out] < officeMinF1 && os.Getenv("RAG_FIDELITY_DUMP") != "" {
				os.WriteFile(filepath.Join(os.Getenv("RAG_FIDELITY_DUMP"), out+".got"), []byte(got), 0o644)
				os.WriteFile(filepath.Join(os.Getenv("RAG_FIDELITY_DUMP"), out+".want"), []byte(want), 0o644)
			}
		}
	}
	for _, f := range formats {
		f1Summary(t, f, scores[f])
	}
}

// excelizeTestdata returns the directory of real workbooks that ships
// in excelize's module, when the module cache has it.
func excelizeTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/xuri/excelize/v2").Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "test")
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("excelize's module directory not found (go list: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Book1.xlsx")); err != nil {
		t.Skipf("excelize's test workbooks not in the module cache: %v", err)
	}
	return dir
}

// TestXLSXFidelity reads the real workbooks in excelize's module and
// compares the loader's text with excelize's own cell values (and sheet
// names). Both read cells with excelize, so this measures what the
// loader adds (trimming, escaping, tables), not an independent
// extraction. The encrypted workbooks must fail with ErrEncrypted.
func TestXLSXFidelity(t *testing.T) {
	dir := excelizeTestdata(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]float64{}
	encrypted := 0
	for _, p := range paths {
		name := filepath.Base(p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs, lerr := loader.Load(context.Background(), &loader.File{Name: name, Data: data})
		if strings.HasPrefix(name, "encrypt") {
			encrypted++
			if !errors.Is(lerr, loader.ErrEncrypted) {
				t.Errorf("%s: %v, want ErrEncrypted", name, lerr)
			}
			continue
		}
		wb, err := excelize.OpenFile(p)
		if err != nil {
			t.Fatalf("excelize cannot open %s: %v", name, err)
		}
		var want strings.Builder
		cells := 0
		for _, sheet := range wb.GetSheetList() {
			rows, err := wb.GetRows(sheet)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, sheet, err)
			}
			var vals []string
			for _, r := range rows {
				for _, c := range r {
					if strings.TrimSpace(c) != "" {
						vals = append(vals, c)
					}
				}
			}
			if len(vals) > 0 {
				want.WriteString(sheet + "\n" + strings.Join(vals, "\n") + "\n")
				cells += len(vals)
			}
		}
		wb.Close()
		if cells == 0 {
			if !errors.Is(lerr, loader.ErrNoText) {
				t.Errorf("%s has no cell values; Load: %v, want ErrNoText", name, lerr)
			}
			continue
		}
		if lerr != nil {
			t.Errorf("%s: %v", name, lerr)
			continue
		}
		scores[name] = fidelity.F1(docs[0].Content, want.String())
	}
	if encrypted == 0 {
		t.Error("no encrypted workbook among excelize's test files")
	}
	f1Summary(t, "xlsx (excelize's test workbooks)", scores)
}
