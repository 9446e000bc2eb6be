package pdf

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klippa-app/go-pdfium"
	"github.com/tetratelabs/wazero"
)

// startIn starts an engine whose cache directory is dir, as a new
// process would (the process's cache for dir is forgotten first, not
// emptied), and checks that it works.
func startIn(t *testing.T, dir string) *engine {
	t.Helper()
	caches.Lock()
	delete(caches.dirs, dir)
	caches.Unlock()
	e := newEngine(1, cacheChoice{dir: dir})
	t.Cleanup(func() {
		if err := e.close(); err != nil {
			t.Error(err)
		}
	})
	if err := e.run(context.Background(), func(_ context.Context, p pdfium.Pdfium, _ *spares) error { return openHello(p) }); err != nil {
		t.Fatalf("load with cache directory %s: %v", dir, err)
	}
	return e
}

// tiny is a WebAssembly module of one function returning 42: the damaged
// directories below are tested with it, as compiling PDFium takes seconds
// (minutes with the race detector). wazero keeps its entries as it keeps
// PDFium's.
var tiny = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
	0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // types: () -> i32
	0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
	0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x2a, 0x0b, // code: i32.const 42, end
}

// startTiny starts as startWithDir does, compiling tiny instead of PDFium
// (as a new process would: the process's cache for dir is forgotten
// first, not emptied).
func startTiny(t *testing.T, dir string) error {
	t.Helper()
	caches.Lock()
	delete(caches.dirs, dir)
	caches.Unlock()
	_, err := startWithDir(dir, func(c wazero.CompilationCache) (pdfium.Pool, error) {
		ctx := context.Background()
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(c))
		defer r.Close(ctx)
		_, err := r.CompileModule(ctx, tiny)
		return nil, err
	})
	return err
}

// entries returns the files of dir's cache entries; it fails t when there
// are none.
func entries(t *testing.T, dir string) map[string]fs.FileInfo {
	t.Helper()
	infos, err := entryFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 {
		t.Fatalf("no compiled PDFium in %s", dir)
	}
	return infos
}

// copyDir copies the regular files of src's tree into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// rewrite changes dir's one cache entry with change.
func rewrite(t *testing.T, dir string, change func([]byte) []byte) {
	t.Helper()
	for name := range entries(t, dir) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, change(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCacheDir: the first start compiles PDFium into the cache directory
// with a manifest, and the next process reads it from there.
func TestCacheDir(t *testing.T) {
	dir := t.TempDir()
	e := startIn(t, dir)
	if e.cacheErr != nil {
		t.Fatalf("cache directory not used: %v", e.cacheErr)
	}
	before := entries(t, dir)
	if err := verifyCache(dir); err != nil {
		t.Fatalf("manifest after the first start: %v", err)
	}
	e = startIn(t, dir)
	if e.cacheErr != nil {
		t.Fatalf("cache directory not used: %v", e.cacheErr)
	}
	// wazero writes an entry only after compiling (a new file renamed into
	// place), so an entry that is the same file was read.
	if !sameFiles(before, entries(t, dir)) {
		t.Error("compiled again instead of reading the cache")
	}
}

// TestCacheDirUnusable: a directory that cannot be used, or whose entries
// are damaged or of another wazero, never fails a start: the module is
// compiled again (into the directory when it can be), and the entry is
// written anew.
func TestCacheDirUnusable(t *testing.T) {
	good := t.TempDir()
	if err := startTiny(t, good); err != nil {
		t.Fatal(err)
	}
	first := entries(t, good)
	if err := verifyCache(good); err != nil {
		t.Fatalf("manifest after the first start: %v", err)
	}

	damaged := []struct {
		name   string
		change func(t *testing.T, dir string)
	}{
		{"a byte changed", func(t *testing.T, dir string) {
			rewrite(t, dir, func(b []byte) []byte { b[len(b)/2] ^= 0xFF; return b })
		}},
		{"truncated, manifest rewritten to match", func(t *testing.T, dir string) {
			// Past the manifest: wazero itself fails to read the entry.
			rewrite(t, dir, func(b []byte) []byte { return b[:len(b)/3] })
			if err := writeManifest(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"written by another wazero", func(t *testing.T, dir string) {
			// The entry's header: "WAZEVO", the version's length, the version.
			rewrite(t, dir, func(b []byte) []byte {
				n := int(b[6])
				v := []byte(strings.Repeat("9", n))
				if bytes.Equal(b[7:7+n], v) {
					v[0] = '8'
				}
				copy(b[7:7+n], v)
				return b
			})
			if err := writeManifest(dir); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range damaged {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			tc.change(t, dir)
			before := entries(t, dir)
			if err := startTiny(t, dir); err != nil {
				t.Fatalf("start after damage: %v", err)
			}
			if sameFiles(before, entries(t, dir)) {
				t.Error("the damaged entry was kept")
			}
			if err := verifyCache(dir); err != nil {
				t.Errorf("manifest after compiling again: %v", err)
			}
		})
	}

	t.Run("manifest missing", func(t *testing.T) {
		// An entry whose writer stopped before the manifest is not trusted
		// either: the start then goes as for a damaged one above.
		dir := copyDir(t, good)
		if err := os.Remove(filepath.Join(dir, manifestName)); err != nil {
			t.Fatal(err)
		}
		if err := verifyCache(dir); !errors.Is(err, errStale) {
			t.Errorf("verifyCache without a manifest: %v, want errStale", err)
		}
	})

	t.Run("not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, []byte("not a cache"), 0o600); err != nil {
			t.Fatal(err)
		}
		e := startIn(t, file)
		if e.cacheErr == nil {
			t.Error("no reason given for not using the cache directory")
		}
		if data, err := os.ReadFile(file); err != nil || string(data) != "not a cache" {
			t.Errorf("the file in the way was changed: %q, %v", data, err)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only directories")
		}
		dir := t.TempDir()
		// The wazero subdirectory exists, empty, and cannot be written:
		// wazero compiles, then fails to write the entry.
		sub := filepath.Dir(filepath.FromSlash(firstKey(first)))
		if err := os.Mkdir(filepath.Join(dir, sub), 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, sub), 0o700) })
		if err := startTiny(t, dir); err != nil {
			t.Errorf("start with a read-only directory: %v", err)
		}
	})
}

func firstKey(m map[string]fs.FileInfo) string {
	for k := range m {
		return k
	}
	return ""
}

// TestMemoryOnly: NoCacheDir writes nothing to disk.
func TestMemoryOnly(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	e := newEngine(1, cacheChoice{memoryOnly: true})
	defer e.close()
	if err := e.run(context.Background(), func(_ context.Context, p pdfium.Pdfium, _ *spares) error { return openHello(p) }); err != nil {
		t.Fatal(err)
	}
	dir, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NoCacheDir wrote %s (stat: %v)", dir, err)
	}
}

// TestDefaultCacheDir: the default directory is in the user's cache
// directory and named after go-pdfium's version, so that another version
// of PDFium never reads this one's code.
func TestDefaultCacheDir(t *testing.T) {
	base := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", base)
	dir, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	user, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(user, "rag", "pdfium-"+pdfiumVersion()); dir != want {
		t.Errorf("DefaultCacheDir() = %s, want %s", dir, want)
	}
	// A test binary records no module versions, so this one is "devel";
	// a program built with go build or go install records v1.x.y.
	if v := pdfiumVersion(); v == "" || strings.ContainsAny(v, `/\`) {
		t.Errorf("go-pdfium's version from the build: %q", v)
	}
}
