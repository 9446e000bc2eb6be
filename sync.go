package rag

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/internal/dirsync"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/store"
)

// Metadata keys Sync writes on every record of the documents it stores.
const (
	MetaSyncRoot  = document.MetaSyncRoot  // SyncOptions.Root (a string)
	MetaFileStamp = document.MetaFileStamp // the file's stamp: path, size, modification time
	MetaFileLast  = document.MetaFileLast  // true on the last document of a file that yielded several
)

// SyncOptions tune Sync. The zero value works: it syncs every file of the
// tree under the root named "" with loader.Default.
type SyncOptions struct {
	// Root names the tree in the store: Sync deletes the documents of
	// vanished files among the documents synced under this name, and
	// never any other. Trees synced into one store need distinct names;
	// a name must not contain "//" (ErrBadSyncRoot). Each document's ID
	// is Root + "//" + the file's path (the path alone when Root is
	// empty), then "#n" for the n-th document (from 1) of a file that
	// yields several (the rows of a CSV file).
	Root string
	// Include, when not empty, keeps only the files one of its globs
	// matches; Exclude leaves out the files and directories one of its
	// globs matches. A glob without a slash matches a name at any depth
	// ("*.md", ".git"); one with a slash matches the whole path from the
	// root, element by element with path.Match, where "**" matches any
	// number of elements ("docs/**/*.md"). A bad glob fails Sync with an
	// error matching path.ErrBadPattern.
	Include, Exclude []string
	// Registry parses the files. Default: loader.Default.
	Registry *loader.Registry
	// Limits bound each file (see loader.Limits; zero fields take its
	// defaults). A file larger than MaxFileSize is not read.
	Limits loader.Limits
	// Concurrency is the number of files read and parsed at once.
	// Default: GOMAXPROCS. With the pipeline's own bound on the chunks
	// waiting to be embedded, it bounds Sync's memory.
	Concurrency int
	// Force parses every file again, even those the store holds (after a
	// loader changed, say). A document is still embedded again only if it
	// changed, its metadata included: a file touched since it was stored
	// gets its new stamp.
	Force bool
	// Failures, if set, remembers the files the loaders failed on: Sync
	// does not read them again until they change (unless Force), and
	// reports them failed with an error matching ErrFailedBefore and the
	// loader's sentinel of then. Sync updates it. See SyncFailures.
	Failures *SyncFailures
	// Progress, if set, is called as files settle and as ingestion moves
	// (see IngestOptions.Progress, which Sync does not call), from one
	// goroutine at a time. It must be quick.
	Progress func(SyncProgress)
}

// SyncProgress is a snapshot of a running Sync.
type SyncProgress struct {
	Files        int   // files found in the tree (0 until the walk is done)
	ToParse      int   // of which changed, to be parsed
	BytesToParse int64 // their size
	Settled      int   // files whose outcome is known, unchanged ones included
	SettledBytes int64 // the size of the settled files that were to be parsed
	// Files by outcome so far.
	Stored, Unchanged, Deleted, Failed int
	// Ingest is the ingestion's progress: chunks, tokens, requests.
	Ingest  Progress
	Elapsed time.Duration
}

// FileStatus is what Sync did with a file.
type FileStatus int

const (
	// FileStored: the file was parsed and its documents stored (those
	// whose content hash the store held were not embedded again).
	FileStored FileStatus = iota + 1
	// FileUnchanged: the store holds the file's stamp (its path, size
	// and modification time) on all its documents: it was not read.
	FileUnchanged
	// FileDeleted: the file is gone from the tree; its documents were
	// deleted.
	FileDeleted
	// FileFailed: the file (or a directory) could not be read, parsed or
	// stored; the store keeps what it had of it. Err says why.
	FileFailed
)

func (s FileStatus) String() string { return dirsync.Status(s).String() }

