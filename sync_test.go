package rag_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/store"
)

// syncFixture is a pipeline on an in-memory store with a counting fake
// embedder, and a registry of test formats that counts its parses:
// .txt (one document), .csv (a document per non-empty line), .bad
// (malformed), .lock (encrypted).
type syncFixture struct {
	p      *rag.Pipeline
	e      *embedtest.Fake
	reg    *loader.Registry
	parses atomic.Int64
	// block, when set, is called by every parse first.
	block func(ctx context.Context, name string) error
}

func newSyncFixture(t *testing.T) *syncFixture {
	t.Helper()
	fx := &syncFixture{e: &embedtest.Fake{}, reg: &loader.Registry{}}
	p, err := rag.New(rag.Options{Embedder: fx.e, Ingest: rag.IngestOptions{NoCache: true}})
	if err != nil {
		t.Fatal(err)
	}
	fx.p = p
	parse := func(split func(string) []string) loader.Loader {
		return loader.LoaderFunc(func(ctx context.Context, f *loader.File) ([]document.Document, error) {
			fx.parses.Add(1)
			if fx.block != nil {
				if err := fx.block(ctx, f.Name); err != nil {
					return nil, err
				}
			}
			var docs []document.Document
			for _, s := range split(string(f.Data)) {
				docs = append(docs, document.Document{Content: s})
			}
			return docs, nil
		})
	}
	fx.reg.Register("text", parse(func(s string) []string { return []string{s} }), []string{".txt"}, nil)
	fx.reg.Register("rows", parse(func(s string) []string { return strings.Fields(s) }), []string{".csv"}, nil)
	fx.reg.Register("broken", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
		return nil, fmt.Errorf("%w: no header", loader.ErrMalformed)
	}), []string{".bad"}, nil)
	fx.reg.Register("locked", loader.LoaderFunc(func(context.Context, *loader.File) ([]document.Document, error) {
		return nil, fmt.Errorf("%w: password needed", loader.ErrEncrypted)
	}), []string{".lock"}, nil)
	return fx
}

func (fx *syncFixture) sync(t *testing.T, fsys fs.FS, o rag.SyncOptions) *rag.SyncReport {
	t.Helper()
	o.Registry = fx.reg
	rep, err := fx.p.Sync(context.Background(), fsys, &o)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return rep
}

// stored lists the IDs of the documents the store holds under root.
func (fx *syncFixture) stored(t *testing.T, root string) []string {
	t.Helper()
	ids, err := store.DocumentIDs(context.Background(), fx.p.Store(), store.Eq(rag.MetaSyncRoot, root))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func statuses(rep *rag.SyncReport) map[string]rag.FileStatus {
	m := map[string]rag.FileStatus{}
	for _, f := range rep.Files {
		m[f.Path] = f.Status
	}
	return m
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), ModTime: t0} }

