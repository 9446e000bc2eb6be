package lexical

import (
	"encoding/binary"
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

// captured is a consistent view of a Store for a snapshot: everything it
// refers to is immutable.
type captured struct {
	gen     uint64
	words   []string
	docs    []capturedDoc
	entries int        // live entries, in docs
	pairs   int        // live postings, in post
	dead    []bool     // by index ordinal
	post    []postings // by term; each list as long as it was at the capture
}

type capturedDoc struct {
	id     string
	doc    *storedDoc
	packed []string
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
		dead: slices.Clone(ix.dead[:n]), post: slices.Clone(ix.post), entries: ix.live}
	for _, df := range ix.df {
		c.pairs += int(df)
	}
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
		packed := make([]string, len(ords))
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
		b = binary.AppendUvarint(b, uint64(c.entries))
		b = binary.AppendUvarint(b, uint64(c.pairs))
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
		// What precedes them has a checksum of its own, so that a reopen
		// reads and checks the two parts at once.
		if _, err := cw.Write(b); err != nil {
			return err
		}
		size += int64(len(b))
		b = b[:0]
		postOff, headCRC := size, cw.crc
		cw.crc = 0
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
		b = binary.LittleEndian.AppendUint64(b, uint64(postOff))
		b = binary.LittleEndian.AppendUint32(b, headCRC)
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

// snapshotTrailer is the end of a snapshot: the offset of its postings
// (uint64 LE), the checksum of what precedes them and the checksum of the
// rest (uint32 LE each).
const snapshotTrailer = 16

// readSnapshot reads the snapshot in f, of size bytes and the current
// format, checking its checksums, into the empty s, and returns its
// generation. It reads the file in two parts at once: up to the postings,
// kept whole as one string that every ID, text and term of the store is a
// substring of; and in a goroutine the postings, decoded while the
// documents are and dropped once decoded.
func (s *Store) readSnapshot(f *os.File, size int64) (uint64, error) {
	if size < int64(len(snapMagic))+snapshotTrailer {
		return 0, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	var tail [snapshotTrailer]byte
	if _, err := f.ReadAt(tail[:], size-snapshotTrailer); err != nil {
		return 0, err
	}
	off := binary.LittleEndian.Uint64(tail[:])
	if off < uint64(len(snapMagic)) || off > uint64(size-snapshotTrailer) {
		return 0, fmt.Errorf("%w: postings offset %d outside the file", ErrCorrupt, off)
	}
	// read returns bytes [from, to) of f as a string and their checksum.
	read := func(from, to int64) (string, uint32, error) {
		var sb strings.Builder
		sb.Grow(int(to - from))
		buf := make([]byte, 1<<20)
		crc := uint32(0)
		r := io.NewSectionReader(f, from, to-from)
		for {
			n, err := r.Read(buf)
			crc = crc32.Update(crc, crcTable, buf[:n])
			sb.Write(buf[:n])
			if err == io.EOF {
				return sb.String(), crc, nil
			}
			if err != nil {
				return "", 0, err
			}
		}
	}
	type part struct {
		s   string
		err error
	}
	posts := make(chan part, 1)
	go func() {
		post, crc, err := read(int64(off), size-4)
		if err == nil && crc != binary.LittleEndian.Uint32(tail[12:]) {
			err = fmt.Errorf("%w: checksum mismatch in the postings", ErrCorrupt)
		}
		if err == nil {
			post = post[:len(post)-(snapshotTrailer-4)]
		}
		posts <- part{post, err}
	}()
	postings := sync.OnceValues(func() (string, error) { p := <-posts; return p.s, p.err })
	defer postings() // the goroutine has ended when this returns

	head, crc, err := read(0, int64(off))
	if err != nil {
		return 0, err
	}
	if crc != binary.LittleEndian.Uint32(tail[8:]) {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return s.loadSnapshot(head[len(snapMagic):], postings)
}

// loadSnapshot loads the body of a snapshot (after its magic, before its
// checksum) into the empty s and returns its generation. In the current
// format the postings are apart, given by postings, and the header counts
// entries and postings, so that the postings are decoded into arrays of
// their final size while the documents are (in another goroutine); in
// version 3 (postings nil) they follow the documents in body.
func (s *Store) loadSnapshot(body string, postings func() (string, error)) (uint64, error) {
	current := postings != nil
	d := &decoder{s: body}
	gen := d.uvarint()
	if name := d.string(); d.err == nil && name != s.ix.name {
		return 0, fmt.Errorf("%w: file has %q, index has %q", ErrAnalyzerMismatch, name, s.ix.name)
	}
	words := d.strings()
	ndocs := d.count(6)
	entries, pairs := ndocs, -1 // version 3: about one entry a document, postings unknown
	if current {
		entries, pairs = d.count(6), d.count(1)
	}
	if d.err != nil {
		return 0, d.err
	}
	ix := s.ix
	ix.words = words
	ix.terms = make(map[string]int32, len(words))
	for i, w := range words {
		ix.terms[w] = int32(i)
	}
	if len(ix.terms) != len(words) {
		return 0, fmt.Errorf("%w: a term is repeated", ErrCorrupt)
	}

	// The postings, in a goroutine of their own when they are apart.
	var postErr error
	var postPairs int
	var wg sync.WaitGroup
	defer wg.Wait()
	if current {
		wg.Go(func() {
			post, err := postings()
			if err != nil {
				postErr = err
				return
			}
			pd := &decoder{s: post}
			ix.post, ix.df, postPairs = decodePostings(pd, words, entries, pairs)
			if pd.err == nil && len(pd.s) != 0 {
				pd.fail("%d trailing bytes after the postings", len(pd.s))
			}
			postErr = pd.err
		})
	}

	ix.byID, ix.byDoc, s.docs = make(map[string]int32, entries), make(map[string][]int32, ndocs), make(map[string]*storedDoc, ndocs)
	ix.lens, ix.dead, ix.pos = make([]int32, 0, entries), make([]bool, 0, entries), make([]int32, 0, entries)
	ix.ids, ix.docIDs, ix.packed = make([]string, 0, entries), make([]string, 0, entries), make([]string, 0, entries)
	packedPairs, err := s.loadDocs(d, ndocs, entries, len(words))
	if err != nil {
		return 0, err
	}
	if !current {
		ix.post, ix.df, postPairs = decodePostings(d, words, len(ix.lens), -1)
		postErr = d.err
	}
	wg.Wait()
	switch {
	case postErr != nil:
		return 0, postErr
	case current && len(ix.lens) != entries:
		return 0, fmt.Errorf("%w: %d entries, the header says %d", ErrCorrupt, len(ix.lens), entries)
	case packedPairs != postPairs:
		return 0, fmt.Errorf("%w: postings and entries disagree", ErrCorrupt)
	case len(d.s) != 0:
		return 0, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.s))
	}
	return gen, nil
}

// loadDocs decodes ndocs documents (of about entries entries) from d
// into the empty s and its index, without postings, and returns how many
// (term, tf) pairs their packed terms hold. Decoding, checking the packed
// terms and filling the store's own maps run in a goroutine of their own;
// this one fills the index's arrays and maps.
func (s *Store) loadDocs(d *decoder, ndocs, entries, words int) (int, error) {
	type batch struct {
		docs   []*storedDoc
		packed []string // of their chunks, in order
		lens   []int32  // the chunks' lengths
		err    error
	}
	batches := make(chan batch, 4)
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	d.slabs(ndocs, entries)
	pairs := 0 // written by the goroutine; read once batches is closed
	wg.Go(func() {
		defer close(batches)
		var bt batch
		for i := range ndocs {
			id, doc, packed := d.doc(true)
			for j, p := range packed {
				n, length, ok := packedStats(p, words)
				if !ok && d.err == nil {
					d.fail("entry %q: terms malformed", doc.chunks[j].id)
				}
				pairs += n
				bt.lens = append(bt.lens, length)
			}
			if n := len(s.docs); d.err == nil {
				if s.docs[id] = doc; len(s.docs) == n {
					d.fail("document %q repeated", id)
				}
				s.count(doc, 1)
			}
			bt.err = d.err
			if d.err == nil {
				bt.docs, bt.packed = append(bt.docs, doc), append(bt.packed, packed...)
			}
			if len(bt.docs) == 512 || i == ndocs-1 || d.err != nil {
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
	ix := s.ix
	ords := make([]int32, 0, entries) // byDoc's lists, carved from one array
	for bt := range batches {
		e := 0
		for _, doc := range bt.docs {
			id := doc.fields.DocID
			if cap(ords)-len(ords) < len(doc.chunks) {
				ords = make([]int32, 0, max(4096, len(doc.chunks)))
			}
			start := len(ords)
			for i := range doc.chunks {
				ords = append(ords, int32(len(ix.lens)))
				if !ix.addEntry(id, doc.chunks[i].id, int32(i), bt.packed[e], bt.lens[e]) {
					return 0, fmt.Errorf("%w: entry %q repeated", ErrCorrupt, doc.chunks[i].id)
				}
				e++
			}
			ix.byDoc[id] = ords[start:len(ords):len(ords)]
		}
		if bt.err != nil {
			return 0, bt.err
		}
	}
	return pairs, nil
}

// decodePostings reads the postings of every term from d: per term a
// count, then (entry number minus the previous one, tf) uvarint pairs, in
// entries' order. With pairs >= 0 (the number of pairs in all, from the
// header) the lists are carved from one array each; otherwise each is
// allocated. Every list leaves room for the writes of the logs that follow
// (at most about an eighth of the snapshot), so that replaying them does
// not copy every long list. It returns the lists, the document
// frequencies and the number of pairs read; errors are recorded in d.
func decodePostings(d *decoder, words []string, entries, pairs int) ([]postings, []int32, int) {
	post, df := make([]postings, len(words)), make([]int32, len(words))
	var ordSlab, tfSlab []int32
	if pairs >= 0 {
		ordSlab, tfSlab = make([]int32, 0, pairs+pairs/8+len(words)), make([]int32, 0, pairs+pairs/8+len(words))
	}
	total := 0
	for t := range words {
		n := d.count(2)
		if d.err != nil {
			return nil, nil, 0
		}
		room := n + n/8 + 1
		var p postings
		if start := len(ordSlab); cap(ordSlab)-start >= room {
			ordSlab, tfSlab = ordSlab[:start+room], tfSlab[:start+room]
			p = postings{ordSlab[start : start+n : start+room], tfSlab[start : start+n : start+room]}
		} else {
			p = postings{make([]int32, n, room), make([]int32, n, room)}
		}
		b, ord := d.s, uint64(0)
		for i := range n {
			var delta, tf uint64
			var k int
			if len(b) >= 2 && b[0] < 0x80 && b[1] < 0x80 {
				delta, tf, k = uint64(b[0]), uint64(b[1]), 2
			} else if delta, tf, k = uvarintPair(b); k == 0 {
				d.fail("bad posting of term %q", words[t])
				return nil, nil, 0
			}
			b = b[k:]
			if i > 0 && delta == 0 || delta >= uint64(entries) || tf == 0 || tf > math.MaxInt32 {
				d.fail("bad posting of term %q", words[t])
				return nil, nil, 0
			}
			if ord += delta; ord >= uint64(entries) {
				d.fail("posting of term %q past the entries", words[t])
				return nil, nil, 0
			}
			p.ords[i], p.tfs[i] = int32(ord), int32(tf)
		}
		d.s = b
		post[t], df[t] = p, int32(n)
		total += n
	}
	if pairs >= 0 && total != pairs {
		d.fail("%d postings, the header says %d", total, pairs)
	}
	return post, df, total
}
