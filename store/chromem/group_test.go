package chromem_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
)

// An Upsert of many documents costs one fsync of the log, not one per
// document: no document file is written (or synced) until the log is
// rotated. Counted through the log's fsync seam.
func TestGroupCommitOneFsyncPerUpsert(t *testing.T) {
	var syncs atomic.Int32
	defer chromem.SetLogSync(func(f *os.File) error { syncs.Add(1); return f.Sync() })()
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	defer s.Close()
	ctx := context.Background()
	for round := range 3 {
		var batch []store.StoredDocument
		for i := range 64 {
			batch = append(batch, bigDoc(fmt.Sprintf("doc-%d-%d", round, i), 2, 8, uint64(i)))
		}
		before := syncs.Load()
		if err := s.Upsert(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if got := syncs.Load() - before; got != 1 {
			t.Errorf("round %d: an Upsert of 64 documents made %d log fsyncs, want 1", round, got)
		}
	}
	before := syncs.Load()
	if err := s.Delete(ctx, "doc-0-1", "doc-0-2", "absent"); err != nil {
		t.Fatal(err)
	}
	if got := syncs.Load() - before; got != 1 {
		t.Errorf("a Delete of 3 documents made %d log fsyncs, want 1", got)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "rag", "docs", "*")); len(files) != 0 {
		t.Errorf("%d document files written before any rotation, want 0 (the log holds them)", len(files))
	}
	if s.Len() != 3*64*2-2*2 {
		t.Errorf("store holds %d records, want %d", s.Len(), 3*64*2-2*2)
	}
}

// model is what a store should hold: document -> hash and record count.
type model map[string][2]string

func (m model) check(t *testing.T, s *chromem.Store, what string) {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, 0, 64+len(m))
	for i := range 64 {
		ids = append(ids, fmt.Sprintf("doc-%02d", i))
	}
	for id := range m {
		ids = append(ids, id)
	}
	h, err := s.Hashes(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(m) {
		t.Errorf("%s: %d documents, want %d", what, len(h), len(m))
	}
	for id, want := range m {
		if h[id] != want[0] {
			t.Errorf("%s: %s has hash %q, want %q", what, id, h[id], want[0])
			continue
		}
		rs, err := s.Search(ctx, store.Query{Vector: vec(8, 1), TopK: 1000, Filter: store.Eq(store.FieldDocID, id)})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(len(rs)) != want[1] {
			t.Errorf("%s: %s has %d records, want %s", what, id, len(rs), want[1])
		}
	}
}

// writeMany writes versions of 64 documents, replacing and deleting some,
// recording what should be held after each write in m and calling after.
func writeMany(t *testing.T, s *chromem.Store, m model, writes int, after func()) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	for w := range writes {
		if w%5 == 4 {
			id := fmt.Sprintf("doc-%02d", rng.IntN(64))
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			delete(m, id)
		} else {
			var batch []store.StoredDocument
			for range 1 + rng.IntN(5) {
				id := fmt.Sprintf("doc-%02d", rng.IntN(64))
				d := bigDoc(id, 1+rng.IntN(4), 8, rng.Uint64())
				d.Hash = fmt.Sprintf("w%d", w)
				batch = append(batch, d)
			}
			if err := s.Upsert(ctx, batch); err != nil {
				t.Fatal(err)
			}
			for _, d := range batch {
				m[d.ID] = [2]string{d.Hash, fmt.Sprint(len(d.Records))}
			}
		}
		if after != nil {
			after()
		}
	}
}

// With a small log limit the log is rotated again and again and its
// documents written to their files in the background; reopened, the store
// holds exactly what was written, and no more than two logs are left.
func TestLogRotationPreservesContents(t *testing.T) {
	defer chromem.SetLogRotateBytes(4 << 10)()
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	m := model{}
	writeMany(t, s, m, 200, nil)
	m.check(t, s, "before closing")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "rag", "wal-*.log"))
	files, _ := filepath.Glob(filepath.Join(dir, "rag", "docs", "*.doc"))
	if len(logs) > 1 || len(files) == 0 {
		t.Errorf("after Close: %d logs (want at most 1) and %d document files (want some)", len(logs), len(files))
	}
	s = open(t, chromem.Options{Path: dir})
	m.check(t, s, "after reopening")
	writeMany(t, s, m, 20, nil)
	s.Close()
	s = open(t, chromem.Options{Path: dir})
	defer s.Close()
	m.check(t, s, "after writing and reopening again")
}

// A document's version in the log wins over its file, which a crash of
// the machine may have left torn.
func TestLogWinsOverDamagedFile(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	restore := chromem.SetLogRotateBytes(0)
	s := open(t, chromem.Options{Path: dir})
	if err := s.Upsert(ctx, []store.StoredDocument{bigDoc("a", 3, 8, 1)}); err != nil {
		t.Fatal(err)
	}
	s.Close() // the file of a is written
	restore()
	s = open(t, chromem.Options{Path: dir})
	newer := bigDoc("a", 2, 8, 2)
	newer.Hash = "newer"
	if err := s.Upsert(ctx, []store.StoredDocument{newer}); err != nil {
		t.Fatal(err)
	}
	s.Close() // only in the log
	files, _ := filepath.Glob(filepath.Join(dir, "rag", "docs", "*.doc"))
	if len(files) != 1 {
		t.Fatalf("%d document files, want 1", len(files))
	}
	if err := os.WriteFile(files[0], []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = open(t, chromem.Options{Path: dir})
	defer s.Close()
	model{"a": {"newer", "2"}}.check(t, s, "after reopening")
}

// A log cut anywhere (a crash can leave its last record torn) replays to
// exactly the writes whose records are whole: every write that returned
// is there, none is there in part.
func TestLogReplayAfterTruncation(t *testing.T) {
	dir := t.TempDir()
	s := open(t, chromem.Options{Path: dir})
	var states []model
	var ends []int64
	m := model{}
	logPath := func(d string) string {
		logs, _ := filepath.Glob(filepath.Join(d, "rag", "wal-*.log"))
		if len(logs) != 1 {
			t.Fatalf("%d logs in %s, want 1", len(logs), d)
		}
		return logs[0]
	}
	writeMany(t, s, m, 30, func() {
		fi, err := os.Stat(logPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		c := model{}
		for k, v := range m {
			c[k] = v
		}
		states = append(states, c)
		ends = append(ends, fi.Size())
	})
	s.Close()
	full, err := os.ReadFile(logPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "rag", "store.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Every record boundary and the bytes beside it, and random cuts.
	rng := rand.New(rand.NewPCG(uint64(len(full)), 9))
	var cuts []int
	for _, e := range ends {
		cuts = append(cuts, int(e)-1, int(e), int(e)+1)
	}
	for range 200 {
		cuts = append(cuts, int(ends[0])+rng.IntN(len(full)-int(ends[0])+1))
	}
	for _, n := range cuts {
		n = min(n, len(full))
		d := t.TempDir()
		if err := os.MkdirAll(filepath.Join(d, "rag", "docs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "rag", "store.json"), meta, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "rag", filepath.Base(logPath(dir))), full[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		k := -1
		for k+1 < len(ends) && ends[k+1] <= int64(n) {
			k++
		}
		want := model{}
		if k >= 0 {
			want = states[k]
		}
		r := open(t, chromem.Options{Path: d})
		want.check(t, r, fmt.Sprintf("log cut to %d bytes", n))
		r.Close()
	}
}
