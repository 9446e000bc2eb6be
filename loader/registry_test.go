package loader_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/loader"
)

// named is a loader that returns one document saying which loader it is,
// so a test can tell which one the registry chose.
func named(name string) loader.Loader {
	return loader.LoaderFunc(func(_ context.Context, f *loader.File) ([]document.Document, error) {
		return []document.Document{{Content: name + " read " + f.Name}}, nil
	})
}

func newRegistry() *loader.Registry {
	r := &loader.Registry{}
	r.Register("pdf", named("pdf"), []string{".pdf"}, []string{"application/pdf"})
	r.Register("html", named("html"), []string{".html", ".HTM"}, []string{"text/html"})
	r.Register("text", named("text"), []string{".txt"}, []string{"text/plain"})
	return r
}

func TestLookup(t *testing.T) {
	r := newRegistry()
	for _, c := range []struct {
		name string
		f    loader.File
		want string
	}{
		{"extension", loader.File{Name: "a/report.pdf", Data: []byte("anything")}, "pdf"},
		{"extension in upper case", loader.File{Name: "REPORT.PDF"}, "pdf"},
		{"extension registered in upper case", loader.File{Name: "page.htm"}, "html"},
		{"extension before the given MIME type", loader.File{Name: "x.txt", MIME: "application/pdf"}, "text"},
		{"given MIME type with parameters", loader.File{Name: "upload", MIME: "Text/HTML; charset=utf-8"}, "html"},
		{"sniffed PDF", loader.File{Name: "blob", Data: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")}, "pdf"},
		{"sniffed HTML", loader.File{Name: "blob.unknown", Data: []byte("<!DOCTYPE html><html><body>hi</body></html>")}, "html"},
		{"sniffed text", loader.File{Name: "README", Data: []byte("plain words\n")}, "text"},
		{"unknown given MIME type, then sniffed", loader.File{Name: "blob", MIME: "application/x-unknown", Data: []byte("<html><p>x</p></html>")}, "html"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, format, ok := r.Lookup(&c.f)
			if !ok || format != c.want {
				t.Fatalf("Lookup = %q, %v; want %q", format, ok, c.want)
			}
			docs, err := l.Load(t.Context(), &c.f)
			if err != nil || !strings.HasPrefix(docs[0].Content, c.want+" ") {
				t.Fatalf("the loader found is not the %s loader: %v, %v", c.want, docs, err)
			}
		})
	}
	if _, _, ok := r.Lookup(&loader.File{Name: "x.bin", Data: []byte{0, 1, 2, 3, 0xff}}); ok {
		t.Error("binary data of an unknown extension found a loader")
	}
	if !r.Supports("A.PDF") || r.Supports("a.docx") || r.Supports("pdf") {
		t.Error("Supports goes by something other than the extension")
	}
}

func TestRegisterReplaces(t *testing.T) {
	r := newRegistry()
	r.Register("pdf2", named("pdf2"), []string{".pdf"}, nil)
	if _, format, _ := r.Lookup(&loader.File{Name: "a.pdf"}); format != "pdf2" {
		t.Errorf("the later registration did not replace the earlier: %q", format)
	}
	// The earlier one still serves the MIME type it alone registered.
	if _, format, _ := r.Lookup(&loader.File{Name: "blob", MIME: "application/pdf"}); format != "pdf" {
		t.Errorf("by MIME type: %q, want pdf", format)
	}
}

func TestZeroRegistry(t *testing.T) {
	var r loader.Registry
	_, err := r.Load(t.Context(), &loader.File{Name: "a.txt", Data: []byte("x")})
	if !errors.Is(err, loader.ErrUnsupported) {
		t.Fatalf("empty registry: %v, want ErrUnsupported", err)
	}
}

// loadErr loads f with r and returns the *loader.Error it must fail with.
func loadErr(t *testing.T, r *loader.Registry, ctx context.Context, f *loader.File) *loader.Error {
	t.Helper()
	docs, err := r.Load(ctx, f)
	if err == nil {
		t.Fatalf("Load succeeded with %d documents", len(docs))
	}
	if docs != nil {
		t.Errorf("Load failed and returned documents: %v", docs)
	}
	var le *loader.Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a *loader.Error", err, err)
	}
	if le.Name != f.Name {
		t.Errorf("Error.Name = %q, want %q", le.Name, f.Name)
	}
	if !strings.Contains(err.Error(), f.Name) {
		t.Errorf("message %q does not name the file", err)
	}
	return le
}

func TestUnsupported(t *testing.T) {
	le := loadErr(t, newRegistry(), t.Context(), &loader.File{Name: "a.xyz", Data: []byte{0, 0, 0, 1}})
	if !errors.Is(le, loader.ErrUnsupported) || le.Format != "" {
		t.Errorf("got %v (format %q), want ErrUnsupported and no format", le, le.Format)
	}
}

