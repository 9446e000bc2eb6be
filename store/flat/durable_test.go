package flat_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/flat"
)

const durableDim = 4

// durableOps runs a fixed sequence of writes (single and multi-document
// upserts, replacements, shrinking documents, deletes) on every store
// given, in step, calling after() once each write has returned on all.
func durableOps(t *testing.T, after func(), stores ...*flat.Store) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	docs := sampleDocs(rng, durableDim, 12)
	more := sampleDocs(rng, durableDim, 12) // second versions, other vectors
	ops := []func(s *flat.Store) error{
		func(s *flat.Store) error { return s.Upsert(ctx, docs[:1]) },
		func(s *flat.Store) error { return s.Upsert(ctx, docs[1:5]) },
		func(s *flat.Store) error { return s.Upsert(ctx, more[2:3]) },
		func(s *flat.Store) error { return s.Delete(ctx, "doc-1", "absent") },
		func(s *flat.Store) error { return s.Upsert(ctx, docs[5:9]) },
		func(s *flat.Store) error { return s.Upsert(ctx, []store.StoredDocument{{ID: "doc-6"}, more[7]}) },
		func(s *flat.Store) error { return s.Delete(ctx, "doc-0", "doc-3") },
		func(s *flat.Store) error { return s.Upsert(ctx, docs[9:]) },
		func(s *flat.Store) error { return s.Upsert(ctx, more[:2]) },
	}
	for i, op := range ops {
		for _, s := range stores {
			if err := op(s); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		after()
	}
}

var durableIDs = func() []string {
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc-%d", i)
	}
	return ids
}()

type snapshotOf struct {
	rs []store.Result
	h  map[string]string
}

func takeSnapshot(t *testing.T, s *flat.Store) snapshotOf {
	rs, h := dump(t, s, durableDim, durableIDs)
	return snapshotOf{rs, h}
}

