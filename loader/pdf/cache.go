package pdf

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/internal/atomicfile"
	"github.com/tetratelabs/wazero"
)

// pdfiumModule is the Go module whose WebAssembly build of PDFium this
// package runs; its version names the cache directory.
const pdfiumModule = "github.com/klippa-app/go-pdfium"

// DefaultCacheDir returns the directory where a Loader keeps PDFium's
// compiled code unless Options say otherwise: "rag/pdfium-<version>" in
// the user's cache directory (os.UserCacheDir: $XDG_CACHE_HOME or
// ~/.cache on Linux, ~/Library/Caches on macOS, %LocalAppData% on
// Windows), where version is go-pdfium's module version. It fails when
// the system has no user cache directory (no $HOME).
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("pdf: no cache directory for PDFium: %w", err)
	}
	return filepath.Join(base, "rag", "pdfium-"+pdfiumVersion()), nil
}

// pdfiumVersion is go-pdfium's module version as built into the program,
// or "devel" when the build does not record it (a replaced module): the
// cache stays correct then too, since wazero's entries are keyed by a hash
// of the WebAssembly module itself.
func pdfiumVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path != pdfiumModule {
				continue
			}
			if m.Replace != nil {
				m = m.Replace
			}
			if v := strings.Trim(m.Version, "()"); v != "" {
				return v
			}
		}
	}
	return "devel"
}

// The compilation caches this process uses, shared by every engine: the
// module is compiled (or read from disk) once per process and cache
// directory, not again each time an engine restarts after a close.
var caches struct {
	sync.Mutex
	memory wazero.CompilationCache // in memory only
	dirs   map[string]*dirCacheState
}

// dirCacheState is a cache directory as this process uses it.
type dirCacheState struct {
	cache wazero.CompilationCache // in memory, and in the directory
	// listed are the entries the manifest lists, as found when it was
	// last checked or written: while they are the same files, the
	// manifest need not be written again.
	listed map[string]fs.FileInfo
}

// memoryCache returns the process's in-memory cache of compiled PDFium.
func memoryCache() wazero.CompilationCache {
	caches.Lock()
	defer caches.Unlock()
	if caches.memory == nil {
		caches.memory = wazero.NewCompilationCache()
	}
	return caches.memory
}

// dirCache returns the process's cache of compiled PDFium kept in dir,
// after checking what dir holds against its manifest: entries that do not
// match it (corrupt, truncated, or written by a process that stopped
// before writing the manifest) are removed first, so that wazero compiles
// again instead of reading them.
func dirCache(dir string) (wazero.CompilationCache, error) {
	caches.Lock()
	defer caches.Unlock()
	if d, ok := caches.dirs[dir]; ok {
		return d.cache, nil
	}
	var listed map[string]fs.FileInfo
	if err := verifyCache(dir); err != nil {
		if err := clearCache(dir); err != nil {
			return nil, err
		}
	} else {
		listed, _ = entryFiles(dir)
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pdf: cache directory: %w", err)
	}
	if caches.dirs == nil {
		caches.dirs = make(map[string]*dirCacheState)
	}
	caches.dirs[dir] = &dirCacheState{cache: c, listed: listed}
	return c, nil
}

// updateManifest writes dir's manifest after a start that used it,
// unless its entries are still the files it lists.
func updateManifest(dir string) error {
	caches.Lock()
	defer caches.Unlock()
	d, ok := caches.dirs[dir]
	if !ok {
		return nil
	}
	now, err := entryFiles(dir)
	if err != nil {
		return err
	}
	if sameFiles(now, d.listed) {
		return nil
	}
	if err := writeManifest(dir); err != nil {
		return err
	}
	d.listed = now
	return nil
}

// entryFiles returns the file information of dir's entries, by path.
func entryFiles(dir string) (map[string]fs.FileInfo, error) {
	entries, err := cacheEntries(dir)
	if err != nil {
		return nil, err
	}
	infos := make(map[string]fs.FileInfo, len(entries))
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e)))
		if err != nil {
			return nil, err
		}
		infos[e] = fi
	}
	return infos, nil
}

// sameFiles reports whether a and b hold the same files, unchanged.
func sameFiles(a, b map[string]fs.FileInfo) bool {
	if a == nil || b == nil || len(a) != len(b) {
		return false
	}
	for name, fa := range a {
		fb, ok := b[name]
		if !ok || !os.SameFile(fa, fb) || fa.Size() != fb.Size() || !fa.ModTime().Equal(fb.ModTime()) {
			return false
		}
	}
	return true
}

// forgetDirCache drops the process's cache for dir and empties dir, for
// a start that failed with it: the next dirCache compiles again.
func forgetDirCache(dir string) error {
	caches.Lock()
	defer caches.Unlock()
	delete(caches.dirs, dir)
	return clearCache(dir)
}

// manifestName is the file in a cache directory that lists the entries
// wazero wrote there and their SHA-256, written once a start has used
// them. wazero checks only part of an entry (a checksum of the machine
// code, not the tables that point into it), so a damaged entry could
// otherwise crash the process instead of failing to load.
const manifestName = "manifest.sha256"

// errStale is verifyCache's error for a directory whose entries are not
// the ones its manifest lists.
var errStale = errors.New("pdf: cached PDFium does not match its manifest")

// cacheEntries returns the entries wazero keeps in dir (the files in its
// wazero-<version>-<arch>-<os> subdirectories), as slash-separated paths
// relative to dir, sorted.
func cacheEntries(dir string) ([]string, error) {
	var entries []string
	subs, err := filepath.Glob(filepath.Join(dir, "wazero-*"))
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		files, err := os.ReadDir(sub)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".tmp") {
				continue // being written by another process, or left by one that died
			}
			entries = append(entries, filepath.Base(sub)+"/"+f.Name())
		}
	}
	slices.Sort(entries)
	return entries, nil
}

// manifest returns the lines of dir's manifest for its entries now:
// "<sha256 in hex>  <path>", the format of sha256sum.
func manifest(dir string) ([]string, error) {
	entries, err := cacheEntries(dir)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		sum, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(e)))
		if err != nil {
			return nil, err
		}
		lines = append(lines, sum+"  "+e)
	}
	return lines, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verifyCache checks dir's entries against its manifest. An empty or
// missing directory is fine; entries without a manifest, or different
// from it, are errStale.
func verifyCache(dir string) error {
	entries, err := cacheEntries(dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	want, err := readManifest(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", errStale, err)
	}
	got, err := manifest(dir)
	if err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return errStale
	}
	return nil
}

func readManifest(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := s.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, s.Err()
}

// writeManifest records dir's entries as they are now, unless the
// manifest already says so, through atomicfile, so that no reader sees
// half a manifest.
func writeManifest(dir string) error {
	lines, err := manifest(dir)
	if err != nil {
		return err
	}
	if old, err := readManifest(dir); err == nil && slices.Equal(old, lines) {
		return nil
	}
	return atomicfile.Write(filepath.Join(dir, manifestName), func(w io.Writer) error {
		for _, l := range lines {
			if _, err := io.WriteString(w, l+"\n"); err != nil {
				return err
			}
		}
		return nil
	})
}

// clearCache removes what this package keeps in dir: wazero's
// subdirectories and the manifest. Nothing else in dir is touched.
func clearCache(dir string) error {
	subs, err := filepath.Glob(filepath.Join(dir, "wazero-*"))
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := os.RemoveAll(sub); err != nil {
			return fmt.Errorf("pdf: clearing the cache: %w", err)
		}
	}
	if err := os.Remove(filepath.Join(dir, manifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pdf: clearing the cache: %w", err)
	}
	return nil
}
