package chromem

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/internal/metacodec"
	"github.com/ragkit-go/rag/store"
)

// Directory layout:
//
//	<Path>/<Collection>/LOCK          held (flock) while a Store has it open
//	<Path>/<Collection>/store.json    {"format":1,"dimensions":N}
//	<Path>/<Collection>/docs/<h>.doc  one file per document, h = hex SHA-256 of its ID
//	<Path>/<Collection>/wal-<seq>.log the write log (see log.go); without NoSync, a
//	                                  document's version there wins over its file
//
// A document file is written as docs/<h>.<random>.tmp, synced, and renamed
// to docs/<h>.doc, so it is always one whole version of the document: the
// rename is the commit. Deleting a document removes its file. Opening the
// store removes *.tmp files (writes a crash interrupted before their
// commit).
//
// A document file is:
//
//	magic "RAGDOC01" | flags (1 byte; bit 0: body gzipped) | body | CRC-32C of everything before it (4 bytes, little endian)
//
// and its body:
//
//	docID, hash | uvarint record count | uvarint dimensions
//	per record: ID, varint chunk, start, end, text, title, source,
//	            uvarint tag count, tags, uvarint metadata count,
//	            per key: key, type byte, value
//	the vectors as written, float32 little endian, record after record
//
// Strings are a uvarint length and the bytes (any bytes: the encoding is
// binary, so invalid UTF-8 round-trips). Metadata is encoded as package
// store/internal/metacodec describes, with the type bytes 's' string, 'f'
// float64, 'b' bool, 't' time.Time and 'l' []string (metaTypes).
const (
	magic      = "RAGDOC01"
	flagGzip   = 1
	docsDir    = "docs"
	docExt     = ".doc"
	tmpExt     = ".tmp"
	lockName   = "LOCK"
	metaName   = "store.json"
	fileFormat = 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// metaTypes are the metadata type bytes of a document file.
var metaTypes = metacodec.Types{String: 's', Float: 'f', Bool: 'b', Time: 't', Strings: 'l'}

type disk struct {
	dir      string
	compress bool
	sync     bool
	unlock   func() error
}

func openDisk(dir string, compress, sync bool) (*disk, error) {
	if err := os.MkdirAll(filepath.Join(dir, docsDir), 0o755); err != nil {
		return nil, fmt.Errorf("chromem: %w", err)
	}
	unlock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	return &disk{dir: dir, compress: compress, sync: sync, unlock: unlock}, nil
}

func (d *disk) close() error {
	if d.unlock == nil {
		return nil
	}
	err := d.unlock()
	d.unlock = nil
	return err
}

type storeMeta struct {
	Format     int `json:"format"`
	Dimensions int `json:"dimensions"`
}

func (d *disk) loadDimensions() (int, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, metaName))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("chromem: %w", err)
	}
	var m storeMeta
	if err := json.Unmarshal(b, &m); err != nil || m.Format != fileFormat || m.Dimensions < 0 {
		return 0, fmt.Errorf("%w: %s: %s", ErrCorrupt, filepath.Join(d.dir, metaName), b)
	}
	return m.Dimensions, nil
}

func (d *disk) saveDimensions(dim int) error {
	b, _ := json.Marshal(storeMeta{Format: fileFormat, Dimensions: dim})
	if err := d.writeAtomic(d.dir, metaName, b); err != nil {
		return err
	}
	return d.syncDir(d.dir)
}

func docFileName(docID string) string {
	h := sha256.Sum256([]byte(docID))
	return hex.EncodeToString(h[:])
}

// writeAtomic writes data to dir/name through a synced temporary file and
// a rename. The caller syncs dir.
func (d *disk) writeAtomic(dir, name string, data []byte) error {
	return d.writeFile(dir, name, data, d.sync)
}