// Every prefix of the log (a cut at any byte), as a crash can leave it,
// replays to exactly the writes that were whole in it: the state after the
// last write whose record the prefix holds entirely, never part of a
// write. So every write that returned before the crash (its record is
// whole) is there.
func TestLogReplayEveryPrefix(t *testing.T) {
	for _, withSnapshot := range []bool{false, true} {
		t.Run(fmt.Sprintf("snapshot=%v", withSnapshot), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "s.flat")
			s := mustNew(t, flat.Options{Path: path})
			model := mustNew(t, flat.Options{})
			ctx := context.Background()
			if withSnapshot {
				base := sampleDocs(rand.New(rand.NewPCG(1, 2)), durableDim, 3)
				for _, st := range []*flat.Store{s, model} {
					if err := st.Upsert(ctx, base); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Checkpoint(); err != nil {
					t.Fatal(err)
				}
			}
			logPath := path + ".log"
			// states[k] is the state after k writes, ends[k] the log size
			// then (0 before the log exists).
			states := []snapshotOf{takeSnapshot(t, model)}
			ends := []int64{logHeaderLen}
			durableOps(t, func() {
				fi, err := os.Stat(logPath)
				if err != nil {
					t.Fatal(err)
				}
				states = append(states, takeSnapshot(t, model))
				ends = append(ends, fi.Size())
			}, s, model)
			flat.Abandon(s)
			full, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			snap, _ := os.ReadFile(path) // absent without a snapshot
			if int64(len(full)) != ends[len(ends)-1] {
				t.Fatalf("log is %d bytes, the last write ended at %d", len(full), ends[len(ends)-1])
			}
			// Replays fsync the cut they make; that costs time, not truth.
			defer flat.SetLogHooks(func(*os.File) error { return nil }, nil)()
			p := filepath.Join(t.TempDir(), "s.flat")
			// Every prefix without a snapshot; with one, every record
			// boundary and the bytes beside it, and 300 random cuts.
			cuts := make([]int, 0, len(full)+1)
			if !withSnapshot {
				for n := 0; n <= len(full); n++ {
					cuts = append(cuts, n)
				}
			} else {
				for _, e := range ends {
					cuts = append(cuts, int(e)-1, int(e), int(e)+1)
				}
				rng := rand.New(rand.NewPCG(uint64(len(full)), 7))
				for range 300 {
					cuts = append(cuts, rng.IntN(len(full)+1))
				}
			}
			for _, n := range cuts {
				n = min(n, len(full))
				if snap != nil {
					if err := os.WriteFile(p, snap, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(p+".log", full[:n], 0o644); err != nil {
					t.Fatal(err)
				}
				k := 0
				for k+1 < len(ends) && ends[k+1] <= int64(n) {
					k++
				}
				r, err := flat.New(flat.Options{Path: p})
				if n < logHeaderLen {
					// A log without its whole header cannot come from a
					// crash (it is created atomically): refused.
					if !errors.Is(err, flat.ErrCorrupt) {
						t.Fatalf("log cut to %d bytes, inside its header: New = %v, want ErrCorrupt", n, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("log cut to %d bytes: %v", n, err)
				}
				got := takeSnapshot(t, r)
				sameDump(t, got.rs, states[k].rs, got.h, states[k].h)
				if k > 0 {
					// The torn tail was cut: a new write follows whole records.
					if fi, err := os.Stat(p + ".log"); err != nil || fi.Size() != ends[k] {
						t.Fatalf("log cut to %d bytes: after New it is %v bytes (%v), want %d", n, fi.Size(), err, ends[k])
					}
				}
				flat.Abandon(r)
			}
		})
	}
}

// logHeaderLen is the size of the magic and header record of a flat log:
// 8 bytes of magic, 8 of framing, 20 of header ("flatlog1", size, crc).
const logHeaderLen = 8 + 8 + 20

// A record whose checksum fails (a torn write that happens to be long
// enough) is dropped with everything after it, not applied.
func TestLogDamagedTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.flat")
	s := mustNew(t, flat.Options{Path: path})
	model := mustNew(t, flat.Options{})
	var states []snapshotOf
	durableOps(t, func() { states = append(states, takeSnapshot(t, model)) }, s, model)
	flat.Abandon(s)
	b, err := os.ReadFile(path + ".log")
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0x40 // inside the last write's record
	if err := os.WriteFile(path+".log", b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustNew(t, flat.Options{Path: path})
	got, want := takeSnapshot(t, r), states[len(states)-2]
	sameDump(t, got.rs, want.rs, got.h, want.h)
}

// New removes the temporary files of snapshot and log writes that a crash
// interrupted, and nothing else.
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.flat")
	s := mustNew(t, flat.Options{Path: path})
	if err := s.Upsert(context.Background(), sampleDocs(rand.New(rand.NewPCG(3, 4)), durableDim, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stale := []string{".s.flat.tmp-123", ".s.flat.log.tmp-456"}
	kept := []string{".other.flat.tmp-1", "s.flat.tmp-2", "notes.txt"}
	for _, n := range append(stale, kept...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("half a snap"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := mustNew(t, flat.Options{Path: path})
	if r.Len() != 3 {
		t.Errorf("store holds %d records, want 3", r.Len())
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", n, err)
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s, not ours, was removed: %v", n, err)
		}
	}
}

// With a low threshold, the log is folded into the snapshot in the
// background; the store after a crash (no Close) holds what it held.
func TestCompactionPreservesContents(t *testing.T) {
	defer flat.SetCompactMinBytes(1)()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.flat")
	s := mustNew(t, flat.Options{Path: path})
	model := mustNew(t, flat.Options{})
	compacted := 0
	durableOps(t, func() {
		flat.WaitCompaction(s)
		// A compaction folded the log: the snapshot holds everything.
		if _, err := os.Stat(path + ".log"); errors.Is(err, os.ErrNotExist) {
			compacted++
		}
	}, s, model)
	if compacted == 0 {
		t.Fatal("no write was followed by a compaction")
	}
	if err := s.Upsert(context.Background(), []store.StoredDocument{{ID: "doc-4"}}); err != nil {
		t.Fatal(err)
	}
	if err := model.Delete(context.Background(), "doc-4"); err != nil {
		t.Fatal(err)
	}
	flat.WaitCompaction(s)
	flat.Abandon(s)
	r := mustNew(t, flat.Options{Path: path})
	got, want := takeSnapshot(t, r), takeSnapshot(t, model)
	sameDump(t, got.rs, want.rs, got.h, want.h)
	t.Logf("%d of 9 writes were folded into the snapshot", compacted)
}

// Upserts that wait for the log at the same moment share one fsync: while
// the first write's fsync is held, n more writes append; releasing it, one
// more fsync makes all n durable.
func TestGroupCommitSharesFsyncs(t *testing.T) {
	const n = 8
	var syncs atomic.Int32
	blocked, release := make(chan struct{}), make(chan struct{})
	appended := make(chan struct{}, n+1)
	defer flat.SetLogHooks(func(f *os.File) error {
		if syncs.Add(1) == 1 {
			close(blocked)
			<-release
		}
		return f.Sync()
	}, func() { appended <- struct{}{} })()

	path := filepath.Join(t.TempDir(), "s.flat")
	s := mustNew(t, flat.Options{Path: path})
	docs := sampleDocs(rand.New(rand.NewPCG(5, 6)), durableDim, n+1)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	wg.Go(func() { errs <- s.Upsert(ctx, docs[:1]) })
	<-blocked
	<-appended
	for i := 1; i <= n; i++ {
		wg.Go(func() { errs <- s.Upsert(ctx, docs[i:i+1]) })
	}
	for range n {
		<-appended
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := syncs.Load(); got != 2 {
		t.Errorf("%d Upserts made %d fsyncs, want 2 (the held one, then one for the %d that waited)", n+1, got, n)
	}
	flat.Abandon(s)
	r := mustNew(t, flat.Options{Path: path})
	if h, _ := r.Hashes(ctx, docIDs(docs)...); len(h) != n+1 {
		t.Errorf("after a crash, %d of %d documents are there", len(h), n+1)
	}
}