func TestSyncStoresThenSkipsUnchanged(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{
		"a.txt":        file("Tides follow the Moon."),
		"notes/b.txt":  file("Goroutines talk over channels."),
		"rows.csv":     file("alpha beta gamma"),
		"image.png":    file("\x89PNG\r\n\x1a\n\x00\x00binary"),
		"broken.bad":   file("x"),
		"secret.lock":  file("x"),
		"huge.txt":     file(strings.Repeat("big ", 100)),
		"notes/e.txt":  file("   "),
		"skip/out.txt": file("excluded"),
	}
	o := rag.SyncOptions{Root: "docs", Exclude: []string{"skip"}, Limits: loader.Limits{MaxFileSize: 300}}
	rep := fx.sync(t, tree, o)

	want := map[string]rag.FileStatus{
		"a.txt": rag.FileStored, "notes/b.txt": rag.FileStored, "rows.csv": rag.FileStored,
		"image.png": rag.FileFailed, "broken.bad": rag.FileFailed, "secret.lock": rag.FileFailed,
		"huge.txt": rag.FileFailed, "notes/e.txt": rag.FileFailed,
	}
	if got := statuses(rep); !maps.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if rep.Stored != 3 || rep.Failed != 5 || rep.Excluded != 1 || rep.Documents != 5 || rep.Parsed != 7 {
		t.Errorf("counts: stored %d failed %d excluded %d documents %d parsed %d", rep.Stored, rep.Failed, rep.Excluded, rep.Documents, rep.Parsed)
	}
	why := map[string]error{"image.png": loader.ErrUnsupported, "broken.bad": loader.ErrMalformed, "secret.lock": loader.ErrEncrypted, "huge.txt": loader.ErrTooLarge, "notes/e.txt": loader.ErrNoText}
	for _, f := range rep.Files {
		if f.Status != rag.FileFailed {
			continue
		}
		var fe *rag.FileError
		if !errors.As(f.Err, &fe) || fe.Path != f.Path || !errors.Is(f.Err, why[f.Path]) {
			t.Errorf("%s: err %v, want a *rag.FileError matching %v", f.Path, f.Err, why[f.Path])
		}
	}
	wantIDs := []string{"docs//a.txt", "docs//notes/b.txt", "docs//rows.csv#1", "docs//rows.csv#2", "docs//rows.csv#3"}
	if got := fx.stored(t, "docs"); !slices.Equal(got, wantIDs) {
		t.Fatalf("stored %v, want %v", got, wantIDs)
	}
	hits, err := fx.p.Search(context.Background(), "channels goroutines", &rag.SearchOptions{TopK: 1})
	if err != nil || len(hits) != 1 || hits[0].DocID != "docs//notes/b.txt" || hits[0].Source != "notes/b.txt" || hits[0].Title != "b" {
		t.Fatalf("search: %v %+v", err, hits)
	}

	parses, calls := fx.parses.Load(), fx.e.Calls()
	rep = fx.sync(t, tree, o)
	// Only the failed files are tried again; of them only notes/e.txt
	// reaches a counting loader.
	if d := fx.parses.Load() - parses; d != 1 {
		t.Errorf("second sync parsed %d files, want 1 (notes/e.txt, which failed)", d)
	}
	if d := fx.e.Calls() - calls; d != 0 {
		t.Errorf("second sync made %d embedding calls, want 0", d)
	}
	if rep.Unchanged != 3 || rep.Stored != 0 || rep.Failed != 5 || rep.Parsed != 4 {
		t.Errorf("second sync: unchanged %d stored %d parsed %d", rep.Unchanged, rep.Stored, rep.Parsed)
	}
	for p, st := range statuses(rep) {
		if want[p] == rag.FileStored && st != rag.FileUnchanged {
			t.Errorf("second sync: %s %v, want unchanged", p, st)
		}
	}
}

// TestSyncChangedFiles: a file whose stamp changed is read again; if its
// bytes are the same, it is not parsed, and nothing is embedded; if they
// changed, it is parsed and embedded.
func TestSyncChangedFiles(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{"a.txt": file("one two three"), "b.txt": file("four five six")}
	fx.sync(t, tree, rag.SyncOptions{})

	tree["a.txt"].ModTime = t0.Add(time.Hour) // touched, same content
	tree["b.txt"] = file("seven eight nine")  // same size and time, other content: the stamp cannot see it
	tree["b.txt"].ModTime = t0.Add(2 * time.Hour)
	parses, calls := fx.parses.Load(), fx.e.Calls()
	rep := fx.sync(t, tree, rag.SyncOptions{})
	if d := fx.parses.Load() - parses; d != 1 {
		t.Errorf("parsed %d files, want 1", d)
	}
	if st := statuses(rep); st["a.txt"] != rag.FileUnchanged || st["b.txt"] != rag.FileStored || rep.Ingest.Stored != 1 {
		t.Errorf("statuses %v, %d documents stored; want a.txt unchanged, b.txt stored, 1", st, rep.Ingest.Stored)
	}
	// The touched file is read again on each sync (the store keeps its
	// old stamp), and still not parsed.
	parses = fx.parses.Load()
	if rep := fx.sync(t, tree, rag.SyncOptions{}); rep.Unchanged != 2 || rep.Parsed != 0 || fx.parses.Load() != parses {
		t.Errorf("third sync: unchanged %d, parsed %d", rep.Unchanged, rep.Parsed)
	}
	if d := fx.e.Calls() - calls; d != 1 {
		t.Errorf("%d embedding calls, want 1 (b.txt's)", d)
	}
	hits, err := fx.p.Search(context.Background(), "seven eight", &rag.SearchOptions{TopK: 1})
	if err != nil || len(hits) != 1 || hits[0].Text != "seven eight nine" {
		t.Fatalf("search: %v %+v", err, hits)
	}

	// Force parses everything again. a.txt's records get its new stamp
	// (the stamp is metadata: one embedding call); then nothing changes.
	for i, want := range []int{1, 0} {
		parses, calls = fx.parses.Load(), fx.e.Calls()
		rep = fx.sync(t, tree, rag.SyncOptions{Force: true})
		if fx.parses.Load()-parses != 2 || fx.e.Calls()-calls != want || rep.Ingest.Unchanged != 2-want {
			t.Errorf("force %d: %d parses, %d calls, %d unchanged documents; want 2, %d, %d", i, fx.parses.Load()-parses, fx.e.Calls()-calls, rep.Ingest.Unchanged, want, 2-want)
		}
	}
}

