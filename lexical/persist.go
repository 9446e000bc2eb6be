package lexical

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/ragkit-go/rag/internal/atomicfile"
	"hash/crc32"
	"io"
	"os"
	"sort"
)

// The file format, version 1:
//
//	magic    8 bytes  "RAGBM25\x00"
//	version  uint32   little-endian, 1
//	length   uint64   little-endian, bytes of payload
//	payload:
//	  analyzer name            string
//	  term count T             uvarint
//	  T terms, sorted          string each
//	  document count D         uvarint
//	  D documents, by ID:      ID string, entry count E uvarint,
//	    E entries, in order:   ID string, term count uvarint,
//	                           (term index delta uvarint, tf uvarint) each
//	crc      uint32   little-endian, CRC-32C of everything before it
//
// A string is its byte length as a uvarint, then its bytes. The text of
// entries is not kept: only what BM25 needs. K1 and B are not kept
// either: they are search-time settings of the Index that loads the file.
const (
	fileMagic   = "RAGBM25\x00"
	fileVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index to w in a versioned, checksummed binary format.
// The output is deterministic: equal indexes give equal bytes. It
// implements io.WriterTo. The index is encoded under the read lock, then
// written without holding it.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	payload := ix.encode()
	var hdr [20]byte
	copy(hdr[:8], fileMagic)
	binary.LittleEndian.PutUint32(hdr[8:12], fileVersion)
	binary.LittleEndian.PutUint64(hdr[12:20], uint64(len(payload)))
	crc := crc32.Update(crc32.Update(0, castagnoli, hdr[:]), castagnoli, payload)
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc)

	var n int64
	for _, part := range [][]byte{hdr[:], payload, tail[:]} {
		m, err := w.Write(part)
		n += int64(m)
		if err != nil {
			return n, fmt.Errorf("lexical: write index: %w", err)
		}
	}
	return n, nil
}

func putString(buf *bytes.Buffer, s string) {
	buf.Write(binary.AppendUvarint(nil, uint64(len(s))))
	buf.WriteString(s)
}

func putUvarint(buf *bytes.Buffer, v uint64) {
	var b [binary.MaxVarintLen64]byte
	buf.Write(b[:binary.PutUvarint(b[:], v)])
}

