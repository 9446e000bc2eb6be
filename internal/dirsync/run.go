package dirsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/loader"
)

// errIngestStopped: ingestion returned without an error before taking
// every document.
var errIngestStopped = errors.New("dirsync: ingestion stopped early")

// file is one regular file of the tree.
type file struct {
	path    string
	size    int64
	modTime time.Time
	stamp   string

	// Set while syncing, under syncer.mu.
	res     FileResult
	pending int             // documents submitted and not settled
	ids     map[string]bool // IDs it yielded (parsed) or the store holds of its version (unchanged)
	settled bool
}

// syncer is one Run.
type syncer struct {
	cfg     *Config
	fsys    fs.FS
	include []pattern
	exclude []pattern
	limits  loader.Limits

	files      []*file
	rootIDs    []string // the documents of the root before the sync
	byPath     map[string]*file
	failedDirs []string     // directories that could not be read: nothing under them is deleted
	dirErrs    []FileResult // their results

	mu    sync.Mutex
	byID  map[string]*file
	prog  Progress
	rep   Report
	start time.Time
}

// Run syncs fsys into the store under cfg.Root and reports every file.
//
// The error is nil when the sync ran to its end, even if files failed
// (see the report); it is the walk's error when the root cannot be read
// (fs.ErrNotExist for a missing one), an error matching path.ErrBadPattern
// for a bad glob, ErrBadRoot, List's or Delete's error, or the context's:
// a cancelled sync deletes nothing, and reports the files it did not
// finish as Failed with the context's cause.
func Run(ctx context.Context, fsys fs.FS, cfg *Config) (*Report, error) {
	s := &syncer{cfg: cfg, fsys: fsys, byPath: map[string]*file{}, byID: map[string]*file{}, start: time.Now(), limits: cfg.Limits.WithDefaults()}
	if strings.Contains(cfg.Root, "//") {
		return nil, ErrBadRoot
	}
	var err error
	if s.include, err = compile(cfg.Include); err != nil {
		return nil, err
	}
	if s.exclude, err = compile(cfg.Exclude); err != nil {
		return nil, err
	}
	if _, err := fs.Stat(fsys, "."); err != nil {
		return nil, fmt.Errorf("dirsync: root: %w", err)
	}
	if err := s.walk(ctx); err != nil {
		return nil, err
	}
	toParse, err := s.check(ctx)
	if err != nil {
		return nil, err
	}
	if cfg.Remembered != nil && !cfg.Force {
		keep := toParse[:0]
		for _, f := range toParse {
			if err, ok := cfg.Remembered(f.stamp); ok {
				f.settled = true // not to be parsed: no SettledBytes
				f.res.Status, f.res.Err = Failed, &FileError{Path: f.path, Err: err}
				s.prog.Settled++
				s.prog.Failed++
				continue
			}
			keep = append(keep, f)
		}
		toParse = keep
	}
	s.mu.Lock()
	s.prog.Files = len(s.files)
	s.prog.ToParse = len(toParse)
	for _, f := range toParse {
		s.prog.BytesToParse += f.size
	}
	s.progress()
	s.mu.Unlock()

	ingestErr := cfg.Ingest(ctx, s.parsed(ctx, toParse), s.done)

	s.mu.Lock()
	cause := context.Cause(ctx)
	if cause == nil {
		cause = ingestErr
	}
	if cause == nil {
		cause = errIngestStopped
	}
	for _, f := range toParse {
		if !f.settled {
			// Never parsed, or its documents were cut short.
			s.settleLocked(f, Failed, cause)
		}
	}
	s.mu.Unlock()
	if ingestErr == nil && ctx.Err() == nil {
		if err := s.deleteVanished(ctx); err != nil {
			ingestErr = err
		}
	}
	if ingestErr == nil {
		ingestErr = ctx.Err()
	}
	return s.report(), ingestErr
}

