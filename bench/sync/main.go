// Command sync measures Pipeline.Sync on the Go distribution's own
// documentation ($GOROOT/doc, and the *.md and *.html files under
// $GOROOT/src) with the offline Hashing embedder, into a persistent flat
// store with its BM25 index beside it, as `rag ingest` runs. It prints a
// Markdown table of four syncs of the same tree:
//
//   - first: an empty store; every file is read, parsed, chunked, embedded
//     and written;
//   - unchanged: the same tree again; nothing should be read or parsed
//     and no embedding request made (the files that failed are remembered
//     in a rag.SyncFailures, as rag ingest does);
//   - touched: every file's modification time changed, not its bytes;
//     files are read and hashed, not parsed;
//   - one edited: one file's content changed; only it is parsed.
//
// The tree is copied into a temporary directory first (-copies times,
// each copy in a directory of its own, to have more files than the ~40 of
// a Go distribution), so that touching it leaves GOROOT alone. The
// embedding cache is off, so copies are embedded like different files.
//
//	go run ./bench/sync
//	go run ./bench/sync -copies 50 -include '*.md' -include '*.html' -include 'doc/**'
//
// Formats without a loader in package loader's Default registry are read
// as plain text by a fallback this command registers (it says which), so
// that the measure runs in a tree that lacks them; with the module's
// loaders, those are used.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/store/flat"
)

