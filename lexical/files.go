package lexical

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ragkit-go/rag/internal/atomicfile"
)

// A Store's files: a snapshot at Path and logs at Path.log.<generation>.
//
//	snapshot: "RAGLEX3\n", then generation (uvarint: the first log that
//	          follows it), analyzer name, term count and terms (the term
//	          IDs of the packed terms), document count and documents (see
//	          codec.go, with packed terms; entries are numbered in this
//	          order), then per term its postings: a count, then (entry
//	          number minus the previous one, tf) uvarint pairs, entry
//	          numbers ascending; then CRC-32C (uint32 LE) of all before it.
//	          Postings are there twice, by entry and by term, so that
//	          loading them is a sequential read, not a scatter.
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
	snapMagic = "RAGLEX3\n"
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
	data, err := os.ReadFile(path)
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
	case bytes.HasPrefix(data, []byte(legacyMagic)):
		if err := s.readLegacy(data); err != nil {
			return fmt.Errorf("lexical: %s: %w", path, err)
		}
		// Rewrite it in this format now: the logs that follow need a
		// snapshot of their generation.
		s.disk = f
		if err := f.writeSnapshot(s.capture()); err != nil {
			return fmt.Errorf("lexical: %s: rewriting the old format: %w", path, err)
		}
	default:
		gen, err := s.readSnapshot(data)
		if err != nil {
			return fmt.Errorf("lexical: %s: %w", path, err)
		}
		f.gen, f.snapSize = gen, int64(len(data))
	}
	data = nil

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
	s.disk = f
	s.wmu.Lock()
	f.maybeSnapshot(s)
	s.wmu.Unlock()
	return nil
}

// replay applies the records of log gen and returns the length of its
// whole records (0 when not even the header is whole). A record whose
// checksum fails at the end of the log is a write a crash interrupted,
// and is ignored; anywhere else it is corruption.
func (s *Store) replay(f *files, gen uint64) (int64, error) {
	path := f.logPath(gen)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("lexical: %w", err)
	}
	hdr := logHeader(gen, f.name)
	if len(data) < len(hdr) && bytes.HasPrefix(hdr, data) {
		return 0, nil // torn while being created
	}
	if !bytes.HasPrefix(data, hdr) {
		d := &decoder{b: data}
		if len(data) > len(logMagic)+8 {
			d.b = data[len(logMagic)+8:]
		}
		if name := d.string(); bytes.HasPrefix(data, []byte(logMagic)) && d.err == nil && name != f.name {
			return 0, fmt.Errorf("lexical: %s: %w: file has %q, index has %q", path, ErrAnalyzerMismatch, name, f.name)
		}
		return 0, fmt.Errorf("lexical: %s: %w: not the log of generation %d", path, ErrCorrupt, gen)
	}
	off := len(hdr)
	for off < len(data) {
		rest := data[off:]
		if len(rest) < 8 {
			break // torn
		}
		n := int(binary.LittleEndian.Uint32(rest))
		if n > len(rest)-8 {
			break // torn
		}
		payload := rest[8 : 8+n]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(rest[4:]) {
			if off+8+n == len(data) {
				break // torn last record
			}
			return 0, fmt.Errorf("lexical: %s: %w: record at byte %d fails its checksum", path, ErrCorrupt, off)
		}
		preps, err := s.decodeLogRecord(payload)
		if err != nil {
			return 0, fmt.Errorf("lexical: %s: record at byte %d: %w", path, off, err)
		}
		s.applyAll(preps)
		off += 8 + n
	}
	f.logSize += int64(off)
	return int64(off), nil
}

func logHeader(gen uint64, name string) []byte {
	b := binary.LittleEndian.AppendUint64([]byte(logMagic), gen)
	b = appendString(b, name)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func encodeLogRecord(preps []prepared) []byte {
	b := make([]byte, 8, 1024)
	b = binary.AppendUvarint(b, uint64(len(preps)))
	for i := range preps {
		p := &preps[i]
		if p.doc == nil {
			b = appendString(append(b, 'd'), p.id)
		} else {
			b = appendDoc(append(b, 'u'), p.id, p.doc, nil)
			for _, e := range p.entries {
				b = binary.AppendUvarint(b, uint64(len(e.terms)))
				for _, tf := range e.terms {
					b = binary.AppendUvarint(appendString(b, tf.term), uint64(tf.tf))
				}
			}
		}
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-8))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crcTable))
	return b
}