// TestSyncDeletesOnlyUnderItsRoot: a file gone from the tree loses its
// documents, vanished rows of a file too, and another root's documents
// and documents ingested otherwise stay.
func TestSyncDeletesOnlyUnderItsRoot(t *testing.T) {
	fx := newSyncFixture(t)
	ctx := context.Background()
	if _, err := fx.p.Ingest(ctx, rag.Document{ID: "a.txt", Content: "ingested by hand"}); err != nil {
		t.Fatal(err)
	}
	one := fstest.MapFS{"a.txt": file("first tree file"), "rows.csv": file("r1 r2 r3"), "keep.txt": file("kept")}
	two := fstest.MapFS{"a.txt": file("second tree file")}
	fx.sync(t, one, rag.SyncOptions{Root: "one"})
	fx.sync(t, two, rag.SyncOptions{Root: "two"})
	fx.sync(t, one, rag.SyncOptions{}) // the root named ""

	delete(one, "a.txt")
	one["rows.csv"] = file("r1 r2")
	one["rows.csv"].ModTime = t0.Add(time.Minute)
	rep := fx.sync(t, one, rag.SyncOptions{Root: "one"})
	if st := statuses(rep); st["a.txt"] != rag.FileDeleted || st["rows.csv"] != rag.FileStored || st["keep.txt"] != rag.FileUnchanged {
		t.Fatalf("statuses %v", st)
	}
	if rep.Deleted != 1 || rep.DeletedDocuments != 2 {
		t.Errorf("deleted %d files, %d documents; want 1, 2 (a.txt and rows.csv#3)", rep.Deleted, rep.DeletedDocuments)
	}
	if got, want := fx.stored(t, "one"), []string{"one//keep.txt", "one//rows.csv#1", "one//rows.csv#2"}; !slices.Equal(got, want) {
		t.Errorf("root one holds %v, want %v", got, want)
	}
	if got := fx.stored(t, "two"); !slices.Equal(got, []string{"two//a.txt"}) {
		t.Errorf("root two holds %v", got)
	}
	if got := fx.stored(t, ""); !slices.Equal(got, []string{"a.txt", "keep.txt", "rows.csv#1", "rows.csv#2", "rows.csv#3"}) {
		t.Errorf("root \"\" holds %v", got)
	}
	all, err := store.DocumentIDs(ctx, fx.p.Store(), nil)
	if err != nil || !slices.Contains(all, "a.txt") {
		t.Errorf("the document ingested by hand (same ID as root \"\"'s a.txt, which replaced it) or the listing: %v %v", all, err)
	}
}