func main() {
	goroot := flag.String("goroot", runtime.GOROOT(), "Go distribution whose documentation is synced")
	copies := flag.Int("copies", 20, "copies of the tree synced together")
	concurrency := flag.Int("concurrency", 0, "files parsed at once (0: GOMAXPROCS)")
	var include []string
	flag.Func("include", "a glob of the files synced, repeatable (default: doc/**, src/**/*.md, src/**/*.html)", func(g string) error {
		include = append(include, g)
		return nil
	})
	memory := flag.Bool("memory", false, "an in-memory store and index instead of persistent ones (no fsync)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the first sync to this file")
	flag.Parse()
	if len(include) == 0 {
		include = []string{"doc/**", "src/**/*.md", "src/**/*.html"}
	}
	ctx := context.Background()

	tmp, err := os.MkdirTemp("", "bench-sync-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	tree := filepath.Join(tmp, "tree")
	files, bytes, err := copyTree(os.DirFS(*goroot), tree, include, *copies)
	if err != nil {
		log.Fatal(err)
	}
	fallbacks := registerFallbacks(os.DirFS(tree))

	var calls atomic.Int64
	h := embed.NewHashing(embed.HashingOptions{})
	counted := embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		calls.Add(1)
		return h.Embed(ctx, texts)
	})
	storeDir := filepath.Join(tmp, "store")
	if err := os.Mkdir(storeDir, 0o755); err != nil {
		log.Fatal(err)
	}
	storeKind := "persistent flat store and BM25 index"
	fo, lo := flat.Options{Path: filepath.Join(storeDir, "vectors.flat")}, rag.LexicalOptions{Path: filepath.Join(storeDir, "bm25.idx")}
	if *memory {
		storeKind = "in-memory flat store and BM25 index"
		fo, lo = flat.Options{}, rag.LexicalOptions{}
	}
	st, err := flat.New(fo)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	p, err := rag.New(rag.Options{
		Embedder: counted,
		Store:    st,
		Lexical:  &lo,
		Ingest:   rag.IngestOptions{NoCache: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	fmt.Printf("Tree: %d files, %.1f MB (%d copies of %s: %s); %d CPUs; Hashing embedder (384 dimensions), %s, embedding cache off.\n",
		files, float64(bytes)/1e6, *copies, *goroot, strings.Join(include, " "), runtime.GOMAXPROCS(0), storeKind)
	if len(fallbacks) > 0 {
		fmt.Printf("No loader registered for %q: read as plain text by this command's fallback.\n", fallbacks)
	}
	fmt.Println()
	fmt.Println("| sync | files | stored | unchanged | failed | parsed | MB parsed | chunks | embedding calls | time | CPU time | files/s | MB/s |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	failures := map[string]error{} // by path, the last sync's reason
	var failed rag.SyncFailures    // as rag ingest keeps it: failed files are not read again until they change
	sync := func(name string) {
		c0, cpu0 := calls.Load(), cpuTime()
		rep, err := p.Sync(ctx, os.DirFS(tree), &rag.SyncOptions{Root: "goroot", Concurrency: *concurrency, Failures: &failed})
		if err != nil {
			log.Fatal(err)
		}
		secs := rep.Elapsed.Seconds()
		cpu := cpuTime() - cpu0
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %.2f | %d | %d | %v | %v | %.0f | %.1f |\n", name, len(rep.Files), rep.Stored, rep.Unchanged, rep.Failed, rep.Parsed,
			float64(rep.Bytes)/1e6, rep.Ingest.Chunks, calls.Load()-c0, rep.Elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(len(rep.Files))/secs, float64(bytes)/1e6/secs)
		for _, f := range rep.Files {
			if f.Status == rag.FileFailed {
				failures[f.Path] = f.Err
			}
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		sync("first")
		pprof.StopCPUProfile()
		f.Close()
	} else {
		sync("first")
	}
	sync("unchanged")
	later := time.Now().Add(time.Hour)
	var edited string
	filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if edited == "" {
				edited = p
			}
			err = os.Chtimes(p, later, later)
		}
		return err
	})
	sync("touched")
	f, err := os.OpenFile(edited, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(f, "\nAn edit.")
	f.Close()
	sync("one edited")
	if len(failures) > 0 {
		fmt.Printf("\n%d files failed (remembered in a rag.SyncFailures, as rag ingest does, so later syncs do not read them):\n", len(failures))
		paths := slices.Sorted(maps.Keys(failures))
		for _, p := range paths[:min(len(paths), 3)] {
			fmt.Printf("  %s: %v\n", p, errors.Unwrap(failures[p]))
		}
		if len(paths) > 3 {
			fmt.Printf("  and %d more\n", len(paths)-3)
		}
	}
	fmt.Println("\nfiles/s and MB/s are over the whole tree (every file settled, read or not) and the sync's wall time;")
	fmt.Println("CPU time is the process's (user + system), which a shared machine's wall time hides.")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// copyTree copies the files of src that one of the globs matches into
// copies directories under dst, and returns the files and bytes copied.
func copyTree(src fs.FS, dst string, globs []string, copies int) (int, int64, error) {
	var files int
	var bytes int64
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() || !matches(globs, p) {
			return err
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		for c := range copies {
			out := filepath.Join(dst, fmt.Sprintf("copy%03d", c), filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
			files++
			bytes += int64(len(data))
		}
		return nil
	})
	return files, bytes, err
}

// matches is SyncOptions.Include's rule for the few globs of this command:
// "dir/**" matches under dir, "src/**/*.ext" matches *.ext under src.
func matches(globs []string, p string) bool {
	for _, g := range globs {
		if dir, ok := strings.CutSuffix(g, "/**"); ok && strings.HasPrefix(p, dir+"/") {
			return true
		}
		if dir, pat, ok := strings.Cut(g, "/**/"); ok && strings.HasPrefix(p, dir+"/") {
			if m, _ := path.Match(pat, path.Base(p)); m {
				return true
			}
		}
		if m, _ := path.Match(g, path.Base(p)); m && !strings.Contains(g, "/") {
			return true
		}
	}
	return false
}

// registerFallbacks registers a plain-text loader in loader.Default for
// every extension of the tree's files that has none, and returns them.
func registerFallbacks(tree fs.FS) []string {
	seen := map[string]bool{}
	var exts []string
	fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			ext := strings.ToLower(path.Ext(p))
			if !seen[ext] && !loader.Default.Supports(p) {
				exts = append(exts, ext)
			}
			seen[ext] = true
		}
		return nil
	})
	if len(exts) > 0 {
		loader.Register("plain text (bench fallback)", loader.LoaderFunc(func(_ context.Context, f *loader.File) ([]document.Document, error) {
			return []document.Document{{Content: strings.ToValidUTF8(string(f.Data), "\uFFFD")}}, nil
		}), exts, nil)
	}
	return exts
}
