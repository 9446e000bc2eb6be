// Package dirsync is the engine of Pipeline.Sync: it makes the documents
// of a synced root in a store match the files of an fs.FS.
//
// It walks the tree, stamps each file (root, path, size, modification
// time, a salt), asks the store in one listing which stamps it already
// holds, parses only the other files (a bounded number at once), streams
// their documents into ingestion, and finally deletes the documents of the
// root whose files are gone. It knows nothing of package rag: the pipeline
// hands it a Config of functions.
package dirsync

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/store"
)

// Config is what a sync works with. Load, List, Delete and Ingest are
// required.
type Config struct {
	// Root names the synced tree in the store: see document.MetaSyncRoot
	// and DocID. It must not contain "//".
	Root string
	// Include, when not empty, keeps only the files one of its patterns
	// matches; Exclude drops the files and directories one of its
	// patterns matches (see pattern for the syntax).
	Include, Exclude []string
	// Limits are passed to Load; a file larger than Limits.MaxFileSize
	// fails with loader.ErrTooLarge without being read.
	Limits loader.Limits
	// Concurrency is the number of files read and parsed at once (> 0).
	Concurrency int
	// Force parses every file, stamped or not.
	Force bool
	// Salt is mixed into every stamp: what the stored documents depend
	// on beyond the file (the embedder's name), so that changing it
	// parses everything again.
	Salt string

	// Remembered, if not nil, says whether the file of a stamp failed
	// before (and so has not changed since), with the error to report:
	// such a file is neither read nor parsed again, unless Force.
	Remembered func(stamp string) (error, bool)

	// Load parses one file (loader.Registry.Load). It is called from
	// Concurrency goroutines at once.
	Load func(ctx context.Context, f *loader.File) ([]document.Document, error)
	// List returns the IDs of the documents f matches (store.Lister).
	List func(ctx context.Context, f *store.Filter) ([]string, error)
	// Delete deletes documents from the store and every index.
	Delete func(ctx context.Context, ids []string) error
	// Ingest ingests the documents of docs, pulling them as it has room,
	// and reports each pulled document's outcome to done (from one
	// goroutine at a time). Its error is one not of any one document
	// (the context's, a failed run).
	Ingest func(ctx context.Context, docs iter.Seq[document.Document], done func(ingest.Result)) error
	// Progress, if not nil, is called as files settle, from one
	// goroutine at a time. It must be quick.
	Progress func(Progress)
}

// Status is what a sync did with a file.
type Status int

// Statuses of a file.
const (
	Stored    Status = iota + 1 // parsed, and its documents stored (or found unchanged by their content hash)
	Unchanged                   // the store holds this version (by stamp: not read; by bytes: read, not parsed)
	Deleted                     // gone from the tree: its documents were deleted
	Failed                      // not stored; the store keeps what it had of it
)

func (s Status) String() string {
	switch s {
	case Stored:
		return "stored"
	case Unchanged:
		return "unchanged"
	case Deleted:
		return "deleted"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// FileResult is the outcome of one file (or of a directory that could not
// be read).
type FileResult struct {
	Path      string
	Status    Status
	Documents int    // documents it yielded (Stored, Unchanged) or that were deleted (Deleted)
	Chunks    int    // chunks written
	Size      int64  // bytes, when known
	Stamp     string // the file's stamp (see Config.Remembered), when it is in the tree
	Err       error  // a *FileError, when Failed
}

// FileError is why a file failed: a *loader.Error (unsupported type, too
// large, malformed, encrypted, no text, timeout, panic), an *fs.PathError
// (permission denied), ErrNotRegular, a document's ingestion error, or the
// context's error when the sync was cancelled first.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("sync: %s: %v", e.Path, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// ErrNotRegular: the path is not a regular file (a device, a socket, a
// symbolic link to a directory, which a sync does not follow).
var ErrNotRegular = errors.New("sync: not a regular file")

// Report is the outcome of a sync.
type Report struct {
	// Files lists every file's outcome: the files of the tree in walk
	// order, then the deleted ones, sorted.
	Files []FileResult
	// Counts of Files by status.
	Stored, Unchanged, Deleted, Failed int
	// Excluded counts the files and directories Include and Exclude left
	// out (not listed in Files).
	Excluded int
	// Parsed is the number of files read and parsed; Bytes their size.
	Parsed int
	Bytes  int64
	// Documents counts the documents ingested (stored or unchanged by
	// content hash); DeletedDocuments those deleted, vanished rows of a
	// file still present included.
	Documents, DeletedDocuments int
	Elapsed                     time.Duration
}

// Progress is a snapshot of a running sync.
type Progress struct {
	Files        int   // files found in the tree (known once the walk is done)
	ToParse      int   // of which changed: to be parsed
	BytesToParse int64 // their size
	Settled      int   // files whose outcome is known
	// SettledBytes is the size of the settled files that were to be parsed.
	SettledBytes                       int64
	Stored, Unchanged, Deleted, Failed int
}

// DocID is the ID of the n-th document (from 1) of the file at path p
// in root, n = 0 for a file that yielded one document: p itself when root
// is empty, else root + "//" + p (a valid fs.FS path never holds "//",
// so no two roots share an ID), then "#n" when n > 0.
func DocID(root, p string, n int) string {
	id := p
	if root != "" {
		id = root + "//" + p
	}
	if n > 0 {
		id = document.RecordID(id, n)
	}
	return id
}

// ErrBadRoot: Root contains "//".
var ErrBadRoot = errors.New("dirsync: root name contains \"//\"")
