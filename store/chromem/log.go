package chromem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/store/internal/wal"
)

// Group commit. Without NoSync, a write does not write a file for each
// document:
//
//  1. it appends one record holding the file of every document it writes
//     (and the IDs it deletes) to the collection's log, <dir>/wal-<seq>.log
//     in the format of package store/internal/wal, and fsyncs the log once;
//  2. only then do the documents become visible, and the call returns.
//
// The log is the documents' durable form until it outgrows logRotateBytes.
// Then the next write starts a new log, and a background writer reads the
// old one back and writes the last version it holds of each document to
// the document's file (through a synced temporary file and a rename, many
// at once, which the file system commits together; a deleted document's
// file is removed), syncs the directory and removes the old log. Close
// leaves the log as it is. New reads the document files but those the logs
// name, whose versions in the logs win (the files may be torn or stale
// after a crash of the machine), and goes on appending to a single log
// under the limit; several logs (a crash during a background write), or
// one past the limit, it writes to the files first, the same way.
//
// A log record is: entry count (uvarint), then per entry a kind byte,
// logPut followed by the length (uvarint) and bytes of a document file,
// or logDelete followed by a document ID (uvarint length and bytes).
const (
	logPrefix = "wal-"
	logSuffix = ".log"
	logHeader = "chromemlog1"
	logPut    = 1
	logDelete = 2
	// writeWorkers is how many document files the background writer has
	// in flight: concurrent fsyncs share the file system's journal commits.
	writeWorkers = 16
)

// logRotateBytes is the log size past which the log is replaced and its
// documents are written to their files in the background. Tests lower it.
var logRotateBytes int64 = 256 << 20

// testSyncLog, when set, replaces the log's fsync (tests count fsyncs).
var testSyncLog func(*os.File) error

func logName(seq uint64) string { return fmt.Sprintf("%s%016x%s", logPrefix, seq, logSuffix) }

// groupLog is the log state of a persistent store with fsync on. Guarded
// by the store's writeMu, but for the background writer, which owns what
// it was handed.
type groupLog struct {
	disk    *disk
	log     *wal.Log       // nil until the first write after a rotation
	seq     uint64         // of log, or of the next log
	writing sync.WaitGroup // the background writer of a retired log's files
	busy    bool           // a background writer runs (under writeMu)
	done    chan error     // its outcome, read under writeMu
	err     error          // a failed log write or background write: every later write fails
}

// appendLogRecord appends to b the log record of ps, documents of
// dimension dim: the file of each document with records, the deletion of
// each one without. The record is sized once, and each file is encoded in
// place after the largest length prefix it may need, then moved down over
// the prefix's unused bytes.
func appendLogRecord(b []byte, ps []prepared, dim int, compress bool) ([]byte, error) {
	size := binary.MaxVarintLen64
	for i := range ps {
		size += 1 + binary.MaxVarintLen64 + len(ps[i].id)
		if len(ps[i].recs) > 0 {
			size += docSize(&ps[i], dim)
		}
	}
	b = slices.Grow(b, size)
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for i := range ps {
		p := &ps[i]
		if len(p.recs) == 0 {
			b = append(b, logDelete)
			b = appendString(b, p.id)
			continue
		}
		b = append(b, logPut)
		at := len(b)
		var err error
		b, err = encodeDoc(b[:at+binary.MaxVarintLen64], p, dim, compress)
		if err != nil {
			return nil, fmt.Errorf("chromem: write document %q: %w", p.id, err)
		}
		file := b[at+binary.MaxVarintLen64:]
		var prefix [binary.MaxVarintLen64]byte
		n := binary.PutUvarint(prefix[:], uint64(len(file)))
		copy(b[at:], prefix[:n])
		b = b[:at+n+copy(b[at+n:], file)]
	}
	return b, nil
}

// replayed is the last version the logs hold of one document: a decoded
// document and its file, or nil for a deletion.
type replayed struct {
	p    *prepared
	dim  int
	file []byte
}

func decodeLogRecord(rec []byte, into map[string]replayed) error {
	d := &decoder{b: rec}
	n := d.Count()
	for range n {
		switch kind := d.Next(1); {
		case d.err != nil:
		case kind[0] == logPut:
			b := d.Next(d.Count())
			if d.err != nil {
				break
			}
			p, dim, err := decodeDoc(b)
			if err != nil {
				return fmt.Errorf("%w: log record: %v", ErrCorrupt, err)
			}
			into[p.id] = replayed{&p, dim, slices.Clone(b)}
		case kind[0] == logDelete:
			into[d.Text()] = replayed{}
		default:
			return fmt.Errorf("%w: log record: entry kind %d", ErrCorrupt, kind[0])
		}
	}
	if d.err != nil {
		return fmt.Errorf("%w: log record: %v", ErrCorrupt, d.err)
	}
	return nil
}