// TestSyncRowMissingFromStore: a file of several documents is unchanged
// only if the store holds all of them.
func TestSyncRowMissingFromStore(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{"rows.csv": file("r1 r2 r3")}
	fx.sync(t, tree, rag.SyncOptions{Root: "r"})
	if err := fx.p.Delete(context.Background(), "r//rows.csv#2"); err != nil {
		t.Fatal(err)
	}
	parses := fx.parses.Load()
	rep := fx.sync(t, tree, rag.SyncOptions{Root: "r"})
	if fx.parses.Load()-parses != 1 || rep.Stored != 1 || rep.Ingest.Stored != 1 || rep.Ingest.Unchanged != 2 {
		t.Errorf("parses %d, stored files %d, documents stored %d unchanged %d; want 1, 1, 1, 2", fx.parses.Load()-parses, rep.Stored, rep.Ingest.Stored, rep.Ingest.Unchanged)
	}
	if got := fx.stored(t, "r"); len(got) != 3 {
		t.Errorf("holds %v", got)
	}
	parses = fx.parses.Load()
	if rep := fx.sync(t, tree, rag.SyncOptions{Root: "r"}); rep.Unchanged != 1 || fx.parses.Load() != parses {
		t.Errorf("third sync: unchanged %d, parses %d", rep.Unchanged, fx.parses.Load()-parses)
	}
}

func TestSyncGlobs(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{
		"README.txt":           file("top"),
		"docs/guide.txt":       file("guide"),
		"docs/api/ref.txt":     file("ref"),
		"docs/api/ref.csv":     file("row"),
		".git/config.txt":      file("hidden"),
		"docs/draft/wip.txt":   file("wip"),
		"src/docs/nested.txt":  file("nested"),
		"docs/api/.hidden.txt": file("hidden"),
	}
	rep := fx.sync(t, tree, rag.SyncOptions{Include: []string{"docs/**/*.txt"}, Exclude: []string{".*", "docs/draft"}})
	got := slices.Sorted(func(yield func(string) bool) {
		for _, f := range rep.Files {
			if !yield(f.Path) {
				return
			}
		}
	})
	if want := []string{"docs/api/ref.txt", "docs/guide.txt"}; !slices.Equal(got, want) {
		t.Errorf("synced %v, want %v", got, want)
	}
	// README.txt, docs/api/ref.csv, src/docs/nested.txt (not included),
	// .git and docs/draft (directories, excluded whole), .hidden.txt.
	if rep.Excluded != 6 {
		t.Errorf("excluded %d, want 6", rep.Excluded)
	}
	if _, err := fx.p.Sync(context.Background(), tree, &rag.SyncOptions{Registry: fx.reg, Include: []string{"[a-"}}); !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("bad glob: %v", err)
	}
	if _, err := fx.p.Sync(context.Background(), tree, &rag.SyncOptions{Registry: fx.reg, Root: "a//b"}); !errors.Is(err, rag.ErrBadSyncRoot) {
		t.Errorf("bad root: %v", err)
	}
}

func TestSyncMissingRoot(t *testing.T) {
	fx := newSyncFixture(t)
	rep, err := fx.p.Sync(context.Background(), os.DirFS(filepath.Join(t.TempDir(), "nope")), &rag.SyncOptions{Registry: fx.reg})
	if !errors.Is(err, fs.ErrNotExist) || rep != nil {
		t.Fatalf("err %v, report %v; want fs.ErrNotExist and no report", err, rep)
	}
}

// TestSyncDirFS: files on disk, a directory that cannot be read (reported
// failed, and what was synced under it is not deleted), a file that cannot
// be read, a symbolic link to a file (followed) and one to a directory
// (not followed: failed, not skipped).
func TestSyncDirFS(t *testing.T) {
	fx := newSyncFixture(t)
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "readable text")
	write("private/p.txt", "private text")
	write("locked.txt", "unreadable file")
	if err := os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "private"), filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	rep := fx.sync(t, os.DirFS(dir), rag.SyncOptions{Root: "disk"})
	if st := statuses(rep); rep.Stored != 4 || rep.Failed != 1 || st["linkdir"] != rag.FileFailed {
		t.Fatalf("first sync: stored %d failed %d: %+v", rep.Stored, rep.Failed, rep.Files)
	}
	for _, f := range rep.Files {
		if f.Path == "linkdir" && !errors.Is(f.Err, rag.ErrNotRegular) {
			t.Errorf("a link to a directory: %v, want rag.ErrNotRegular", f.Err)
		}
	}
	if os.Geteuid() == 0 {
		t.Skip("permissions do not bind root")
	}
	if err := os.Chmod(filepath.Join(dir, "private"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "private"), 0o755)
	if err := os.Chmod(filepath.Join(dir, "locked.txt"), 0); err != nil {
		t.Fatal(err)
	}
	// locked.txt's stamp is unchanged; -force makes the sync read it.
	rep = fx.sync(t, os.DirFS(dir), rag.SyncOptions{Root: "disk", Force: true})
	st := statuses(rep)
	if st["private"] != rag.FileFailed || st["locked.txt"] != rag.FileFailed || st["a.txt"] != rag.FileStored || st["link.txt"] != rag.FileStored {
		t.Fatalf("statuses %v", st)
	}
	for _, f := range rep.Files {
		if f.Status == rag.FileFailed && f.Path != "linkdir" && !errors.Is(f.Err, fs.ErrPermission) {
			t.Errorf("%s: %v, want fs.ErrPermission", f.Path, f.Err)
		}
	}
	if got, want := fx.stored(t, "disk"), []string{"disk//a.txt", "disk//link.txt", "disk//locked.txt", "disk//private/p.txt"}; !slices.Equal(got, want) {
		t.Errorf("store holds %v, want %v (nothing deleted)", got, want)
	}
}