func (ix *Index) encode() []byte {
	ix.mu.RLock()
	defer ix.mu.RUnlock()

	// Live terms, sorted, and the map from term ID to their rank.
	var words []string
	for t, w := range ix.words {
		if ix.df[t] > 0 {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	rank := make(map[int32]uint64, len(words))
	for i, w := range words {
		rank[ix.terms[w]] = uint64(i)
	}
	docIDs := make([]string, 0, len(ix.byDoc))
	for id := range ix.byDoc {
		docIDs = append(docIDs, id)
	}
	sort.Strings(docIDs)

	var buf bytes.Buffer
	putString(&buf, ix.name)
	putUvarint(&buf, uint64(len(words)))
	for _, w := range words {
		putString(&buf, w)
	}
	putUvarint(&buf, uint64(len(docIDs)))
	type pair struct{ term, tf uint64 }
	var pairs []pair
	for _, id := range docIDs {
		putString(&buf, id)
		ords := ix.byDoc[id]
		putUvarint(&buf, uint64(len(ords)))
		for _, ord := range ords {
			putString(&buf, ix.ids[ord])
			pairs = pairs[:0]
			eachTerm(ix.packed[ord], len(ix.words), func(t, tf int32) {
				pairs = append(pairs, pair{rank[t], uint64(tf)})
			})
			sort.Slice(pairs, func(i, j int) bool { return pairs[i].term < pairs[j].term })
			putUvarint(&buf, uint64(len(pairs)))
			prev := uint64(0)
			for _, p := range pairs {
				putUvarint(&buf, p.term-prev)
				putUvarint(&buf, p.tf)
				prev = p.term
			}
		}
	}
	return buf.Bytes()
}

// ReadFrom replaces the content of the index with an index read from r,
// as written by WriteTo. It implements io.ReaderFrom. On error the index
// is unchanged. Errors match ErrCorrupt (bad magic, truncation, checksum
// or content), ErrVersion, or ErrAnalyzerMismatch when the file was
// written by an index whose analyzer has another name.
func (ix *Index) ReadFrom(r io.Reader) (int64, error) {
	var hdr [20]byte
	n, err := io.ReadFull(r, hdr[:])
	read := int64(n)
	if err != nil {
		return read, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if string(hdr[:8]) != fileMagic {
		return read, fmt.Errorf("%w: not a BM25 index file", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:12]); v != fileVersion {
		return read, fmt.Errorf("%w: version %d, want %d", ErrVersion, v, fileVersion)
	}
	size := binary.LittleEndian.Uint64(hdr[12:20])
	if size > 1<<40 {
		return read, fmt.Errorf("%w: payload size %d", ErrCorrupt, size)
	}
	// Copy rather than allocate size bytes up front: a corrupt size must
	// not allocate memory the file does not back.
	var payload bytes.Buffer
	m, err := io.CopyN(&payload, r, int64(size)+4)
	read += m
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return read, fmt.Errorf("%w: payload: %v", ErrCorrupt, err)
	}
	data := payload.Bytes()
	body, tail := data[:size], data[size:]
	crc := crc32.Update(crc32.Update(0, castagnoli, hdr[:]), castagnoli, body)
	if crc != binary.LittleEndian.Uint32(tail) {
		return read, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	name, docs, err := decode(body)
	if err != nil {
		return read, err
	}
	if name != ix.name {
		return read, fmt.Errorf("%w: file has %q, index has %q", ErrAnalyzerMismatch, name, ix.name)
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.reset()
	for _, d := range docs {
		ix.add(d.id, d.entries)
	}
	return read, nil
}

type decodedDoc struct {
	id      string
	entries []analyzed
}

func decode(body []byte) (name string, docs []decodedDoc, err error) {
	d := &decoder{s: string(body)}
	name = d.string()
	words := make([]string, d.count(1))
	for i := range words {
		words[i] = d.string()
		if d.err == nil && i > 0 && words[i] <= words[i-1] {
			d.err = fmt.Errorf("%w: terms out of order", ErrCorrupt)
		}
	}
	docs = make([]decodedDoc, d.count(2))
	seen := map[string]bool{}
	for i := range docs {
		docs[i].id = d.string()
		if d.err == nil && (docs[i].id == "" || i > 0 && docs[i].id <= docs[i-1].id) {
			d.err = fmt.Errorf("%w: document IDs empty or out of order", ErrCorrupt)
		}
		docs[i].entries = make([]analyzed, d.count(2))
		for j := range docs[i].entries {
			e := &docs[i].entries[j]
			e.id = d.string()
			if d.err == nil && (e.id == "" || seen[e.id]) {
				d.err = fmt.Errorf("%w: entry ID empty or repeated", ErrCorrupt)
			}
			seen[e.id] = true
			e.terms = make([]termFreq, d.count(2))
			term := uint64(0)
			for k := range e.terms {
				delta, tf := d.uvarint(), d.uvarint()
				term += delta
				if d.err == nil && (k > 0 && delta == 0 || term >= uint64(len(words)) || tf == 0 || tf > 1<<31-1) {
					d.err = fmt.Errorf("%w: bad term reference", ErrCorrupt)
				}
				if d.err != nil {
					return "", nil, d.err
				}
				e.terms[k] = termFreq{words[term], int32(tf)}
			}
			if d.err != nil {
				return "", nil, d.err
			}
		}
	}
	if d.err == nil && len(d.s) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.s))
	}
	if d.err != nil {
		return "", nil, d.err
	}
	return name, docs, nil
}

// Save writes the index to the file at path atomically: it writes a
// temporary file in the same directory, syncs it and renames it over
// path, so path holds either the old index or the new one, never a part.
func (ix *Index) Save(path string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := ix.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("lexical: save: %w", err)
	}
	return nil
}

// Load reads an index saved at path into a new index with opts. The
// analyzer of opts must have the name of the one the index was saved
// with (see ReadFrom).
func Load(path string, opts Options) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lexical: load: %w", err)
	}
	defer f.Close()
	ix := New(opts)
	if _, err := ix.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("lexical: load %s: %w", path, err)
	}
	return ix, nil
}