// counting returns a registry whose text loader counts its calls.
func counting() (*loader.Registry, *atomic.Int32) {
	calls := new(atomic.Int32)
	r := &loader.Registry{}
	r.Register("text", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
		calls.Add(1)
		return []document.Document{{Content: "x"}}, nil
	}), []string{".txt"}, nil)
	return r, calls
}

func TestTooLarge(t *testing.T) {
	r, calls := counting()
	f := &loader.File{Name: "big.txt", Data: make([]byte, 101), Limits: loader.Limits{MaxFileSize: 100}}
	le := loadErr(t, r, t.Context(), f)
	if !errors.Is(le, loader.ErrTooLarge) || le.Format != "text" {
		t.Errorf("got %v (format %q), want ErrTooLarge from text", le, le.Format)
	}
	if calls.Load() != 0 {
		t.Error("the loader was called on a file over the limit")
	}
	// At the limit, and with no limit, the file loads.
	for _, max := range []int64{101, -1} {
		f.Limits.MaxFileSize = max
		if _, err := r.Load(t.Context(), f); err != nil {
			t.Errorf("MaxFileSize %d: %v", max, err)
		}
	}
}

// blocking returns a loader that waits for its context and closes exited
// when it returns.
func blocking(exited chan struct{}) loader.Loader {
	return loader.LoaderFunc(func(ctx context.Context, _ *loader.File) ([]document.Document, error) {
		defer close(exited)
		<-ctx.Done()
		return nil, ctx.Err()
	})
}

func TestTimeout(t *testing.T) {
	for _, c := range []struct {
		limit, want time.Duration
	}{{time.Minute, time.Minute}, {0, loader.DefaultTimeout}} {
		// In a bubble the timer runs on the fake clock, and synctest.Test
		// fails if any goroutine the load started is still there at the end.
		synctest.Test(t, func(t *testing.T) {
			exited := make(chan struct{})
			r := &loader.Registry{}
			r.Register("slow", blocking(exited), []string{".slow"}, nil)
			start := time.Now()
			le := loadErr(t, r, t.Context(), &loader.File{Name: "a.slow", Data: []byte("x"), Limits: loader.Limits{Timeout: c.limit}})
			if !errors.Is(le, loader.ErrTimeout) || le.Format != "slow" {
				t.Errorf("got %v, want ErrTimeout", le)
			}
			if d := time.Since(start); d != c.want {
				t.Errorf("limit %v: abandoned after %v, want %v", c.limit, d, c.want)
			}
			<-exited // the loader saw its context cancelled
		})
	}
}

// A loader that ignores its context is abandoned at the time limit all
// the same; its goroutine ends when the loader does.
func TestTimeoutIgnoredContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release, exited := make(chan struct{}), make(chan struct{})
		r := &loader.Registry{}
		r.Register("stuck", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
			defer close(exited)
			<-release
			return []document.Document{{Content: "too late"}}, nil
		}), []string{".stuck"}, nil)
		le := loadErr(t, r, t.Context(), &loader.File{Name: "a.stuck", Limits: loader.Limits{Timeout: time.Second}})
		if !errors.Is(le, loader.ErrTimeout) {
			t.Errorf("got %v, want ErrTimeout", le)
		}
		close(release)
		<-exited
		synctest.Wait() // the registry's goroutine delivers the late result and ends
	})
}

func TestCallerCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		exited, started := make(chan struct{}), make(chan struct{})
		r := &loader.Registry{}
		inner := blocking(exited)
		r.Register("slow", loader.LoaderFunc(func(ctx context.Context, f *loader.File) ([]document.Document, error) {
			close(started)
			return inner.Load(ctx, f)
		}), []string{".slow"}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-started
			cancel()
		}()
		le := loadErr(t, r, ctx, &loader.File{Name: "a.slow"})
		if !errors.Is(le, context.Canceled) || errors.Is(le, loader.ErrTimeout) {
			t.Errorf("got %v, want context.Canceled", le)
		}
		<-exited
	})
	// A context already done: the loader is not called.
	r, calls := counting()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if le := loadErr(t, r, ctx, &loader.File{Name: "a.txt"}); !errors.Is(le, context.Canceled) || calls.Load() != 0 {
		t.Errorf("got %v after %d calls, want context.Canceled and none", le, calls.Load())
	}
}

func TestPanic(t *testing.T) {
	r := &loader.Registry{}
	r.Register("bad", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
		var m map[string]int
		m["boom"]++ // a nil map write panics
		return nil, nil
	}), []string{".bad"}, nil)
	le := loadErr(t, r, t.Context(), &loader.File{Name: "a.bad"})
	if !errors.Is(le, loader.ErrPanic) || !strings.Contains(le.Error(), "nil map") {
		t.Errorf("got %v, want ErrPanic saying what panicked", le)
	}
}