// walk lists the tree's regular files, minus the excluded ones. A
// directory or file it cannot read is a failed result, not an error,
// unless it is the root.
func (s *syncer) walk(ctx context.Context) error {
	return fs.WalkDir(s.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == "." {
				return fmt.Errorf("dirsync: root: %w", err)
			}
			if d == nil || d.IsDir() {
				s.failedDirs = append(s.failedDirs, p)
			}
			s.dirErrs = append(s.dirErrs, FileResult{Path: p, Status: Failed, Err: &FileError{Path: p, Err: err}})
			return nil
		}
		if p == "." {
			return nil
		}
		if d.IsDir() {
			if anyMatch(s.exclude, p) {
				s.rep.Excluded++
				return fs.SkipDir
			}
			return nil
		}
		if anyMatch(s.exclude, p) || len(s.include) > 0 && !anyMatch(s.include, p) {
			s.rep.Excluded++
			return nil
		}
		var info fs.FileInfo
		if d.Type().IsRegular() {
			info, err = d.Info()
		} else {
			info, err = fs.Stat(s.fsys, p) // follows a symbolic link
		}
		if err == nil && !info.Mode().IsRegular() {
			err = ErrNotRegular
		}
		if err != nil {
			s.dirErrs = append(s.dirErrs, FileResult{Path: p, Status: Failed, Err: &FileError{Path: p, Err: err}})
			return nil
		}
		f := &file{path: p, size: info.Size(), modTime: info.ModTime()}
		f.stamp = stamp(s.cfg.Salt, s.cfg.Root, p, f.size, f.modTime)
		f.res = FileResult{Path: p, Size: f.size, Stamp: f.stamp}
		s.files = append(s.files, f)
		s.byPath[p] = f
		return nil
	})
}

// fileOf returns the file of the tree a document ID of the root belongs
// to and the document's n, if any.
func (s *syncer) fileOf(id string) (*file, int, bool) {
	rest := id
	if s.cfg.Root != "" {
		var ok bool
		if rest, ok = strings.CutPrefix(id, s.cfg.Root+"//"); !ok {
			return nil, 0, false
		}
	}
	if f, ok := s.byPath[rest]; ok {
		return f, 0, true
	}
	if i := strings.LastIndexByte(rest, '#'); i > 0 {
		if n, err := strconv.Atoi(rest[i+1:]); err == nil && n > 0 && strconv.Itoa(n) == rest[i+1:] {
			if f, ok := s.byPath[rest[:i]]; ok {
				return f, n, true
			}
		}
	}
	return nil, 0, false
}

// parsed returns the documents of files, read and parsed by
// cfg.Concurrency goroutines, in the order they are ready. Stopping the
// sequence early stops the goroutines and waits for them.
func (s *syncer) parsed(ctx context.Context, files []*file) func(yield func(document.Document) bool) {
	return func(yield func(document.Document) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		work := make(chan *file)
		out := make(chan document.Document)
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(work)
			for _, f := range files {
				select {
				case work <- f:
				case <-ctx.Done():
					return
				}
			}
		})
		for range max(1, s.cfg.Concurrency) {
			wg.Go(func() {
				for f := range work {
					docs := s.parse(ctx, f)
					for _, d := range docs {
						select {
						case out <- d:
						case <-ctx.Done():
							return
						}
					}
				}
			})
		}
		go func() {
			wg.Wait()
			close(out)
		}()
		defer func() {
			cancel()
			for range out { // until every goroutine is gone
			}
		}()
		for d := range out {
			if !yield(d) {
				return
			}
		}
	}
}

// parse reads and loads f and returns its documents, named and stamped,
// having registered them; a file that fails settles here.
func (s *syncer) parse(ctx context.Context, f *file) []document.Document {
	docs, err := s.load(ctx, f)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.settleLocked(f, Failed, err)
		return nil
	}
	f.ids = make(map[string]bool, len(docs))
	f.pending = len(docs)
	for _, d := range docs {
		f.ids[d.ID] = true
		s.byID[d.ID] = f
	}
	return docs
}

func (s *syncer) load(ctx context.Context, f *file) ([]document.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if max := s.limits.MaxFileSize; max > 0 && f.size > max {
		return nil, &loader.Error{Name: f.path, Err: fmt.Errorf("%w: %d bytes, limit %d", loader.ErrTooLarge, f.size, max)}
	}
	data, err := fs.ReadFile(s.fsys, f.path)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.rep.Parsed++
	s.rep.Bytes += int64(len(data))
	s.mu.Unlock()
	hash := s.contentHash(f, data)
	docs, err := s.cfg.Load(ctx, &loader.File{Name: f.path, Data: data, ModTime: f.modTime, Limits: s.cfg.Limits})
	if err != nil {
		return nil, err
	}
	for i := range docs {
		d := &docs[i]
		n := 0
		if len(docs) > 1 {
			n = i + 1
		}
		d.ID = DocID(s.cfg.Root, f.path, n)
		if d.Source == "" {
			d.Source = f.path
		}
		if d.Title == "" {
			d.Title = strings.TrimSuffix(path.Base(f.path), path.Ext(f.path))
		}
		m := make(map[string]any, len(d.Metadata)+3)
		maps.Copy(m, d.Metadata) // loaders may share one map between documents
		m[document.MetaSyncRoot] = s.cfg.Root
		m[document.MetaFileStamp] = f.stamp
		m[document.MetaFileHash] = hash
		if n > 0 && n == len(docs) {
			m[document.MetaFileLast] = true
		}
		d.Metadata = m
	}
	return docs, nil
}