// writeFile is writeAtomic, syncing the file only if sync is set.
func (d *disk) writeFile(dir, name string, data []byte, sync bool) (err error) {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	f, err := os.CreateTemp(dir, base+".*"+tmpExt)
	if err != nil {
		return fmt.Errorf("chromem: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("chromem: %w", err)
	}
	if sync {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("chromem: %w", err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("chromem: %w", err)
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("chromem: %w", err)
	}
	return nil
}

func (d *disk) syncDir(dir string) error {
	if !d.sync {
		return nil
	}
	return syncDir(dir)
}

// writeDocs commits documents in order: a document without records is
// deleted. It returns how many it committed; on an error (or a cancelled
// ctx) the documents after them are untouched.
func (d *disk) writeDocs(ctx context.Context, ps []prepared, dim int) (n int, err error) {
	dir := filepath.Join(d.dir, docsDir)
	defer func() {
		if n > 0 {
			if serr := d.syncDir(dir); serr != nil && err == nil {
				err = serr
			}
		}
	}()
	var buf []byte
	for i := range ps {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		p := &ps[i]
		name := docFileName(p.id) + docExt
		if len(p.recs) == 0 {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return i, fmt.Errorf("chromem: delete document %q: %w", p.id, err)
			}
			continue
		}
		var err error
		if buf, err = encodeDoc(buf[:0], p, dim, d.compress); err != nil {
			return i, fmt.Errorf("chromem: write document %q: %w", p.id, err)
		}
		if err := d.writeAtomic(dir, name, buf); err != nil {
			return i, fmt.Errorf("chromem: write document %q: %w", p.id, err)
		}
	}
	return len(ps), nil
}

// readDocs decodes every document file, in parallel, and hands each to fn
// (from one goroutine). It removes temporary files left by a crash.
func (d *disk) readDocs(skip map[string]bool, fn func(p prepared, dim int) error) error {
	dir := filepath.Join(d.dir, docsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("chromem: %w", err)
	}
	var names []string
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasSuffix(name, tmpExt):
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("chromem: remove unfinished write: %w", err)
			}
		case skip[name]:
			// Its last version is in a log; the file may be torn.
		case strings.HasSuffix(name, docExt) && e.Type().IsRegular():
			names = append(names, name)
		}
	}

	type decoded struct {
		p   prepared
		dim int
		err error
	}
	work := make(chan string)
	out := make(chan decoded, 64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			var buf []byte
			for name := range work {
				path := filepath.Join(dir, name)
				p, dim, err := readDocFile(path, &buf)
				if err == nil && docFileName(p.id)+docExt != name {
					err = fmt.Errorf("%w: %s holds document %q, whose file name differs", ErrCorrupt, path, p.id)
				}
				select {
				case out <- decoded{p, dim, err}:
				case <-stop:
					return
				}
			}
		})
	}
	go func() {
		defer close(work)
		for _, name := range names {
			select {
			case work <- name:
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()

	var first error
	for r := range out {
		if first != nil {
			continue
		}
		if r.err == nil {
			r.err = fn(r.p, r.dim)
		}
		if r.err != nil {
			first = r.err
			close(stop)
		}
	}
	return first
}

// readDocFile reads and decodes a document file, using *buf for the
// bytes (decodeDoc copies what it keeps).
func readDocFile(path string, buf *[]byte) (prepared, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return prepared{}, 0, fmt.Errorf("chromem: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return prepared{}, 0, fmt.Errorf("chromem: %w", err)
	}
	if int64(cap(*buf)) < fi.Size()+1 {
		*buf = make([]byte, 0, fi.Size()+512)
	}
	b := (*buf)[:0]
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return prepared{}, 0, fmt.Errorf("chromem: %w", err)
		}
		if len(b) == cap(b) {
			b = slices.Grow(b, 4096)
		}
	}
	*buf = b
	p, dim, err := decodeDoc(b)
	if err != nil {
		return prepared{}, 0, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return p, dim, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeDoc appends the file form of p to buf.
func encodeDoc(buf []byte, p *prepared, dim int, compress bool) ([]byte, error) {
	start := len(buf)
	buf = append(buf, magic...)
	if compress {
		body, err := encodeBody(nil, p, dim)
		if err != nil {
			return buf[:start], err
		}
		buf = append(buf, flagGzip)
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body) // a bytes.Buffer does not fail
		zw.Close()
		buf = append(buf, z.Bytes()...)
	} else {
		buf = append(buf, 0)
		var err error
		if buf, err = encodeBody(buf, p, dim); err != nil {
			return buf[:start], err
		}
	}
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf[start:], crcTable)), nil
}

// docSize is about the size of p's file uncompressed (its metadata may
// take more), for sizing buffers once.
func docSize(p *prepared, dim int) int {
	n := len(magic) + 1 + 4 + 2*binary.MaxVarintLen64 + len(p.id) + len(p.hash)
	for _, e := range p.recs {
		r := &e.rec
		n += 8*binary.MaxVarintLen64 + len(r.ID) + len(r.Text) + len(r.Title) + len(r.Source) + 4*dim
		for _, t := range r.Tags {
			n += binary.MaxVarintLen64 + len(t)
		}
		n += 16 * len(r.Metadata)
	}
	return n
}