// TestSyncCancelled: cancelled while files are being parsed, Sync returns
// the context's error, reports the unfinished files failed with it and
// deletes nothing.
func TestSyncCancelled(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{"gone.txt": file("will vanish")}
	fx.sync(t, tree, rag.SyncOptions{})
	delete(tree, "gone.txt")
	for i := range 20 {
		tree[fmt.Sprintf("f%02d.txt", i)] = file(fmt.Sprintf("file number %d", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once atomic.Bool
	fx.block = func(bctx context.Context, name string) error {
		if name == "f05.txt" && once.CompareAndSwap(false, true) {
			cancel()
		}
		if name >= "f05.txt" {
			<-bctx.Done()
			return bctx.Err()
		}
		return nil
	}
	rep, err := fx.p.Sync(ctx, tree, &rag.SyncOptions{Registry: fx.reg, Concurrency: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if rep == nil || len(rep.Files) != 20 || rep.Failed == 0 || rep.Stored+rep.Failed != 20 || rep.Deleted != 0 {
		t.Fatalf("report %+v", rep)
	}
	stored := fx.stored(t, "")
	for _, f := range rep.Files {
		if f.Status == rag.FileFailed && !errors.Is(f.Err, context.Canceled) {
			t.Errorf("%s: %v, want context.Canceled", f.Path, f.Err)
		}
		if f.Status == rag.FileStored && !slices.Contains(stored, f.Path) {
			t.Errorf("%s reported stored, not in the store", f.Path)
		}
		if f.Status == rag.FileFailed && slices.Contains(stored, f.Path) {
			t.Errorf("%s reported failed, in the store", f.Path)
		}
	}
	if !slices.Contains(stored, "gone.txt") {
		t.Error("a cancelled sync deleted a vanished file")
	}
}

// TestSyncBoundsParsing: at most Concurrency files are parsed at once,
// and that many are.
func TestSyncBoundsParsing(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{}
	for i := range 12 {
		tree[fmt.Sprintf("f%02d.txt", i)] = file(fmt.Sprintf("text of file %d", i))
	}
	var inFlight, most atomic.Int64
	both := make(chan struct{})
	var closeOnce atomic.Bool
	fx.block = func(ctx context.Context, name string) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if n == 2 && closeOnce.CompareAndSwap(false, true) {
			close(both)
		}
		select { // the first parses wait until two run at once
		case <-both:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	rep := fx.sync(t, tree, rag.SyncOptions{Concurrency: 2})
	if rep.Stored != 12 || most.Load() != 2 {
		t.Errorf("stored %d, at most %d parses at once; want 12, 2", rep.Stored, most.Load())
	}
}

// TestSyncProgress: the progress counters never go back and end with
// every file settled.
func TestSyncProgress(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{"bad.bad": file("x")}
	for i := range 8 {
		tree[fmt.Sprintf("f%d.txt", i)] = file(fmt.Sprintf("text of file %d with some words", i))
	}
	var seen []rag.SyncProgress
	rep := fx.sync(t, tree, rag.SyncOptions{Progress: func(p rag.SyncProgress) { seen = append(seen, p) }})
	if len(seen) == 0 {
		t.Fatal("no progress")
	}
	for i := 1; i < len(seen); i++ {
		a, b := seen[i-1], seen[i]
		if b.Settled < a.Settled || b.SettledBytes < a.SettledBytes || b.Ingest.Chunks < a.Ingest.Chunks || b.Ingest.Requests < a.Ingest.Requests || b.Elapsed < a.Elapsed {
			t.Fatalf("progress went back: %+v then %+v", a, b)
		}
	}
	last := seen[len(seen)-1]
	if last.Files != 9 || last.Settled != 9 || last.Stored != 8 || last.Failed != 1 || last.Ingest.Chunks != rep.Ingest.Chunks || last.SettledBytes != last.BytesToParse {
		t.Errorf("last progress %+v, report chunks %d", last, rep.Ingest.Chunks)
	}
}

// noLister hides its store's Lister.
type noLister struct{ store.Store }

func TestSyncNeedsALister(t *testing.T) {
	s, err := rag.New(rag.Options{Embedder: &embedtest.Fake{}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rag.New(rag.Options{Embedder: &embedtest.Fake{}, Store: noLister{s.Store()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Sync(context.Background(), fstest.MapFS{"a.txt": file("x")}, nil)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("err %v, want errors.ErrUnsupported", err)
	}
}

// TestSyncRemembersFailures: with SyncOptions.Failures, a file a loader
// failed on is not read again until it changes, also after a JSON round
// trip; Force reads it.
func TestSyncRemembersFailures(t *testing.T) {
	fx := newSyncFixture(t)
	tree := fstest.MapFS{
		"a.txt":      file("fine text"),
		"broken.bad": file("x"),
		"image.png":  file("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
	}
	var mem rag.SyncFailures
	o := rag.SyncOptions{Root: "r", Failures: &mem}
	if rep := fx.sync(t, tree, o); rep.Parsed != 3 || rep.Failed != 2 || mem.Len() != 2 {
		t.Fatalf("first sync: parsed %d, failed %d, %d remembered", rep.Parsed, rep.Failed, mem.Len())
	}
	b, err := json.Marshal(&mem)
	if err != nil {
		t.Fatal(err)
	}
	var again rag.SyncFailures
	if err := json.Unmarshal(b, &again); err != nil || again.Len() != 2 {
		t.Fatalf("JSON round trip: %v, %d", err, again.Len())
	}
	for _, m := range []*rag.SyncFailures{&mem, &again} {
		o.Failures = m
		rep := fx.sync(t, tree, o)
		if rep.Parsed != 0 || rep.Failed != 2 || rep.Unchanged != 1 {
			t.Fatalf("again: parsed %d, failed %d, unchanged %d", rep.Parsed, rep.Failed, rep.Unchanged)
		}
		why := map[string]error{"broken.bad": loader.ErrMalformed, "image.png": loader.ErrUnsupported}
		for _, f := range rep.Files {
			if f.Status == rag.FileFailed && (!errors.Is(f.Err, rag.ErrFailedBefore) || !errors.Is(f.Err, why[f.Path])) {
				t.Errorf("%s: %v, want rag.ErrFailedBefore and %v", f.Path, f.Err, why[f.Path])
			}
		}
	}
	tree["broken.bad"].ModTime = t0.Add(time.Minute)
	if rep := fx.sync(t, tree, o); rep.Parsed != 1 || rep.Failed != 2 {
		t.Errorf("after a change: parsed %d, failed %d; want 1, 2", rep.Parsed, rep.Failed)
	}
	o.Force = true
	if rep := fx.sync(t, tree, o); rep.Parsed != 3 || o.Failures.Len() != 2 {
		t.Errorf("force: parsed %d, %d remembered; want 3, 2", rep.Parsed, o.Failures.Len())
	}
	delete(tree, "image.png")
	o.Force = false
	if rep := fx.sync(t, tree, o); rep.Failed != 1 || o.Failures.Len() != 1 {
		t.Errorf("after a removal: failed %d, %d remembered; want 1, 1", rep.Failed, o.Failures.Len())
	}
	if err := json.Unmarshal([]byte("[1]"), &again); err == nil {
		t.Error("bad JSON accepted")
	}
}
