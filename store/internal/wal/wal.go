// Package wal is the append-only log that makes the writes of a persistent
// store durable: each write is one record, appended and fsynced before the
// write returns, and writers that wait at the same time share one fsync
// (group commit).
//
// A log file is the magic "RAGWAL01" followed by records, each
//
//	payload length (u32) | CRC-32C of the payload (u32) | payload
//
// little endian. The first record is the log's header, opaque to this
// package (a store names there what the log applies to). Create writes a
// log holding only its header atomically (temporary file, fsync, rename,
// directory fsync), so a log on disk always has a whole header. A crash
// can leave the last record torn; Open stops at the first record that is
// short or fails its checksum, and cuts the file there, so a record is
// replayed whole or not at all.
package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/ragkit-go/rag/internal/atomicfile"
)

const (
	magic     = "RAGWAL01"
	frameLen  = 8       // length and checksum before each payload
	maxRecord = 1 << 31 // larger payloads are refused (and taken for garbage when read)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt: the file is not a log, or its header record is damaged.
var ErrCorrupt = errors.New("wal: corrupt log")

// Options configures a Log. The zero value fsyncs with (*os.File).Sync.
type Options struct {
	// Sync makes the file's appended bytes durable; nil means f.Sync().
	// Tests count fsyncs through it.
	Sync func(f *os.File) error
	// NoSync skips every fsync: records survive a crash of the process,
	// not necessarily of the machine.
	NoSync bool
}

// Log is an open log file, appended to by one writer at a time and
// synced by any number of waiters.
//
// Concurrency: Append calls must not overlap (the caller orders them, as
// it orders the writes they record); Sync, Size and Retire may be called
// concurrently with everything.
type Log struct {
	opts Options

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	size    int64 // bytes in the file
	synced  int64 // bytes known durable
	syncing bool  // an fsync is running, without mu held
	retired bool
	err     error // a failed write or fsync: the log accepts nothing more
}

// Create writes a new log at path holding only header, atomically, and
// opens it for appending. An existing file at path is replaced.
func Create(path string, header []byte, opts Options) (*Log, error) {
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(frame([]byte(magic), header))
		return err
	}); err != nil {
		return nil, fmt.Errorf("wal: creating %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: %w", err)
	}
	return newLog(f, size, opts), nil
}

func newLog(f *os.File, size int64, opts Options) *Log {
	l := &Log{opts: opts, f: f, size: size, synced: size}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// frame appends the framed payload to b.
func frame(b, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// Header returns the header record of the log at path. A missing file is
// an error matching fs.ErrNotExist.
func Header(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &reader{r: f}
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(f, m); err != nil || string(m) != magic {
		return nil, fmt.Errorf("%w: %s is not a log", ErrCorrupt, path)
	}
	h, ok := r.next()
	if !ok {
		return nil, fmt.Errorf("%w: %s: damaged header", ErrCorrupt, path)
	}
	return h, nil
}

// reader reads framed records; off counts the bytes of the records read.
type reader struct {
	r   io.Reader
	off int64
	buf []byte
}

// next returns the next whole record (valid until the next call), or
// false at the end of the file or at a torn or damaged record.
func (r *reader) next() ([]byte, bool) {
	var fr [frameLen]byte
	if _, err := io.ReadFull(r.r, fr[:]); err != nil {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(fr[:])
	if n >= maxRecord {
		return nil, false
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, false
	}
	if crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(fr[4:]) {
		return nil, false
	}
	r.off += frameLen + int64(n)
	return b, true
}

// Open opens the log at path for appending, after calling replay with
// each record after the header, in order (the slice is valid only during
// the call). It stops at the first torn or damaged record and truncates
// the file there. An error from replay is returned as it is.
func Open(path string, opts Options, replay func(rec []byte) error) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	l, err := open(f, path, opts, replay)
	if err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func open(f *os.File, path string, opts Options, replay func(rec []byte) error) (*Log, error) {
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(f, m); err != nil || string(m) != magic {
		return nil, fmt.Errorf("%w: %s is not a log", ErrCorrupt, path)
	}
	r := &reader{r: bufio.NewReaderSize(f, 1<<20)}
	if _, ok := r.next(); !ok {
		return nil, fmt.Errorf("%w: %s: damaged header", ErrCorrupt, path)
	}
	for {
		rec, ok := r.next()
		if !ok {
			break
		}
		if err := replay(rec); err != nil {
			return nil, err
		}
	}
	end := int64(len(magic)) + r.off
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	l := newLog(f, end, opts)
	if st.Size() != end {
		// A torn tail: cut it, durably, so that appends follow whole records.
		if err := f.Truncate(end); err != nil {
			return nil, fmt.Errorf("wal: cutting the torn tail of %s: %w", path, err)
		}
		if err := l.fsync(); err != nil {
			return nil, fmt.Errorf("wal: %w", err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	return l, nil
}

// Append writes rec as the next record, not yet synced, and returns the
// log position just past it, for Sync. After a failed write the log is
// broken: it refuses every later Append and Sync with the same error.
func (l *Log) Append(rec []byte) (int64, error) {
	if len(rec) >= maxRecord {
		return 0, fmt.Errorf("wal: record of %d bytes is too large", len(rec))
	}
	// The frame and the payload are written apart, so a large record is
	// not copied; a crash between the two leaves a torn record, which Open
	// cuts off.
	var fr [frameLen]byte
	binary.LittleEndian.PutUint32(fr[:], uint32(len(rec)))
	binary.LittleEndian.PutUint32(fr[4:], crc32.Checksum(rec, castagnoli))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if l.retired {
		return 0, errors.New("wal: append to a retired log")
	}
	for _, b := range [][]byte{fr[:], rec} {
		if _, err := l.f.Write(b); err != nil {
			l.err = fmt.Errorf("wal: append: %w", err)
			return 0, l.err
		}
	}
	l.size += frameLen + int64(len(rec))
	return l.size, nil
}

// Sync returns once the log is durable up to pos (a value Append
// returned). Callers that wait together share fsyncs: one fsync covers
// every record appended before it started.
func (l *Log) Sync(pos int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.synced < pos && l.err == nil {
		if l.syncing {
			l.cond.Wait()
			continue
		}
		l.syncing = true
		target := l.size
		l.mu.Unlock()
		err := l.fsync()
		l.mu.Lock()
		l.syncing = false
		if err != nil {
			l.err = fmt.Errorf("wal: fsync: %w", err)
		} else {
			l.synced = max(l.synced, target)
		}
		l.cond.Broadcast()
	}
	if l.synced >= pos {
		return nil
	}
	return l.err
}

func (l *Log) fsync() error {
	switch {
	case l.opts.NoSync:
		return nil
	case l.opts.Sync != nil:
		return l.opts.Sync(l.f)
	}
	return l.f.Sync()
}

// Size returns the length of the log file in bytes.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// Retire closes the log once its contents are durable elsewhere (the
// caller vouches for that, say after writing a snapshot that holds them):
// it waits for a running fsync, releases every waiter as if synced, and
// closes the file. Later Appends fail. The file itself is left for the
// caller to replace or remove.
func (l *Log) Retire() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.syncing {
		l.cond.Wait()
	}
	if l.retired {
		return nil
	}
	l.retired = true
	l.synced = max(l.synced, l.size)
	l.cond.Broadcast()
	return l.f.Close()
}

// Close syncs what was appended and closes the file.
func (l *Log) Close() error {
	err := l.Sync(l.Size())
	if cerr := l.Retire(); err == nil {
		err = cerr
	}
	return err
}