// SyncedFile is the outcome of one file, or of a directory that could not
// be read.
type SyncedFile struct {
	Path      string
	Status    FileStatus
	Documents int   // documents it yielded, or that were deleted
	Chunks    int   // chunks written
	Size      int64 // bytes
	// Stamp identifies the file's version (root, path, size,
	// modification time, embedder); empty for a deleted file or a
	// directory.
	Stamp string
	// Err, when Status is FileFailed, is a *FileError.
	Err error
}

// FileError is why Sync could not store a file. Err is, with errors.Is:
// loader.ErrUnsupported, loader.ErrTooLarge, loader.ErrMalformed,
// loader.ErrEncrypted, loader.ErrNoText, loader.ErrTimeout or
// loader.ErrPanic (inside a *loader.Error); fs.ErrPermission (inside an
// *fs.PathError); ErrNotRegular; a document's *DocumentError; or the
// context's error when the Sync was cancelled before the file was done.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return "rag: sync: " + e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Errors of Sync.
var (
	// ErrNotRegular: a path of the tree is not a regular file (a device,
	// a socket, a symbolic link to a directory, which Sync does not
	// follow).
	ErrNotRegular = dirsync.ErrNotRegular
	// ErrBadSyncRoot: SyncOptions.Root contains "//".
	ErrBadSyncRoot = dirsync.ErrBadRoot
)

// SyncReport is the outcome of a Sync.
type SyncReport struct {
	// Files lists every file's outcome (and every directory that could
	// not be read): the tree's files in walk order, then the deleted
	// ones, sorted. Nothing is left out but what Include and Exclude
	// excluded.
	Files []SyncedFile
	// Files by status.
	Stored, Unchanged, Deleted, Failed int
	// Excluded counts the files and directories the globs left out.
	Excluded int
	// Parsed is the number of files read and parsed, Bytes their size.
	Parsed int
	Bytes  int64
	// Documents counts the documents of the stored files;
	// DeletedDocuments the documents deleted, vanished rows of files
	// still present included.
	Documents, DeletedDocuments int
	// Ingest is the ingestion's report: chunks, tokens, requests. Its
	// Documents lists the failed documents only.
	Ingest  *IngestReport
	Elapsed time.Duration
}

// Sync makes the documents synced under opts.Root match the files of
// fsys: files new or changed since the last Sync are parsed (by the
// registry's loaders, Concurrency at once) and their documents streamed
// into ingestion in bounded memory; a file whose stamp the store holds
// (same path, size, modification time and embedder) is not even read,
// and one whose bytes it holds (touched, checked out again) is read but
// not parsed; the documents of files no longer in fsys are deleted, from
// this root only. A file that fails keeps its previous documents, and so
// does everything under a directory that could not be read; it is tried
// again by the next Sync.
//
// It needs a store that can list its documents (store.Lister; every store
// of this module can): one listing finds the unchanged files, one more the
// documents to delete.
//
// The error is nil when the sync ran to its end, even if files failed:
// the report says which and why (see FileError). Sync fails with an error
// matching fs.ErrNotExist when fsys's root does not exist, with the
// store's error when it cannot list (errors.ErrUnsupported when it has no
// Lister), and with the context's error when ctx is cancelled: then it
// returns promptly, having written only whole documents and deleted
// nothing, and reports the files it did not finish as failed with the
// context's cause. The report is nil only when Sync fails before it
// walked the tree.
func (p *Pipeline) Sync(ctx context.Context, fsys fs.FS, opts *SyncOptions) (*SyncReport, error) {
	return p.own.Sync(ctx, fsys, opts)
}

