package lexical

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A Store's files: a snapshot at Path and logs at Path.log.<generation>.
//
//	snapshot: "RAGLEX4\n", then generation (uvarint: the first log that
//	          follows it), analyzer name, term count and terms (the term
//	          IDs of the packed terms), document count, entry count and
//	          postings count, documents (see codec.go, with packed terms;
//	          entries are numbered in this order), then per term its
//	          postings: a count, then (entry number minus the previous
//	          one, tf) uvarint pairs, entry numbers ascending; then the
//	          offset of the postings (uint64 LE), the CRC-32C of all
//	          before them and the CRC-32C of all after that (uint32 LE
//	          each). Postings are there twice, by entry and by term, so
//	          that loading them is a sequential read, not a scatter; and
//	          the postings are last, with their offset at the end, so that
//	          a reopen reads and checks the two parts at once: what
//	          precedes them is kept in memory as one string, the store's
//	          IDs, texts and terms substrings of it, and the postings are
//	          decoded, while the documents are, into arrays of the size
//	          the counts give. Version 3 ("RAGLEX3\n") had neither the
//	          counts nor the offset, and one checksum; it is still read.
//	log:      "RAGLEXL\n", generation (uint64 LE), analyzer name, CRC-32C
//	          of the header; then records: payload length (uint32 LE),
//	          CRC-32C of the payload, payload: an item count, then per
//	          item 'u', a document (without packed terms) and per chunk
//	          its analysed terms (count, then term string and tf each,
//	          terms in order), or 'd' and a document ID. Replay does
//	          not analyse texts again: the analyzer is the slow part.
//
// A Store opens by reading the snapshot, then replaying the logs of its
// generation and later ones in order. A snapshot is written under a new
// generation: the log is rotated first, the snapshot holds everything
// written before the rotation, and the older logs are removed once it is
// renamed into place, so a crash at any point leaves files that add up
// to every write that returned.
const (
	snapMagic = "RAGLEX4\n"
	logMagic  = "RAGLEXL\n"

	// A snapshot is written when the logs exceed this fraction of the
	// snapshot's size (and minLog): replaying a log is slower than
	// reading a snapshot, so logs must stay small beside it.
	logFraction = 8
)

// minLog is the log size below which no snapshot is written; a variable
// so that tests can make background snapshots happen.
var minLog int64 = 4 << 20

// files is a Store's persistence. Fields are guarded by the Store's wmu
// unless marked.
type files struct {
	path    string
	name    string   // analyzer name
	gen     uint64   // generation of the log being written
	log     *os.File // nil until the first write of this generation
	logSize int64    // bytes in the logs not yet folded into a snapshot
	broken  error    // an append that could not be undone: writes fail
	oldSnap bool     // the snapshot is of an older format: rewrite it in the background
	closed  bool

	snapMu sync.Mutex // one snapshot at a time: a later one must not be overwritten by an earlier

	mu       sync.Mutex // guards the fields below
	snapSize int64
	running  bool  // a background snapshot is being written
	lastErr  error // of the last background snapshot
	wg       sync.WaitGroup
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func (f *files) logPath(gen uint64) string { return f.path + ".log." + strconv.FormatUint(gen, 10) }

// open reads the files at path into s.
func (s *Store) open(path string) error {
	f := &files{path: path, name: s.ix.name, gen: 1}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	fh, err := os.Open(path)
	var fi os.FileInfo
	if err == nil {
		fi, err = fh.Stat()
		defer fh.Close()
	}
	var magic [len(snapMagic)]byte
	if err == nil && fi.Size() >= int64(len(magic)) {
		_, err = fh.ReadAt(magic[:], 0)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		// A snapshot from the start: the path names a file as soon as
		// the Store exists, and the logs have their generation's.
		s.disk = f
		if err := f.writeSnapshot(s.capture()); err != nil {
			return fmt.Errorf("lexical: %s: %w", path, err)
		}
	case err != nil:
		return fmt.Errorf("lexical: %w", err)
	case string(magic[:]) == snapMagic:
		gen, err := s.readSnapshot(fh, fi.Size())
		if err != nil {
			return fmt.Errorf("lexical: %s: %w", path, err)
		}
		f.gen, f.snapSize = gen, fi.Size()
	default: // older formats, read whole
		data := make([]byte, fi.Size())
		if _, err := io.ReadFull(fh, data); err != nil {
			return fmt.Errorf("lexical: %w", err)
		}
		if err := s.readOld(f, data); err != nil {
			return fmt.Errorf("lexical: %s: %w", path, err)
		}
	}

	// Logs of this generation and later, in order; older ones were folded
	// into the snapshot, and temporary files are left by a crash.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("lexical: %w", err)
	}
	var gens []uint64
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "."+base+".tmp-") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		g, err := strconv.ParseUint(strings.TrimPrefix(name, base+".log."), 10, 64)
		if !strings.HasPrefix(name, base+".log.") || err != nil {
			continue
		}
		if g < f.gen {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		gens = append(gens, g)
	}
	slices.Sort(gens)
	s.ix.holdPostings() // no search runs before NewStore returns
	for i, g := range gens {
		valid, err := s.replay(f, g)
		if err != nil {
			return err
		}
		if i < len(gens)-1 {
			continue
		}
		// Append to the last log, cut after its last whole record.
		if valid == 0 {
			os.Remove(f.logPath(g))
			break
		}
		lf, err := os.OpenFile(f.logPath(g), os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			err = lf.Truncate(valid)
		}
		if err != nil {
			return fmt.Errorf("lexical: %w", err)
		}
		f.log, f.gen = lf, g
	}
	s.ix.flushPending()
	s.disk = f
	s.wmu.Lock()
	f.maybeSnapshot(s)
	s.wmu.Unlock()
	return nil
}

// maybeSnapshot starts a background snapshot when the logs have grown
// past their share. Caller holds wmu.
func (f *files) maybeSnapshot(s *Store) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running || f.closed || f.logSize < max(minLog, f.snapSize/logFraction) && !f.oldSnap {
		return
	}
	f.running = true
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		err := f.snapshot(s)
		f.mu.Lock()
		f.running, f.lastErr = false, err
		f.mu.Unlock()
	}()
}

// Compact writes a snapshot of the Store now and removes the logs it
// folds in. It is what the Store does in the background when its logs
// grow; a Store without a Path has nothing to do.
func (s *Store) Compact() error {
	if s.disk == nil {
		return nil
	}
	return s.disk.snapshot(s)
}

// snapshot rotates the log and writes a snapshot of everything before the
// rotation, then removes the logs it holds.
func (f *files) snapshot(s *Store) error {
	f.snapMu.Lock()
	defer f.snapMu.Unlock()
	s.wmu.Lock()
	if f.closed {
		s.wmu.Unlock()
		return ErrClosed
	}
	c := s.capture()
	f.oldSnap = false
	old := f.log
	f.gen++
	c.gen = f.gen
	f.log, f.logSize = nil, 0 // the next write creates the new log
	s.wmu.Unlock()
	if old != nil {
		old.Close()
	}
	return f.writeSnapshot(c)
}

// close stops snapshots, waits for a running one and closes the log.
func (f *files) close(s *Store) error {
	s.wmu.Lock()
	f.mu.Lock()
	already := f.closed
	f.closed = true
	f.mu.Unlock()
	s.wmu.Unlock()
	if already {
		return nil
	}
	f.wg.Wait()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err error
	if f.log != nil {
		err = f.log.Close()
		f.log = nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastErr != nil && !errors.Is(f.lastErr, ErrClosed) {
		return f.lastErr
	}
	return err
}