func encodeBody(b []byte, p *prepared, dim int) ([]byte, error) {
	b = slices.Grow(b, docSize(p, dim))
	b = appendString(b, p.id)
	b = appendString(b, p.hash)
	b = binary.AppendUvarint(b, uint64(len(p.recs)))
	b = binary.AppendUvarint(b, uint64(dim))
	for _, e := range p.recs {
		r := &e.rec
		b = appendString(b, r.ID)
		b = binary.AppendVarint(b, int64(r.Chunk))
		b = binary.AppendVarint(b, int64(r.Start))
		b = binary.AppendVarint(b, int64(r.End))
		b = appendString(b, r.Text)
		b = appendString(b, r.Title)
		b = appendString(b, r.Source)
		b = binary.AppendUvarint(b, uint64(len(r.Tags)))
		for _, t := range r.Tags {
			b = appendString(b, t)
		}
		var err error
		if b, err = metaTypes.Append(b, r.Metadata); err != nil {
			return nil, fmt.Errorf("record %q: %w", r.ID, err)
		}
	}
	for _, v := range p.vecs {
		n := len(b)
		b = slices.Grow(b, 4*len(v))[:n+4*len(v)]
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[n+4*i:], math.Float32bits(x))
		}
	}
	return b, nil
}

var errShort = errors.New("truncated")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) varint() int {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return int(x)
}

// Next returns the next n bytes (metacodec.Reader).
func (d *decoder) Next(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

// Text reads a length-prefixed string (metacodec.Reader).
func (d *decoder) Text() string { return string(d.Next(d.Count())) }

// Count reads a count, which cannot exceed the bytes left: every element
// takes at least one (metacodec.Reader).
func (d *decoder) Count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errShort
		return 0
	}
	return int(n)
}

// Fail records err unless an error is recorded (metacodec.Reader).
func (d *decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Err returns the recorded error (metacodec.Reader).
func (d *decoder) Err() error { return d.err }

func decodeDoc(b []byte) (prepared, int, error) {
	if len(b) < len(magic)+1+4 || string(b[:len(magic)]) != magic {
		return prepared{}, 0, errors.New("not a document file")
	}
	n := len(b) - 4
	if crc32.Checksum(b[:n], crcTable) != binary.LittleEndian.Uint32(b[n:]) {
		return prepared{}, 0, errors.New("checksum mismatch")
	}
	body := b[len(magic)+1 : n]
	if b[len(magic)]&flagGzip != 0 {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return prepared{}, 0, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return prepared{}, 0, err
		}
	}
	d := &decoder{b: body}
	p := prepared{id: d.Text(), hash: d.Text()}
	nrec := d.Count()
	dim := int(d.uvarint())
	if d.err == nil && (nrec == 0 || dim <= 0 || uint64(nrec)*uint64(dim)*4 > uint64(len(d.b))) {
		return prepared{}, 0, fmt.Errorf("%d records of %d dimensions do not fit", nrec, dim)
	}
	p.recs = make([]*recEntry, nrec)
	for i := range p.recs {
		r := store.Record{DocID: p.id}
		r.ID = d.Text()
		r.Chunk, r.Start, r.End = d.varint(), d.varint(), d.varint()
		r.Text, r.Title, r.Source = d.Text(), d.Text(), d.Text()
		if nt := d.Count(); nt > 0 {
			r.Tags = make([]string, nt)
			for j := range r.Tags {
				r.Tags[j] = d.Text()
			}
		}
		r.Metadata = metaTypes.Read(d)
		p.recs[i] = &recEntry{rec: r}
	}
	if d.err != nil {
		return prepared{}, 0, d.err
	}
	if len(d.b) != nrec*dim*4 {
		return prepared{}, 0, fmt.Errorf("%d bytes of vectors, want %d", len(d.b), nrec*dim*4)
	}
	for _, e := range p.recs {
		// One pass for the length, one to scale: the same arithmetic as
		// normalize, without a copy of the raw vector.
		raw := d.b[:4*dim]
		d.b = d.b[4*dim:]
		var ss float64
		for j := 0; j < len(raw); j += 4 {
			x := float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[j:])))
			ss += x * x
		}
		if math.IsNaN(ss) || math.IsInf(ss, 0) {
			return prepared{}, 0, fmt.Errorf("record %q: %w", e.rec.ID, store.ErrInvalidVector)
		}
		if ss == 0 {
			continue // a zero vector
		}
		n := math.Sqrt(ss)
		u := make([]float32, dim)
		for j := range u {
			u[j] = float32(float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))) / n)
		}
		e.unit, e.norm = u, n
	}
	return p, dim, nil
}
