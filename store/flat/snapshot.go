package flat

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"slices"

	"github.com/ragkit-go/rag/internal/atomicfile"
	"github.com/ragkit-go/rag/internal/metacodec"
	"github.com/ragkit-go/rag/store"
)

// Snapshot format, version 1, all integers little-endian:
//
//	header   magic "RAGFLAT\x00", version u32, dim u32, docs u64, rows u64,
//	         CRC-32C of the preceding 32 bytes (u32)
//	docs     for each document, by ID: id, hash (strings), record count
//	         (uvarint), then each record: ID, chunk, start, end (varints),
//	         text, title, source, tags (count + strings), metadata (as
//	         package store/internal/metacodec encodes it, with the type
//	         bytes of metaTypes), vector (dim × f32)
//	trailer  CRC-32C of every byte before it (u32)
//
// Strings are a uvarint length and the bytes. Quantized codes are not
// stored; Load recomputes them, so a snapshot serves both kinds of store.
const (
	snapshotMagic   = "RAGFLAT\x00"
	snapshotVersion = 1
	headerLen       = 32
)

// metaTypes are the metadata type bytes of a snapshot.
var metaTypes = metacodec.Types{String: 1, Bool: 2, Float: 3, Time: 4, Strings: 5}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes a snapshot of the store to w. Searches may run while it
// writes; writes wait. Save does not close w.
func (s *Store) Save(w io.Writer) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	_, err := s.saveLocked(w)
	return err
}

// saveLocked writes the snapshot to w and returns its trailing checksum.
func (s *Store) saveLocked(w io.Writer) (uint32, error) {
	e := &enc{w: bufio.NewWriterSize(w, 1<<16), crc: crc32.New(castagnoli)}
	hdr := make([]byte, 0, headerLen+4)
	hdr = append(hdr, snapshotMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, snapshotVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(s.dim))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(s.docs)))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(s.recs)))
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	e.write(hdr)

	ids := make([]string, 0, len(s.docs))
	for id := range s.docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := s.docs[id]
		e.str(id)
		e.str(d.hash)
		e.uvarint(uint64(len(d.rows)))
		for _, row := range d.rows {
			e.record(&s.recs[row], s.row(int(row)))
		}
	}
	if e.err != nil {
		return 0, e.err
	}
	sum := e.crc.Sum32()
	e.write(binary.LittleEndian.AppendUint32(nil, sum))
	if e.err != nil {
		return 0, e.err
	}
	return sum, e.w.Flush()
}

// record writes one record of a document: its fields but the document ID,
// then its vector v.
func (e *enc) record(r *store.Record, v []float32) {
	e.str(r.ID)
	e.varint(int64(r.Chunk))
	e.varint(int64(r.Start))
	e.varint(int64(r.End))
	e.str(r.Text)
	e.str(r.Title)
	e.str(r.Source)
	e.strs(r.Tags)
	e.metadata(r.Metadata)
	e.vbuf = e.vbuf[:0]
	for _, x := range v {
		e.vbuf = binary.LittleEndian.AppendUint32(e.vbuf, math.Float32bits(x))
	}
	e.write(e.vbuf)
}

// writeFileLocked writes the snapshot to path atomically: to a temporary
// file in the same directory, synced, then renamed over path. The caller
// holds s.mu (read or write).
// The caller holds s.saveMu too. It returns the identity of the snapshot
// written.
func (s *Store) writeFileLocked(path string) (snapshotID, error) {
	var id snapshotID
	err := atomicfile.Write(path, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		crc, err := s.saveLocked(cw)
		id = snapshotID{size: cw.n, crc: crc}
		return err
	})
	if err != nil {
		return snapshotID{}, fmt.Errorf("flat: writing %s: %w", path, err)
	}
	s.dirty.Store(false)
	return id, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// Load replaces the contents of the store with the snapshot read from r.
