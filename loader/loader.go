// Package loader turns files into documents: a file's name and bytes in,
// document.Documents out, with their metadata (title, author, dates,
// language, MIME type, page count) and Spans saying where each page,
// slide, sheet or chapter lies in the content.
//
// A Loader reads one format. A Registry finds the loader of a file by its
// extension, then by its sniffed MIME type, and runs it within Limits: a
// maximum file size, a time limit after which the parse is abandoned, and
// a recovered panic, each reported as an *Error wrapping one of this
// package's sentinels. Formats that need a heavy dependency live in
// sub-packages that register themselves in Default when imported, the
// way image/png registers its decoder:
//
//	import _ "github.com/ragkit-go/rag/loader/pdf"
package loader

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ragkit-go/rag/document"
)

// A File is what a loader reads.
type File struct {
	// Name is the file's path or name; its extension picks the loader,
	// and it becomes each document's Source unless the loader sets one.
	Name string
	// Data is the file's whole content. A Loader must not modify it nor
	// retain it (or sub-slices of it) after Load returns.
	Data []byte
	// MIME is the file's media type when the caller knows it (an HTTP
	// upload's Content-Type); empty means unknown.
	MIME string
	// ModTime is when the file last changed, when known.
	ModTime time.Time
	// Limits are the limits the caller enforces. Loaders that decompress
	// (zip containers: DOCX, PPTX, XLSX, ODT, EPUB) stop at them with
	// ErrTooLarge.
	Limits Limits
}

// Loader reads files of one format.
//
// Concurrency: Load may be called from many goroutines at once.
// Load returns at least one document, or an error; it returns promptly
// (with ctx.Err()) once ctx is done, or at least does not hold on to
// anything after the Registry has abandoned it. Each document's Content
// is valid UTF-8 and its Spans are valid (see document.Validate).
type Loader interface {
	Load(ctx context.Context, f *File) ([]document.Document, error)
}

// LoaderFunc adapts a function to a Loader.
type LoaderFunc func(ctx context.Context, f *File) ([]document.Document, error)

// Load calls fn.
func (fn LoaderFunc) Load(ctx context.Context, f *File) ([]document.Document, error) {
	return fn(ctx, f)
}

// Limits bound the work one file may cause. A zero field takes the
// default written beside it; a negative one means no limit.
type Limits struct {
	// MaxFileSize is the largest file accepted, in bytes (default 64 MiB).
	MaxFileSize int64
	// MaxUncompressed is the most bytes a container may inflate to, all
	// entries together (default 256 MiB).
	MaxUncompressed int64
	// MaxEntries is the most entries a container may hold (default 10,000).
	MaxEntries int
	// Timeout is how long one file may take (default 60 s).
	Timeout time.Duration
}

// Default limits.
const (
	DefaultMaxFileSize     = 64 << 20
	DefaultMaxUncompressed = 256 << 20
	DefaultMaxEntries      = 10_000
	DefaultTimeout         = 60 * time.Second
)

// WithDefaults returns l with its zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxFileSize == 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxUncompressed == 0 {
		l.MaxUncompressed = DefaultMaxUncompressed
	}
	if l.MaxEntries == 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// Errors a load fails with, wrapped in an *Error.
var (
	// ErrUnsupported: no loader is registered for the file's extension or
	// media type.
	ErrUnsupported = errors.New("loader: unsupported file type")
	// ErrTooLarge: the file, or what it inflates to, exceeds the Limits.
	ErrTooLarge = errors.New("loader: file too large")
	// ErrTimeout: the loader took longer than Limits.Timeout and was
	// abandoned.
	ErrTimeout = errors.New("loader: parse timed out")
	// ErrMalformed: the file is not a valid file of its format (the
	// loader's own error is wrapped beside it).
	ErrMalformed = errors.New("loader: malformed file")
	// ErrEncrypted: the file is encrypted or password-protected.
	ErrEncrypted = errors.New("loader: file is encrypted")
	// ErrNoText: the file holds no extractable text (a scanned PDF made of
	// images, an empty sheet).
	ErrNoText = errors.New("loader: no text in file")
	// ErrPanic: the loader panicked; the panic was recovered.
	ErrPanic = errors.New("loader: parser panicked")
)

// Error is the failure to load one file.
type Error struct {
	Name   string // the file's Name
	Format string // the format the registry chose, "" if none
	Err    error
}

func (e *Error) Error() string {
	s := "loader: " + strconv.Quote(e.Name)
	if e.Format != "" {
		s += " (" + e.Format + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
