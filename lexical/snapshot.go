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
		// Room for the writes of the logs that follow (at most about an
		// eighth of the snapshot), so that replaying them does not copy
		// every long list.
		room := n + n/8 + 1
		p := postings{ords: make([]int32, n, room), tfs: make([]int32, n, room)}
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
