package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/internal/atomicfile"
	"github.com/ragkit-go/rag/loader"
)

// multiFlag is a flag that may be given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// ingest syncs a directory into the store.
func ingest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", "[flags] DIR", stderr)
	var sf storeFlags
	sf.register(fs)
	var include, exclude multiFlag
	fs.Var(&include, "include", "index only files matching this glob (repeatable; \"*.md\" matches at any depth, \"docs/**/*.md\" from the root)")
	fs.Var(&exclude, "exclude", "leave out files and directories matching this glob (repeatable; default \".*\": hidden ones)")
	root := fs.String("root", "", "name of the tree in the store (default: DIR's absolute path); files gone from DIR are deleted from this root only")
	force := fs.Bool("force", false, "parse every file again, even unchanged ones")
	concurrency := fs.Int("concurrency", 0, "files parsed at once (default: the number of CPUs)")
	maxSize := fs.Int64("max-size", 0, "largest file read, in bytes (0: 64 MiB)")
	verbose := fs.Bool("v", false, "list every file's outcome, unsupported files included")
	dirs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) != 1 {
		fs.Usage()
		return errUsage
	}
	dir := dirs[0]
	if len(exclude) == 0 {
		exclude = multiFlag{".*"}
	}
	if *root == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		*root = filepath.ToSlash(abs)
	}
	if info, err := os.Stat(dir); err != nil {
		return err
	} else if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	st, err := openStore(&sf, true, rag.Options{}, stderr)
	if err != nil {
		return err
	}
	defer st.Close()

	// The files the loaders failed on are not read again until they
	// change: remembered beside the store.
	failures := &rag.SyncFailures{}
	fpath := filepath.Join(sf.dir, "failures.json")
	if b, err := os.ReadFile(fpath); err == nil {
		if err := json.Unmarshal(b, failures); err != nil {
			fmt.Fprintf(stderr, "rag: %s: %v; every file is tried again\n", fpath, err)
			failures = &rag.SyncFailures{}
		}
	}

	bar := newProgressBar(stderr)
	var last rag.SyncProgress
	rep, err := st.p.Sync(ctx, os.DirFS(dir), &rag.SyncOptions{
		Root:        *root,
		Include:     include,
		Exclude:     exclude,
		Force:       *force,
		Concurrency: *concurrency,
		Limits:      loader.Limits{MaxFileSize: *maxSize},
		Failures:    failures,
		Progress: func(p rag.SyncProgress) {
			last = p
			bar.update(p)
		},
	})
	if rep != nil {
		bar.done(last)
	}
	if err != nil {
		return err
	}
	if b, err := json.Marshal(failures); err != nil {
		return err
	} else if err := atomicfile.Write(fpath, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return err
	}
	unsupported, failed := 0, 0
	for _, f := range rep.Files {
		switch {
		case f.Status == rag.FileFailed && errors.Is(f.Err, loader.ErrUnsupported):
			unsupported++
			if *verbose {
				fmt.Fprintf(stderr, "unsupported: %s\n", f.Path)
			}
		case f.Status == rag.FileFailed:
			failed++
			fmt.Fprintf(stderr, "failed: %s: %v\n", f.Path, reason(f.Err))
		case *verbose:
			fmt.Fprintf(stderr, "%s: %s (%d documents, %d chunks)\n", f.Status, f.Path, f.Documents, f.Chunks)
		}
	}
	in := rep.Ingest
	fmt.Fprintf(stdout, "%s: %d files: %d stored, %d unchanged, %d deleted, %d failed", dir, len(rep.Files)-rep.Deleted, rep.Stored, rep.Unchanged, rep.Deleted, failed)
	if unsupported > 0 {
		fmt.Fprintf(stdout, ", %d of an unsupported type", unsupported)
	}
	if rep.Excluded > 0 {
		fmt.Fprintf(stdout, " (%d excluded)", rep.Excluded)
	}
	fmt.Fprintf(stdout, "; %d documents, %d chunks, %d tokens, %d embedding requests; %d files read (%.1f MB) in %v\n",
		rep.Documents, in.Chunks, in.Tokens, in.Requests, rep.Parsed, float64(rep.Bytes)/1e6, rep.Elapsed.Round(time.Millisecond))
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d files could not be stored", failed)}
	}
	return nil
}

// reason is a file's error without the wrappers' repeated path.
func reason(err error) error {
	var fe *rag.FileError
	if errors.As(err, &fe) {
		err = fe.Err
	}
	var le *loader.Error
	if errors.As(err, &le) {
		err = le.Err
	}
	return err
}