// done records a document's outcome.
func (s *syncer) done(r ingest.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.byID[r.ID]
	if f == nil || f.settled {
		return
	}
	f.pending--
	switch r.Status {
	case ingest.Stored:
		f.res.Chunks += r.Chunks
		f.res.Documents++
	case ingest.Unchanged:
		f.res.Documents++
	default:
		if f.res.Err == nil {
			f.res.Err = &FileError{Path: f.path, Err: r.Err}
		}
	}
	if f.pending == 0 {
		if f.res.Err != nil {
			s.settleLocked(f, Failed, nil)
		} else {
			s.settleLocked(f, Stored, nil)
		}
	}
}

// settleLocked records f's outcome once; err, when not nil and f has no
// error yet, is why it failed.
func (s *syncer) settleLocked(f *file, st Status, err error) {
	if f.settled {
		return
	}
	f.settled = true
	if st == Failed && f.res.Err == nil {
		f.res.Err = &FileError{Path: f.path, Err: err}
	}
	f.res.Status = st
	s.prog.Settled++
	s.prog.SettledBytes += f.size
	switch st {
	case Stored:
		s.prog.Stored++
		s.rep.Documents += f.res.Documents
	case Failed:
		s.prog.Failed++
	}
	s.progress()
}

func (s *syncer) progress() {
	if s.cfg.Progress != nil {
		s.cfg.Progress(s.prog)
	}
}

// deleteBatch is the number of documents deleted at a time.
const deleteBatch = 1000

// deleteVanished deletes the documents of the root that no file of the
// tree yields any more. Files that failed keep theirs, and so does
// everything under a directory that could not be read.
func (s *syncer) deleteVanished(ctx context.Context) error {
	ids := s.rootIDs
	keepPath := map[string]bool{}
	for _, r := range s.dirErrs {
		keepPath[r.Path] = true
	}
	var stale []string
	gone := map[string]int{} // path → documents deleted, for files no longer present
	for _, id := range ids {
		if f, _, ok := s.fileOf(id); ok {
			if f.res.Status == Failed || f.ids[id] {
				continue
			}
			stale = append(stale, id) // a vanished row of a file still present
			continue
		}
		p := strings.TrimPrefix(id, s.cfg.Root+"//")
		if s.cfg.Root == "" {
			p = id
		}
		if i := strings.LastIndexByte(p, '#'); i > 0 {
			if _, err := strconv.Atoi(p[i+1:]); err == nil {
				p = p[:i]
			}
		}
		if keepPath[p] || slices.ContainsFunc(s.failedDirs, func(d string) bool { return strings.HasPrefix(p, d+"/") }) {
			continue
		}
		stale = append(stale, id)
		gone[p]++
	}
	for batch := range slices.Chunk(stale, deleteBatch) {
		if err := s.cfg.Delete(ctx, batch); err != nil {
			return fmt.Errorf("dirsync: deleting vanished files: %w", err)
		}
		s.mu.Lock()
		s.rep.DeletedDocuments += len(batch)
		s.mu.Unlock()
	}
	paths := slices.Sorted(maps.Keys(gone))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		s.dirErrs = append(s.dirErrs, FileResult{Path: p, Status: Deleted, Documents: gone[p]})
		s.prog.Deleted++
	}
	s.progress()
	return nil
}

func (s *syncer) report() *Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.rep
	for _, f := range s.files {
		rep.Files = append(rep.Files, f.res)
	}
	rep.Files = append(rep.Files, s.dirErrs...)
	for _, r := range rep.Files {
		switch r.Status {
		case Stored:
			rep.Stored++
		case Unchanged:
			rep.Unchanged++
		case Deleted:
			rep.Deleted++
		case Failed:
			rep.Failed++
		}
	}
	rep.Elapsed = time.Since(s.start)
	return &rep
}