func TestLoaderError(t *testing.T) {
	cause := errors.New("bad xref table")
	r := &loader.Registry{}
	r.Register("pdf", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
		return nil, errors.Join(loader.ErrMalformed, cause)
	}), []string{".pdf"}, nil)
	le := loadErr(t, r, t.Context(), &loader.File{Name: "a.pdf"})
	if !errors.Is(le, loader.ErrMalformed) || !errors.Is(le, cause) || le.Format != "pdf" {
		t.Errorf("got %v, want the loader's error, wrapped", le)
	}
}

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		name string
		docs []document.Document
		want error
	}{
		{"no document", nil, loader.ErrNoText},
		{"white space only", []document.Document{{Content: " \n\t"}}, loader.ErrNoText},
		{"invalid UTF-8", []document.Document{{Content: "caf\xe9"}}, document.ErrInvalidUTF8},
		{"invalid UTF-8 in a title", []document.Document{{Content: "x", Title: "\xff"}}, document.ErrInvalidUTF8},
		{"invalid UTF-8 in a span label", []document.Document{{Content: "abc", Spans: []document.Span{{Kind: "page", Label: "\xff", End: 3}}}}, document.ErrInvalidUTF8},
		{"second document invalid", []document.Document{{Content: "fine"}, {Content: "\xc3"}}, document.ErrInvalidUTF8},
		{"span past the end", []document.Document{{Content: "abc", Spans: []document.Span{{Kind: "page", Label: "1", End: 4}}}}, document.ErrInvalidDocument},
		{"overlapping spans", []document.Document{{Content: "abcdef", Spans: []document.Span{{Kind: "page", Label: "1", End: 4}, {Kind: "page", Label: "2", Start: 3, End: 6}}}}, document.ErrInvalidDocument},
		{"span inside a rune", []document.Document{{Content: "héllo", Spans: []document.Span{{Kind: "page", Label: "1", End: 2}}}}, document.ErrInvalidDocument},
		{"reserved metadata key", []document.Document{{Content: "x", Metadata: map[string]any{"_id": "y"}}}, document.ErrInvalidDocument},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &loader.Registry{}
			r.Register("fake", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
				return c.docs, nil
			}), []string{".fake"}, nil)
			if le := loadErr(t, r, t.Context(), &loader.File{Name: "a.fake"}); !errors.Is(le, c.want) {
				t.Errorf("got %v, want %v", le, c.want)
			}
		})
	}
}

func TestSourceAndNormalisation(t *testing.T) {
	r := &loader.Registry{}
	r.Register("fake", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
		return []document.Document{
			{Content: "one", Metadata: map[string]any{loader.MetaPageCount: 3}},
			{Content: "two", Source: "a.fake#2"},
		}, nil
	}), []string{".fake"}, nil)
	docs, err := r.Load(t.Context(), &loader.File{Name: "dir/a.fake"})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Source != "dir/a.fake" || docs[1].Source != "a.fake#2" {
		t.Errorf("sources: %+v", docs)
	}
	if v, ok := docs[0].Metadata[loader.MetaPageCount].(float64); !ok || v != 3 {
		t.Errorf("page count %#v is not normalised to float64 3", docs[0].Metadata[loader.MetaPageCount])
	}
}

// The loader sees the limits in force, defaults filled in, and the
// caller's File is left as it was.
func TestLimitsPassed(t *testing.T) {
	var seen loader.Limits
	r := &loader.Registry{}
	r.Register("fake", loader.LoaderFunc(func(_ context.Context, f *loader.File) ([]document.Document, error) {
		seen = f.Limits
		return []document.Document{{Content: "x"}}, nil
	}), []string{".fake"}, nil)
	f := &loader.File{Name: "a.fake", Limits: loader.Limits{MaxEntries: 7, MaxUncompressed: -1}}
	if _, err := r.Load(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	want := loader.Limits{MaxFileSize: loader.DefaultMaxFileSize, MaxUncompressed: -1, MaxEntries: 7, Timeout: loader.DefaultTimeout}
	if seen != want {
		t.Errorf("loader saw %+v, want %+v", seen, want)
	}
	if f.Limits != (loader.Limits{MaxEntries: 7, MaxUncompressed: -1}) {
		t.Errorf("the caller's limits changed: %+v", f.Limits)
	}
}

// Many loads at once on one registry, registering as they go (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	r := newRegistry()
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 50 {
				if _, err = r.Load(context.Background(), &loader.File{Name: "a.txt", Data: []byte("x")}); err != nil {
					break
				}
				r.Register("extra", named("extra"), []string{".extra"}, nil)
				_ = r.Supports("b.extra")
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
