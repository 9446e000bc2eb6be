// Command pdf measures loader/pdf's speed beside poppler's pdftotext on
// the same files: pages per second, the median of several runs of each
// file, and the engine's start (compiling PDFium or reading it from the
// cache directory, starting an instance). It prints a table; it is a measurement, not a test.
//
//	go run ./bench/pdf -dir "$(bash .ci/pdf-corpus.sh)" -runs 5
//
// pdftotext runs as a process per file, as it is used; its times include
// starting it (a few milliseconds). Files either tool cannot read, and
// those with no text, are left out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/loader/pdf"
)

func main() {
	dir := flag.String("dir", os.Getenv("RAG_PDF_CORPUS"), "directory of PDFs (and its sub-directories, one level); default $RAG_PDF_CORPUS")
	runs := flag.Int("runs", 5, "runs of each file for each tool; the median counts")
	instances := flag.Int("instances", 1, "PDFium instances (pdf.Options.Instances): more than one lets a file of 8 pages or more share its pages among them")
	noCache := flag.Bool("no-cache-dir", false, "compile PDFium in memory (pdf.Options.NoCacheDir) instead of reading it from the cache directory")
	flag.Parse()
	if err := run(*dir, *runs, pdf.Options{Instances: *instances, NoCacheDir: *noCache}); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pdf:", err)
		os.Exit(1)
	}
}

func run(dir string, runs int, opts pdf.Options) error {
	if dir == "" {
		return fmt.Errorf("no corpus: pass -dir or set RAG_PDF_CORPUS (bash .ci/pdf-corpus.sh prints one)")
	}
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		return fmt.Errorf("pdftotext not found (Debian package poppler-utils): %w", err)
	}
	var files []string
	for _, pat := range []string{"*.pdf", "*/*.pdf"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		return fmt.Errorf("no PDFs in %s", dir)
	}
	slices.Sort(files)

	ctx := context.Background()
	l := pdf.New(opts)
	defer l.Close()
	start := time.Now()
	_, _ = l.Load(ctx, &loader.File{Name: "empty.pdf", Data: []byte("%PDF-1.4\n")})
	cold := time.Since(start)

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "file\tpages\tours ms\tpdftotext ms\tours p/s\tpdftotext p/s\tratio\t\n")
	var pages int
	var oursTotal, theirsTotal time.Duration
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs, err := l.Load(ctx, &loader.File{Name: path, Data: data})
		if err != nil {
			continue
		}
		if exec.Command(tool, "-q", path, os.DevNull).Run() != nil {
			continue
		}
		n := len(docs[0].Spans)
		ours := median(runs, func() { _, _ = l.Load(ctx, &loader.File{Name: path, Data: data}) })
		theirs := median(runs, func() { _ = exec.Command(tool, "-q", "-enc", "UTF-8", path, os.DevNull).Run() })
		pages += n
		oursTotal += ours
		theirsTotal += theirs
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.1f\t%.0f\t%.0f\t%.2f\t\n", filepath.Base(path), n,
			ms(ours), ms(theirs), float64(n)/ours.Seconds(), float64(n)/theirs.Seconds(), ours.Seconds()/theirs.Seconds())
	}
	fmt.Fprintf(w, "all\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t\n", pages, ms(oursTotal), ms(theirsTotal),
		float64(pages)/oursTotal.Seconds(), float64(pages)/theirsTotal.Seconds(), oursTotal.Seconds()/theirsTotal.Seconds())
	if err := w.Flush(); err != nil {
		return err
	}
	from := "read from the cache directory, or compiled into it"
	if opts.NoCacheDir {
		from = "compiled in memory"
	}
	fmt.Printf("\nstart (PDFium %s, one instance started, a file opened): %v; %d instances, %d runs a file, median\n", from, cold.Round(time.Millisecond), opts.Instances, runs)
	return nil
}

func median(runs int, fn func()) time.Duration {
	ds := make([]time.Duration, runs)
	for i := range ds {
		t := time.Now()
		fn()
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
