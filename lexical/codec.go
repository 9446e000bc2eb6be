package lexical

import (
	"encoding/binary"
	"fmt"

	"github.com/ragkit-go/rag/internal/metacodec"
)

// The binary form of a Store's documents, shared by its snapshot and its
// log. Integers are uvarints (varints where they may be negative), a
// string is its length then its bytes, a metadata map its size then its
// keys in order, each with a type byte and a value:
//
//	doc:   ID, hash, title, source, tags (count, strings), metadata,
//	       chunk count, chunks
//	chunk: ID, chunk index, start, end (varints), text, own metadata,
//	       and in snapshots the packed terms (a string, see packTerms)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// metaTypes are the type bytes of metadata values in the Store's files;
// the layout is internal/metacodec's, shared with the stores' files.
var metaTypes = metacodec.Types{String: 's', Float: 'f', Bool: 'b', Time: 't', Strings: 'l'}

// appendMeta encodes a metadata map of the types store.CheckMetadata
// accepts, in key order.
func appendMeta(b []byte, m map[string]any) []byte {
	out, err := metaTypes.Append(b, m)
	if err != nil {
		panic("lexical: metadata passed validation but cannot be encoded: " + err.Error()) // prepare checks it
	}
	return out
}

// appendDoc encodes a document; packed, when not nil, holds its chunks'
// packed terms.
func appendDoc(b []byte, id string, d *storedDoc, packed []string) []byte {
	b = appendString(b, id)
	b = appendString(b, d.hash)
	b = appendString(b, d.fields.Title)
	b = appendString(b, d.fields.Source)
	b = appendStrings(b, d.fields.Tags)
	b = appendMeta(b, d.fields.Metadata)
	b = binary.AppendUvarint(b, uint64(len(d.chunks)))
	for i := range d.chunks {
		c := &d.chunks[i]
		b = appendString(b, c.id)
		b = binary.AppendVarint(b, int64(c.chunk))
		b = binary.AppendVarint(b, int64(c.start))
		b = binary.AppendVarint(b, int64(c.end))
		b = appendString(b, c.text)
		b = appendMeta(b, c.own)
		if packed != nil {
			b = appendString(b, packed[i])
		}
	}
	return b
}

// decoder reads the binary form from a string, so that the strings it
// returns are substrings of its input, not copies: a snapshot read into
// one string costs one allocation for all its IDs, texts and terms. The
// first error sticks and every read after it returns zero values.
type decoder struct {
	s   string
	err error

	// Blocks the decoded documents are carved from, when a caller expects
	// many (see slabs); nil means one allocation each.
	docSlab   []storedDoc
	chunkSlab []storedChunk
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

// uvarintString decodes a uvarint at the start of s as binary.Uvarint
// does a []byte, returning the value and its length (0: s too short;
// negative: overflow).
func uvarintString(s string) (uint64, int) {
	if len(s) > 0 && s[0] < 0x80 { // most counts, lengths and deltas
		return uint64(s[0]), 1
	}
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		if i == binary.MaxVarintLen64 {
			return 0, -(i + 1)
		}
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// uvarintPair decodes two uvarints at the start of s and returns them
// and their length in bytes, 0 if they are malformed. Hot loops test for
// two one-byte values, the common case in packed terms and postings,
// before calling it: it is too large to be inlined.
func uvarintPair(s string) (x, y uint64, n int) {
	x, k := uvarintString(s)
	if k <= 0 {
		return 0, 0, 0
	}
	y, m := uvarintString(s[k:])
	if m <= 0 {
		return 0, 0, 0
	}
	return x, y, k + m
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := uvarintString(d.s)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *decoder) varint() int {
	ux := d.uvarint() // zig-zag, as binary.AppendVarint writes
	v := int64(ux >> 1)
	if ux&1 != 0 {
		v = ^v
	}
	if v != int64(int(v)) {
		d.fail("bad varint")
		return 0
	}
	return int(v)
}

// count reads a count of items each taking at least min bytes, refusing
// counts the remaining bytes cannot hold.
func (d *decoder) count(min int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.s)/min) {
		d.fail("count %d exceeds the data", v)
		return 0
	}
	return int(v)
}

// string reads a string: a substring of d's input.
func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.fail("string overruns the data")
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.s) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) strings() []string {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

func (d *decoder) meta() map[string]any { return metaTypes.Read(d) }

// The metacodec.Reader methods of decoder.

func (d *decoder) Count() int   { return d.count(1) }
func (d *decoder) Text() string { return d.string() }
func (d *decoder) Err() error   { return d.err }

func (d *decoder) Next(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.s) {
		d.fail("truncated")
		return nil
	}
	b := []byte(d.s[:n])
	d.s = d.s[n:]
	return b
}

func (d *decoder) Fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
}

// slabs makes the next documents decoded come out of blocks sized for
// docs documents of entries chunks in all, instead of an allocation each:
// a snapshot's hundreds of thousands of documents are then a few objects
// for the garbage collector. A block lives as long as any document in it.
func (d *decoder) slabs(docs, entries int) {
	d.docSlab = make([]storedDoc, docs)
	d.chunkSlab = make([]storedChunk, 0, entries)
}

func (d *decoder) newDoc() *storedDoc {
	if len(d.docSlab) == 0 {
		return &storedDoc{}
	}
	p := &d.docSlab[0]
	d.docSlab = d.docSlab[1:]
	return p
}

func (d *decoder) newChunks(n int) []storedChunk {
	if cap(d.chunkSlab)-len(d.chunkSlab) < n {
		return make([]storedChunk, n)
	}
	start := len(d.chunkSlab)
	d.chunkSlab = d.chunkSlab[:start+n]
	return d.chunkSlab[start : start+n : start+n]
}

// doc decodes a document written by appendDoc; withPacked says whether
// chunks carry packed terms, returned in packed (substrings of d's input).
func (d *decoder) doc(withPacked bool) (id string, doc *storedDoc, packed []string) {
	id = d.string()
	doc = d.newDoc()
	doc.hash = d.string()
	doc.fields.DocID = id
	doc.fields.Title = d.string()
	doc.fields.Source = d.string()
	doc.fields.Tags = d.strings()
	doc.fields.Metadata = d.meta()
	n := d.count(6)
	if d.err != nil {
		return "", nil, nil
	}
	if id == "" || n == 0 {
		d.fail("document without ID or chunks")
		return "", nil, nil
	}
	doc.chunks = d.newChunks(n)
	if withPacked {
		packed = make([]string, n)
	}
	for i := range n {
		c := storedChunk{id: d.string(), chunk: d.varint(), start: d.varint(), end: d.varint(), text: d.string(), own: d.meta()}
		if withPacked {
			packed[i] = d.string()
		}
		if d.err != nil {
			return "", nil, nil
		}
		if c.id == "" {
			d.fail("chunk without ID")
			return "", nil, nil
		}
		doc.setChunk(i, c)
	}
	return id, doc, packed
}