// decodeLogRecord turns a log record back into the writes it holds.
func (s *Store) decodeLogRecord(payload []byte) ([]prepared, error) {
	d := &decoder{b: payload}
	preps := make([]prepared, d.count(2))
	for i := range preps {
		switch d.byte() {
		case 'd':
			preps[i].id = d.string()
		case 'u':
			id, doc, _ := d.doc(false)
			if d.err != nil {
				return nil, d.err
			}
			an := make([]analyzed, len(doc.chunks))
			for j, c := range doc.chunks {
				an[j] = analyzed{id: c.id, terms: make([]termFreq, d.count(2))}
				for k := range an[j].terms {
					term, n := d.string(), d.uvarint()
					tf := termFreq{term, int32(n)}
					if d.err == nil && (n == 0 || n > math.MaxInt32 || k > 0 && tf.term <= an[j].terms[k-1].term) {
						d.fail("bad term")
					}
					an[j].terms[k] = tf
				}
			}
			if d.err != nil {
				return nil, d.err
			}
			preps[i] = prepared{id: id, doc: doc, entries: an}
		default:
			d.fail("unknown log item")
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return preps, d.err
}

// append writes a batch to the log and syncs it. A failed write is cut
// off again, so the log never holds a write that did not return nil.
// Caller holds wmu.
func (f *files) append(preps []prepared) error {
	if f.closed {
		return ErrClosed
	}
	if f.broken != nil {
		return f.broken
	}
	if f.log == nil {
		lf, err := createFile(f.logPath(f.gen), logHeader(f.gen, f.name))
		if err != nil {
			return fmt.Errorf("lexical: log: %w", err)
		}
		f.log = lf
	}
	rec := encodeLogRecord(preps)
	size, err := f.log.Seek(0, io.SeekEnd)
	if err == nil {
		if _, err = f.log.Write(rec); err == nil {
			err = f.log.Sync()
		}
	}
	if err != nil {
		if terr := f.log.Truncate(size); terr != nil {
			f.broken = fmt.Errorf("lexical: log %s: a failed write could not be undone (%v): %w", f.log.Name(), terr, err)
		}
		return fmt.Errorf("lexical: log: %w", err)
	}
	f.logSize += int64(len(rec))
	return nil
}

// createFile creates path with content, synced, and syncs its directory
// so that the file survives a crash.
func createFile(path string, content []byte) (*os.File, error) {
	lf, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err = lf.Write(content); err == nil {
		err = lf.Sync()
	}
	if err != nil {
		lf.Close()
		os.Remove(path)
		return nil, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return lf, nil
}

// maybeSnapshot starts a background snapshot when the logs have grown
// past their share. Caller holds wmu.
func (f *files) maybeSnapshot(s *Store) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running || f.closed || f.logSize < max(minLog, f.snapSize/logFraction) {
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

// captured is a consistent view of a Store for a snapshot: everything it
// refers to is immutable.
type captured struct {
	gen   uint64
	words []string
	docs  []capturedDoc
	dead  []bool     // by index ordinal
	post  []postings // by term; each list as long as it was at the capture
}

type capturedDoc struct {
	id     string
	doc    *storedDoc
	packed [][]byte
}

// capture takes a view of s for a snapshot. Caller holds wmu (or is the
// only user of s).
func (s *Store) capture() *captured {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.ix.mu.RLock()
	defer s.ix.mu.RUnlock()
	ix := s.ix
	n := len(ix.lens)
	c := &captured{gen: 1, words: ix.words[:len(ix.words):len(ix.words)], docs: make([]capturedDoc, 0, len(s.docs)),
		dead: slices.Clone(ix.dead[:n]), post: slices.Clone(ix.post)}
	if s.disk != nil {
		c.gen = s.disk.gen
	}
	// A document's entries are consecutive ordinals, in order: documents
	// go in the order of their first ordinal, so that renumbering the
	// live entries keeps every postings list ascending.
	for ord := range n {
		if ix.dead[ord] || ix.pos[ord] != 0 {
			continue
		}
		id := ix.docIDs[ord]
		ords := ix.byDoc[id]
		packed := make([][]byte, len(ords))
		for i, o := range ords {
			packed[i] = ix.packed[o]
		}
		c.docs = append(c.docs, capturedDoc{id, s.docs[id], packed})
	}
	return c
}

// crcWriter computes the CRC-32C of what it writes.
type crcWriter struct {
	w   io.Writer
	crc uint32
}

func (w *crcWriter) Write(p []byte) (int, error) {
	w.crc = crc32.Update(w.crc, crcTable, p)
	return w.w.Write(p)
}

// writeSnapshot writes c to the snapshot file atomically and removes the
// logs older than its generation.
func (f *files) writeSnapshot(c *captured) error {
	var size int64
	err := atomicfile.Write(f.path, func(w io.Writer) error {
		cw := &crcWriter{w: w}
		b := binary.AppendUvarint([]byte(snapMagic), c.gen)
		b = appendString(b, f.name)
		b = appendStrings(b, c.words)
		b = binary.AppendUvarint(b, uint64(len(c.docs)))
		flush := func() error {
			if len(b) < 1<<20 {
				return nil
			}
			_, err := cw.Write(b)
			size += int64(len(b))
			b = b[:0]
			return err
		}
		for _, d := range c.docs {
			b = appendDoc(b, d.id, d.doc, d.packed)
			if err := flush(); err != nil {
				return err
			}
		}
		// Postings by term, in the live entries' new ordinals.
		remap := make([]int32, len(c.dead))
		live := int32(0)
		for ord, dead := range c.dead {
			remap[ord] = live
			if !dead {
				live++
			}
		}
		for _, p := range c.post {
			n := 0
			for _, ord := range p.ords {
				if !c.dead[ord] {
					n++
				}
			}
			b = binary.AppendUvarint(b, uint64(n))
			prev := int32(0)
			for i, ord := range p.ords {
				if !c.dead[ord] {
					b = binary.AppendUvarint(b, uint64(remap[ord]-prev))
					b = binary.AppendUvarint(b, uint64(p.tfs[i]))
					prev = remap[ord]
				}
			}
			if err := flush(); err != nil {
				return err
			}
		}
		if _, err := cw.Write(b); err != nil {
			return err
		}
		size += int64(len(b)) + 4
		_, err := w.Write(binary.LittleEndian.AppendUint32(nil, cw.crc))
		return err
	})
	if err != nil {
		return fmt.Errorf("lexical: snapshot: %w", err)
	}
	f.mu.Lock()
	f.snapSize = size
	f.mu.Unlock()
	dir, base := filepath.Split(f.path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // the stale logs are removed at the next open
	}
	for _, e := range entries {
		g, err := strconv.ParseUint(strings.TrimPrefix(e.Name(), base+".log."), 10, 64)
		if strings.HasPrefix(e.Name(), base+".log.") && err == nil && g < c.gen {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// readSnapshot loads a snapshot into the empty s and returns its
// generation.
func (s *Store) readSnapshot(data []byte) (uint64, error) {
	if len(data) < len(snapMagic)+4 || string(data[:len(snapMagic)]) != snapMagic {
		return 0, fmt.Errorf("%w: not a lexical store snapshot", ErrCorrupt)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	d := &decoder{b: body[len(snapMagic):]}
	gen := d.uvarint()
	if name := d.string(); d.err == nil && name != s.ix.name {
		return 0, fmt.Errorf("%w: file has %q, index has %q", ErrAnalyzerMismatch, name, s.ix.name)
	}
	words := d.strings()
	ndocs := d.count(6)
	if d.err != nil {
		return 0, d.err
	}
	ix := s.ix
	ix.words = words
	ix.terms = make(map[string]int32, len(words))
	for i, w := range words {
		if _, dup := ix.terms[w]; dup {
			return 0, fmt.Errorf("%w: term %q repeated", ErrCorrupt, w)
		}
		ix.terms[w] = int32(i)
	}
	ix.post = make([]postings, len(words))
	ix.df = make([]int32, len(words))
	// Sized for one entry a document, the common case, to spare the
	// growth of maps and arrays this large.
	ix.byID, ix.byDoc, s.docs = make(map[string]int32, ndocs), make(map[string][]int32, ndocs), make(map[string]*storedDoc, ndocs)
	ix.lens, ix.dead, ix.pos = make([]int32, 0, ndocs), make([]bool, 0, ndocs), make([]int32, 0, ndocs)
	ix.ids, ix.docIDs, ix.packed = make([]string, 0, ndocs), make([]string, 0, ndocs), make([][]byte, 0, ndocs)
	// Decoding (strings, checks, copying packed terms) runs in a goroutine
	// of its own, building the index in this one: the two halves of a
	// reopen take about as long as each other.
	type batch struct {
		ids    []string
		docs   []*storedDoc
		packed [][][]byte
		err    error
	}
	batches := make(chan batch, 4)
	pairs := 0 // in the packed terms; read once batches is closed
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		var arena []byte // the packed terms, copied out of data in large blocks
		var bt batch
		for i := range ndocs {
			id, doc, packed := d.doc(true)
			for j, p := range packed {
				if d.err == nil && !eachTerm(p, len(words), func(t, tf int32) { pairs++ }) {
					d.fail("entry %q: terms malformed", doc.chunks[j].id)
				}
				if cap(arena)-len(arena) < len(p) {
					arena = make([]byte, 0, max(1<<20, len(p)))
				}
				start := len(arena)
				arena = append(arena, p...)
				packed[j] = arena[start:len(arena):len(arena)]
			}
			bt.err = d.err
			if d.err == nil {
				bt.ids, bt.docs, bt.packed = append(bt.ids, id), append(bt.docs, doc), append(bt.packed, packed)
			}
			if len(bt.ids) == 512 || i == ndocs-1 || d.err != nil {
				select {
				case batches <- bt:
				case <-done:
					return
				}
				if d.err != nil {
					return
				}
				bt = batch{}
			}
		}
	})
	defer wg.Wait()
	defer close(done)
	for bt := range batches {
		for k, id := range bt.ids {
			doc, packed := bt.docs[k], bt.packed[k]
			if _, dup := s.docs[id]; dup {
				return 0, fmt.Errorf("%w: document %q repeated", ErrCorrupt, id)
			}
			ords := make([]int32, len(packed))
			for i, p := range packed {
				if _, dup := ix.byID[doc.chunks[i].id]; dup {
					return 0, fmt.Errorf("%w: entry %q repeated", ErrCorrupt, doc.chunks[i].id)
				}
				ords[i] = ix.addEntry(id, doc.chunks[i].id, int32(i), p, false)
			}
			ix.byDoc[id] = ords
			s.docs[id] = doc
			s.count(doc, 1)
		}
		if bt.err != nil {
			return 0, bt.err
		}
	}
	// The postings, read in order into lists of their final size.
	entries := int32(len(ix.lens))
	for t := range words {
		n := d.count(2)
		p := postings{ords: make([]int32, n), tfs: make([]int32, n)}
		ord := int32(-1)
		for i := range n {
			delta, tf := d.uvarint(), d.uvarint()
			if d.err == nil && (i > 0 && delta == 0 || delta >= uint64(entries-ord) && i > 0 || i == 0 && delta >= uint64(entries) || tf == 0 || tf > math.MaxInt32) {
				d.fail("bad posting of term %q", words[t])
			}
			if d.err != nil {
				return 0, d.err
			}
			if i == 0 {
				ord = 0
			}
			ord += int32(delta)
			p.ords[i], p.tfs[i] = ord, int32(tf)
		}
		ix.post[t], ix.df[t] = p, int32(n)
		pairs -= n
	}
	if d.err == nil && pairs != 0 {
		d.fail("postings and entries disagree")
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return gen, d.err
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
