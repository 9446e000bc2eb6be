package flat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/internal/wal"
)

// The write log. A persistent store appends every Upsert and Delete, as
// one record, to the log file beside its snapshot (Options.Path + ".log",
// in the format of package store/internal/wal) and fsyncs it before the
// call returns; writers waiting at the same moment share one fsync. New
// replays the log over the snapshot; a torn or damaged last record (a
// write that never returned) is dropped whole. When the log outgrows the
// snapshot (and at least compactMinBytes), a background goroutine folds it
// into a new snapshot and removes it; Checkpoint and Close do the same.
//
// The log's header names the snapshot it applies to, by the snapshot's
// size and trailing checksum. A crash after a new snapshot is renamed into
// place but before the log is removed leaves a log naming the old
// snapshot: New sees the mismatch and discards the log, whose every
// record the new snapshot already holds.
//
// A record is:
//
//	document count (uvarint), then per document: ID, hash (strings),
//	record count (uvarint; 0 deletes the document), and, when there are
//	records, the dimension (uvarint) and each record as in a snapshot
//	(ID, chunk, start, end, text, title, source, tags, metadata, vector)

const logHeaderMagic = "flatlog1"

// compactMinBytes is the least log size worth folding into the snapshot;
// below it the log just grows. Tests lower it.
var compactMinBytes int64 = 256 << 20

// Test seams: testSyncLog, when set, replaces the log's fsync (tests count
// fsyncs); testAfterAppend is called by a write that has appended its
// record and is about to wait for the fsync.
var (
	testSyncLog     func(*os.File) error
	testAfterAppend func()
)

// snapshotID identifies a snapshot file by its size and trailing checksum;
// the zero value means no snapshot.
type snapshotID struct {
	size int64
	crc  uint32
}

func (id snapshotID) logHeader() []byte {
	b := append([]byte(nil), logHeaderMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(id.size))
	return binary.LittleEndian.AppendUint32(b, id.crc)
}

func (s *Store) logPath() string { return s.opts.Path + ".log" }

func (s *Store) logOptions() wal.Options { return wal.Options{Sync: testSyncLog} }

// removeTemps removes the temporary files of snapshot and log writes that
// a crash interrupted (atomicfile names them ".<base>.tmp-*").
func removeTemps(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("flat: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "."+base+".tmp-") || strings.HasPrefix(n, "."+base+".log.tmp-") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("flat: removing an unfinished write: %w", err)
			}
		}
	}
	return nil
}

// openLog replays the log, if there is one for the loaded snapshot, and
// keeps it open for appending. Called by New before the store is shared.
func (s *Store) openLog() error {
	path := s.logPath()
	h, err := wal.Header(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // created by the first write
	case err != nil:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case !bytes.Equal(h, s.snap.logHeader()):
		// Folded into the snapshot before a crash stopped its removal.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("flat: %w", err)
		}
		return nil
	}
	l, err := wal.Open(path, s.logOptions(), s.replay)
	if err != nil {
		if errors.Is(err, wal.ErrCorrupt) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return fmt.Errorf("flat: replaying %s: %w", path, err)
	}
	s.log = l
	return nil
}

// replay applies one log record.
func (s *Store) replay(rec []byte) error {
	docs, err := decodeLogRecord(rec)
	if err != nil {
		return err
	}
	preps, dim, err := s.prepareBatch(docs)
	if err != nil {
		return fmt.Errorf("%w: log record: %w", ErrCorrupt, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkDimLocked(dim); err != nil {
		return err
	}
	s.applyLocked(preps, dim)
	return nil
}

// encodeLogRecord returns the log record of a batch of prepared documents
// of dimension dim.
func encodeLogRecord(preps []prepared, dim int) ([]byte, error) {
	// Sized once; no checksum of its own (the log checksums each record).
	size := binary.MaxVarintLen64
	for i := range preps {
		p := &preps[i]
		size += 3*binary.MaxVarintLen64 + len(p.id) + len(p.hash)
		for j := range p.recs {
			r := &p.recs[j]
			size += 8*binary.MaxVarintLen64 + len(r.ID) + len(r.Text) + len(r.Title) + len(r.Source) + 16*len(r.Metadata) + 4*dim
		}
	}
	var buf bytes.Buffer
	buf.Grow(size)
	e := &enc{w: bufio.NewWriter(&buf)}
	e.uvarint(uint64(len(preps)))
	for i := range preps {
		p := &preps[i]
		e.str(p.id)
		e.str(p.hash)
		e.uvarint(uint64(len(p.recs)))
		if len(p.recs) == 0 {
			continue
		}
		e.uvarint(uint64(dim))
		for j := range p.recs {
			e.record(&p.recs[j], p.src[j])
		}
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return buf.Bytes(), e.err
}

func decodeLogRecord(rec []byte) ([]store.StoredDocument, error) {
	d := &dec{r: bufio.NewReader(bytes.NewReader(rec)), crc: crc32.New(castagnoli)}
	n := d.Count()
	var docs []store.StoredDocument
	for range n {
		doc := store.StoredDocument{ID: d.str(), Hash: d.str()}
		nrec := d.Count()
		if nrec > 0 {
			dim := d.Count()
			if d.err == nil && (dim == 0 || dim > 1<<20) {
				return nil, fmt.Errorf("%w: log record: dimension %d", ErrCorrupt, dim)
			}
			doc.Records = make([]store.Record, nrec)
			for j := range doc.Records {
				v := make([]float32, dim)
				doc.Records[j] = d.record(doc.ID, v)
				doc.Records[j].Vector = v
				if d.err != nil {
					break
				}
			}
		}
		if d.err != nil {
			return nil, fmt.Errorf("log record: %w", d.err)
		}
		docs = append(docs, doc)
	}
	if d.err != nil {
		return nil, fmt.Errorf("log record: %w", d.err)
	}
	return docs, nil
}

// appendLocked appends a record to the log, creating the log if needed,
// and starts a background compaction when the log has grown enough. It
// returns the log and the position to sync to. The caller holds s.mu
// exclusively.
func (s *Store) appendLocked(rec []byte) (*wal.Log, int64, error) {
	if s.log == nil {
		l, err := wal.Create(s.logPath(), s.snap.logHeader(), s.logOptions())
		if err != nil {
			return nil, 0, fmt.Errorf("flat: %w", err)
		}
		s.log = l
	}
	l := s.log
	pos, err := l.Append(rec)
	if err != nil {
		return nil, 0, fmt.Errorf("flat: %w", err)
	}
	if pos > max(compactMinBytes, s.snap.size) && s.compacting.CompareAndSwap(false, true) {
		s.bg.Go(s.compact)
	}
	return l, pos, nil
}

// compact folds the log into the snapshot, in the background. Writers
// wait while it writes; searches do not.
func (s *Store) compact() {
	defer s.compacting.Store(false)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	// A failure leaves the log as it is: every write in it stays durable,
	// and the next write past the threshold tries again.
	_ = s.foldLocked()
}

// foldLocked writes the snapshot if the store changed since the last one,
// then retires and removes the log: its records are in the snapshot. The
// caller holds s.mu (shared or exclusive).
func (s *Store) foldLocked() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.dirty.Load() {
		id, err := s.writeFileLocked(s.opts.Path)
		if err != nil {
			return err
		}
		s.snap = id
	}
	if s.log == nil {
		return nil
	}
	// Crash from here on: the log names the old snapshot and is discarded.
	if err := s.log.Retire(); err != nil {
		return fmt.Errorf("flat: closing the log: %w", err)
	}
	s.log = nil
	if err := os.Remove(s.logPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("flat: %w", err)
	}
	return nil
}