// listLogs returns the sequence numbers of the logs in dir, in order, and
// removes the temporary files of log creations a crash interrupted.
func listLogs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("chromem: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "."+logPrefix) && strings.Contains(n, logSuffix+".tmp-") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("chromem: remove unfinished write: %w", err)
			}
			continue
		}
		if !strings.HasPrefix(n, logPrefix) || !strings.HasSuffix(n, logSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, logPrefix), logSuffix), 16, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// readLogs replays every log in dir, in order, into the last version of
// each document they name.
func readLogs(dir string, seqs []uint64) (map[string]replayed, error) {
	out := make(map[string]replayed)
	for _, seq := range seqs {
		path := filepath.Join(dir, logName(seq))
		l, err := wal.Open(path, wal.Options{NoSync: true}, func(rec []byte) error { return decodeLogRecord(rec, out) })
		if err != nil {
			if errors.Is(err, wal.ErrCorrupt) {
				err = fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			return nil, fmt.Errorf("chromem: replaying %s: %w", path, err)
		}
		l.Retire()
	}
	return out, nil
}

// writeFiles writes document files (a nil file removes it) in dir,
// several at a time, each through a synced temporary file and a rename,
// then syncs dir.
func (d *disk) writeFiles(dir string, files map[string][]byte) error {
	type file struct {
		name string
		data []byte
	}
	work := make(chan file)
	errs := make(chan error, writeWorkers)
	var wg sync.WaitGroup
	for range writeWorkers {
		wg.Go(func() {
			var first error
			for f := range work {
				if first != nil {
					continue
				}
				if f.data == nil {
					if err := os.Remove(filepath.Join(dir, f.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
						first = fmt.Errorf("chromem: %w", err)
					}
					continue
				}
				first = d.writeFile(dir, f.name, f.data, d.sync)
			}
			errs <- first
		})
	}
	for name, data := range files {
		work <- file{name, data}
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return d.syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("chromem: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("chromem: sync %s: %w", dir, err)
	}
	return nil
}

// logOptions are the options of a log that is appended to.
func logOptions() wal.Options { return wal.Options{Sync: testSyncLog} }

// files returns the document files of the logged versions (nil for a
// deletion), by file name.
func loggedFiles(logged map[string]replayed) map[string][]byte {
	files := make(map[string][]byte, len(logged))
	for id, r := range logged {
		files[docFileName(id)+docExt] = r.file
	}
	return files
}

// foldLogs writes the logged versions to the document files and removes
// the logs.
func (d *disk) foldLogs(seqs []uint64, logged map[string]replayed) error {
	if err := d.writeFiles(filepath.Join(d.dir, docsDir), loggedFiles(logged)); err != nil {
		return err
	}
	for _, seq := range seqs {
		if err := os.Remove(filepath.Join(d.dir, logName(seq))); err != nil {
			return fmt.Errorf("chromem: %w", err)
		}
	}
	return d.syncDir(d.dir)
}

// commit appends rec (see appendLogRecord) to the log and fsyncs it;
// then, if the log has grown past logRotateBytes, hands it to the
// background writer. The caller holds writeMu.
func (g *groupLog) commit(rec []byte) error {
	if err := g.collect(); err != nil {
		return err
	}
	if g.log == nil {
		l, err := wal.Create(filepath.Join(g.disk.dir, logName(g.seq)), []byte(logHeader), logOptions())
		if err != nil {
			return fmt.Errorf("chromem: %w", err)
		}
		g.log = l
	}
	pos, err := g.log.Append(rec)
	if err == nil {
		err = g.log.Sync(pos)
	}
	if err != nil {
		g.err = fmt.Errorf("chromem: %w", err)
		return g.err
	}
	if pos > logRotateBytes && !g.busy {
		g.rotate()
	}
	return nil
}

// rotate hands the current log to the background writer; the next write
// starts a new log. The caller holds writeMu.
func (g *groupLog) rotate() {
	old, oldSeq := g.log, g.seq
	g.log, g.seq = nil, g.seq+1
	g.busy = true
	g.done = make(chan error, 1)
	g.writing.Go(func() {
		old.Retire()
		logged, err := readLogs(g.disk.dir, []uint64{oldSeq})
		if err == nil {
			// Once the files are durable the log is not needed any more.
			// Its removal is made durable before a later log can be
			// removed, so a crash never leaves an older log without the
			// newer ones.
			err = g.disk.foldLogs([]uint64{oldSeq}, logged)
		}
		// On an error the old log stays on disk, and so the store refuses
		// every later write (collect): replaying it later over files
		// written after it is safe only while every later log is kept too.
		g.done <- err
	})
}

// collect takes the outcome of a finished background writer. The caller
// holds writeMu.
func (g *groupLog) collect() error {
	if g.err != nil {
		return g.err
	}
	if !g.busy {
		return nil
	}
	select {
	case err := <-g.done:
		g.busy = false
		if err != nil {
			g.err = fmt.Errorf("chromem: writing document files in the background: %w", err)
		}
	default:
	}
	return g.err
}

// close waits for the background writer and closes the log, which stays
// on disk: New replays it. The caller holds writeMu.
func (g *groupLog) close() error {
	g.writing.Wait()
	err := g.collect()
	if g.log != nil {
		g.log.Retire()
		g.log = nil
	}
	return err
}