// The snapshot is read and checked completely before anything changes: on
// any error (ErrCorrupt for a truncated or damaged snapshot, ErrVersion for
// an unknown version, a *store.DimensionError if Options.Dimension
// disagrees) the store is left as it was. A persistent store makes the
// loaded contents durable before Load returns, as its new snapshot.
func (s *Store) Load(r io.Reader) error {
	st, err := s.decode(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.install(st)
	s.dirty.Store(true)
	if s.opts.Path != "" {
		// Durable at once, as a write is: the log cannot hold a whole
		// store, the snapshot can.
		return s.foldLocked()
	}
	return nil
}

// state is the decoded content of a snapshot.
type state struct {
	dim    int
	vecs   []float32
	inv    []float32
	recs   []store.Record
	codes  []int8
	scales []float32
	docs   map[string]*docEntry
	crc    uint32 // the snapshot's trailing checksum
}

func (s *Store) install(st *state) {
	s.dim = st.dim
	if st.dim == 0 {
		s.dim = s.opts.Dimension
	}
	s.vecs, s.inv, s.recs, s.codes, s.scales, s.docs = st.vecs, st.inv, st.recs, st.codes, st.scales, st.docs
}

func (s *Store) decode(r io.Reader) (*state, error) {
	d := &dec{r: bufio.NewReaderSize(r, 1<<16), crc: crc32.New(castagnoli)}
	hdr := d.read(headerLen + 4)
	if d.err != nil {
		return nil, d.err
	}
	if string(hdr[:8]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a flat snapshot", ErrCorrupt)
	}
	if got, want := binary.LittleEndian.Uint32(hdr[headerLen:]), crc32.Checksum(hdr[:headerLen], castagnoli); got != want {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != snapshotVersion {
		return nil, fmt.Errorf("%w: version %d (this package reads %d)", ErrVersion, v, snapshotVersion)
	}
	dim := int(binary.LittleEndian.Uint32(hdr[12:]))
	ndocs := binary.LittleEndian.Uint64(hdr[16:])
	nrows := binary.LittleEndian.Uint64(hdr[24:])
	if dim > 1<<20 || nrows > 1<<31 || ndocs > nrows || (nrows > 0 && dim == 0) {
		return nil, fmt.Errorf("%w: implausible header (dim %d, %d documents, %d rows)", ErrCorrupt, dim, ndocs, nrows)
	}
	if s.opts.Dimension > 0 && nrows > 0 && dim != s.opts.Dimension {
		return nil, &store.DimensionError{Want: s.opts.Dimension, Got: dim}
	}
	n := int(nrows)
	st := &state{
		dim:  dim,
		vecs: make([]float32, n*dim),
		inv:  make([]float32, n),
		recs: make([]store.Record, n),
		docs: make(map[string]*docEntry, ndocs),
	}
	if s.opts.Quantize {
		st.codes = make([]int8, n*dim)
		st.scales = make([]float32, n)
	}
	row := 0
	for range ndocs {
		id := d.str()
		e := &docEntry{hash: d.str()}
		nrec := d.uvarint()
		if d.err != nil {
			return nil, d.err
		}
		if nrec == 0 || nrec > uint64(n-row) || st.docs[id] != nil {
			return nil, fmt.Errorf("%w: document %q: bad record count %d or duplicate", ErrCorrupt, id, nrec)
		}
		e.rows = make([]int32, nrec)
		for i := range e.rows {
			v := st.vecs[row*dim : (row+1)*dim]
			rec := d.record(id, v)
			if d.err != nil {
				return nil, d.err
			}
			if err := store.CheckVector(v, dim); err != nil {
				return nil, fmt.Errorf("%w: record %q: %v", ErrCorrupt, rec.ID, err)
			}
			st.inv[row] = invNorm(v)
			if st.codes != nil {
				st.scales[row] = quantize(st.codes[row*dim:(row+1)*dim], v, st.inv[row])
			}
			st.recs[row] = rec
			e.rows[i] = int32(row)
			row++
		}
		st.docs[id] = e
	}
	if row != n {
		return nil, fmt.Errorf("%w: header promises %d rows, found %d", ErrCorrupt, n, row)
	}
	want := d.crc.Sum32()
	tr := d.read(4)
	if d.err != nil {
		return nil, d.err
	}
	if binary.LittleEndian.Uint32(tr) != want {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	st.crc = want
	return st, nil
}

// record reads one record of document docID, as enc.record wrote it, its
// vector into v.
func (d *dec) record(docID string, v []float32) store.Record {
	rec := store.Record{DocID: docID}
	rec.ID = d.str()
	rec.Chunk = int(d.varint())
	rec.Start = int(d.varint())
	rec.End = int(d.varint())
	rec.Text = d.str()
	rec.Title = d.str()
	rec.Source = d.str()
	rec.Tags = d.strs()
	rec.Metadata = d.metadata()
	raw := d.read(4 * len(v))
	if d.err != nil {
		return rec
	}
	for j := range v {
		v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
	}
	return rec
}

// enc writes snapshot fields, hashing every byte; the first error sticks.
type enc struct {
	w       *bufio.Writer
	crc     hash.Hash32 // of every byte written; nil for none
	err     error
	buf     [binary.MaxVarintLen64]byte
	scratch []byte // one record's metadata
	vbuf    []byte // one record's vector
}

func (e *enc) write(b []byte) {
	if e.err != nil {
		return
	}
	if e.crc != nil {
		e.crc.Write(b)
	}
	_, e.err = e.w.Write(b)
}

func (e *enc) uvarint(x uint64) { e.write(binary.AppendUvarint(e.buf[:0], x)) }
func (e *enc) varint(x int64)   { e.write(binary.AppendVarint(e.buf[:0], x)) }

func (e *enc) str(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil && len(s) > 0 {
		if e.crc != nil {
			e.crc.Write([]byte(s))
		}
		_, e.err = e.w.WriteString(s)
	}
}

func (e *enc) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *enc) metadata(m map[string]any) {
	if e.err != nil {
		return
	}
	b, err := metaTypes.Append(e.scratch[:0], m)
	e.scratch = b
	if err != nil {
		// Upsert normalises and checks metadata, so this is a bug.
		e.err = fmt.Errorf("flat: %w", err)
		return
	}
	e.write(b)
}

// dec reads snapshot fields, hashing every byte; the first error sticks
// and is reported as ErrCorrupt (a short read means a truncated file).
type dec struct {
	r   *bufio.Reader
	crc hash.Hash32
	err error
	buf []byte
}

// maxString bounds a single string, to reject nonsense lengths before
// allocating.
const maxString = 1 << 30

func (d *dec) fail(err error) {
	if d.err != nil {
		return
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		d.err = fmt.Errorf("%w: truncated", ErrCorrupt)
		return
	}
	if errors.Is(err, ErrCorrupt) {
		d.err = err
		return
	}
	d.err = fmt.Errorf("flat: reading snapshot: %w", err)
}

// read returns the next n bytes, valid until the next call.
func (d *dec) read(n int) []byte {
	if d.err != nil {
		return nil
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(err)
		return nil
	}
	d.crc.Write(b)
	return b
}

// byteReader hashes the bytes binary.ReadUvarint consumes.
type byteReader struct{ d *dec }

func (b byteReader) ReadByte() (byte, error) {
	c, err := b.d.r.ReadByte()
	if err == nil {
		b.d.crc.Write([]byte{c})
	}
	return c, err
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadUvarint(byteReader{d})
	if err != nil {
		d.fail(err)
	}
	return x
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadVarint(byteReader{d})
	if err != nil {
		d.fail(err)
	}
	return x
}

func (d *dec) str() string {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return ""
	}
	if n > maxString {
		d.fail(fmt.Errorf("%w: string of %d bytes", ErrCorrupt, n))
		return ""
	}
	// Read long strings in pieces so a corrupt length fails at the end of
	// the file instead of allocating it up front.
	const piece = 1 << 20
	if n <= piece {
		return string(d.read(int(n)))
	}
	out := make([]byte, 0, piece)
	for rest := n; rest > 0 && d.err == nil; {
		m := min(rest, piece)
		out = append(out, d.read(int(m))...)
		rest -= m
	}
	return string(out)
}

func (d *dec) strs() []string {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > maxString {
		d.fail(fmt.Errorf("%w: list of %d strings", ErrCorrupt, n))
		return nil
	}
	var out []string
	for range n {
		out = append(out, d.str())
		if d.err != nil {
			return nil
		}
	}
	return out
}

func (d *dec) metadata() map[string]any { return metaTypes.Read(d) }

// Count reads a count or length, at most maxString (metacodec.Reader).
func (d *dec) Count() int {
	n := d.uvarint()
	if n > maxString {
		d.fail(fmt.Errorf("%w: count of %d", ErrCorrupt, n))
		return 0
	}
	return int(n)
}

// Text reads a string (metacodec.Reader).
func (d *dec) Text() string { return d.str() }

// Next returns the next n bytes (metacodec.Reader).
func (d *dec) Next(n int) []byte { return d.read(n) }

// Fail records err, as corruption (metacodec.Reader).
func (d *dec) Fail(err error) { d.fail(fmt.Errorf("%w: %w", ErrCorrupt, err)) }

// Err returns the recorded error (metacodec.Reader).
func (d *dec) Err() error { return d.err }