// Sync is Pipeline.Sync within one scope.
func (sc *scope) Sync(ctx context.Context, fsys fs.FS, opts *SyncOptions) (*SyncReport, error) {
	p := sc.p
	var o SyncOptions
	if opts != nil {
		o = *opts
	}
	if o.Registry == nil {
		o.Registry = loader.Default
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	var (
		mu       sync.Mutex
		lastSync dirsync.Progress
		lastIng  Progress
	)
	report := func() { // with mu held
		sp := SyncProgress{
			Files: lastSync.Files, ToParse: lastSync.ToParse, BytesToParse: lastSync.BytesToParse,
			Settled: lastSync.Settled, SettledBytes: lastSync.SettledBytes,
			Stored: lastSync.Stored, Unchanged: lastSync.Unchanged, Deleted: lastSync.Deleted, Failed: lastSync.Failed,
			Ingest: lastIng, Elapsed: time.Since(start),
		}
		o.Progress(sp)
	}
	var ingestRep *IngestReport
	var remembered func(string) (error, bool)
	if o.Failures != nil {
		remembered = o.Failures.remembered
	}
	cfg := &dirsync.Config{
		Remembered:  remembered,
		Root:        o.Root,
		Include:     o.Include,
		Exclude:     o.Exclude,
		Limits:      o.Limits,
		Concurrency: o.Concurrency,
		Force:       o.Force,
		Salt:        strings.Join(p.hashSalts, "\x00"),
		Load:        o.Registry.Load,
		List: func(ctx context.Context, f *store.Filter) ([]string, error) {
			return store.DocumentIDs(ctx, sc.store, f)
		},
		Delete: func(ctx context.Context, ids []string) error { return sc.Delete(ctx, ids...) },
		Ingest: func(ctx context.Context, docs iter.Seq[document.Document], done func(ingest.Result)) error {
			hooks := &runHooks{done: func(r ingest.Result) {
				if r.Err != nil {
					r.Err = &DocumentError{DocID: r.ID, Err: r.Err}
				}
				done(r)
			}}
			if o.Progress != nil {
				hooks.progress = func(pr Progress) {
					mu.Lock()
					defer mu.Unlock()
					lastIng = pr
					report()
				}
			}
			rep, err := sc.run(ctx, docs, 0, hooks)
			ingestRep = rep
			return notDocuments(err)
		},
	}
	if o.Progress != nil {
		cfg.Progress = func(pr dirsync.Progress) {
			mu.Lock()
			defer mu.Unlock()
			lastSync = pr
			report()
		}
	}
	drep, err := dirsync.Run(ctx, fsys, cfg)
	if err != nil {
		err = fmt.Errorf("rag: sync: %w", err)
	}
	if drep == nil {
		return nil, err
	}
	if ingestRep == nil {
		ingestRep = &IngestReport{}
	}
	rep := &SyncReport{
		Stored: drep.Stored, Unchanged: drep.Unchanged, Deleted: drep.Deleted, Failed: drep.Failed,
		Excluded: drep.Excluded, Parsed: drep.Parsed, Bytes: drep.Bytes,
		Documents: drep.Documents, DeletedDocuments: drep.DeletedDocuments,
		Ingest: ingestRep, Elapsed: drep.Elapsed,
		Files: make([]SyncedFile, len(drep.Files)),
	}
	for i, f := range drep.Files {
		rep.Files[i] = SyncedFile{Path: f.Path, Status: FileStatus(f.Status), Documents: f.Documents, Chunks: f.Chunks, Size: f.Size, Stamp: f.Stamp, Err: fileError(f.Err)}
	}
	if o.Failures != nil && err == nil {
		o.Failures.update(o.Root, rep.Files)
	}
	return rep, err
}

// fileError turns the engine's *dirsync.FileError into a *FileError, with
// a document's failure as its *DocumentError.
func fileError(err error) error {
	var fe *dirsync.FileError
	if !errors.As(err, &fe) {
		return err
	}
	return &FileError{Path: fe.Path, Err: fe.Err}
}

// notDocuments drops the *IngestError from run's error: Sync reports
// failed documents per file.
func notDocuments(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		var ie *IngestError
		if errors.As(err, &ie) {
			return nil
		}
		return err
	}
	var keep []error
	for _, e := range j.Unwrap() {
		if _, ok := e.(*IngestError); !ok {
			keep = append(keep, e)
		}
	}
	return errors.Join(keep...)
}
