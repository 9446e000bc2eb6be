package lexical

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ragkit-go/rag/store"
)

// The format package rag wrote at LexicalOptions.Path before Store
// existed: the whole index rewritten on every change.
//
//	"RAGLEX2\n", an Index file (WriteTo), the documents in gob
//	(map[string]*legacyDoc), and last the Index file's length (uint64 LE).
//
// rag kept each chunk's heading path apart from the document's metadata;
// it goes back under legacyHeadings, the key rag gave it (rag.MetaHeadings).
const (
	legacyMagic    = "RAGLEX2\n"
	legacyHeadings = "rag_headings"
)

type legacyDoc struct {
	Hash   string
	Fields store.Record
	Chunks []legacyChunk
}

type legacyChunk struct {
	Text       string
	Start, End int
	Headings   []string
}

func init() { gob.Register(time.Time{}) }

// snapMagicV3 begins a snapshot of version 3: the current format without
// the entry and postings counts and the postings offset (see files.go).
const snapMagicV3 = "RAGLEX3\n"

// readOld reads a file of an older format into the empty s: a version 3
// snapshot, read as it is and rewritten in the current format in the
// background once the Store is open (so that the next reopen is a fast
// one), or a file package rag wrote, rewritten now (the logs that follow
// need a snapshot of their generation).
func (s *Store) readOld(f *files, data []byte) error {
	if !bytes.HasPrefix(data, []byte(legacyMagic)) {
		gen, err := s.readSnapshotV3(data)
		f.gen, f.snapSize, f.oldSnap = gen, int64(len(data)), true
		return err
	}
	if err := s.readLegacy(data); err != nil {
		return err
	}
	s.disk = f
	if err := f.writeSnapshot(s.capture()); err != nil {
		return fmt.Errorf("rewriting the old format: %w", err)
	}
	return nil
}

// readSnapshotV3 loads a version 3 snapshot into the empty s and returns
// its generation.
func (s *Store) readSnapshotV3(data []byte) (uint64, error) {
	if len(data) < len(snapMagicV3)+4 || string(data[:len(snapMagicV3)]) != snapMagicV3 {
		return 0, fmt.Errorf("%w: not a lexical store snapshot", ErrCorrupt)
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return s.loadSnapshot(string(body[len(snapMagicV3):]), nil)
}

// readLegacy loads a file of the old format into the empty s.
func (s *Store) readLegacy(data []byte) error {
	m := len(legacyMagic)
	if len(data) < m+8 {
		return fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	n := binary.LittleEndian.Uint64(data[len(data)-8:])
	if n > uint64(len(data)-m-8) {
		return fmt.Errorf("%w: index length %d past the end of the file", ErrCorrupt, n)
	}
	end := m + int(n)
	old := New(Options{Analyzer: s.ix.analyzer})
	old.name = s.ix.name
	if _, err := old.ReadFrom(bytes.NewReader(data[m:end])); err != nil {
		return err
	}
	var docs map[string]*legacyDoc
	if err := gob.NewDecoder(bytes.NewReader(data[end : len(data)-8])).Decode(&docs); err != nil {
		return fmt.Errorf("%w: documents: %v", ErrCorrupt, err)
	}
	preps := make([]prepared, 0, len(docs))
	for _, id := range slices.Sorted(maps.Keys(docs)) {
		d := docs[id]
		ords := old.byDoc[id]
		if d == nil || len(ords) != len(d.Chunks) {
			return fmt.Errorf("%w: document %q: index and documents disagree", ErrCorrupt, id)
		}
		recs := make([]store.Record, len(d.Chunks))
		for i, c := range d.Chunks {
			r := d.Fields
			r.ID, r.DocID, r.Chunk, r.Text, r.Start, r.End = old.ids[ords[i]], id, i, c.Text, c.Start, c.End
			if c.Headings != nil {
				r.Metadata = maps.Clone(r.Metadata)
				if r.Metadata == nil {
					r.Metadata = map[string]any{}
				}
				r.Metadata[legacyHeadings] = c.Headings
			}
			recs[i] = r
		}
		if err := store.CheckMetadata(store.NormalizeMetadata(d.Fields.Metadata)); err != nil {
			return fmt.Errorf("%w: document %q: %v", ErrCorrupt, id, err)
		}
		// The old file's index has the analysed terms: no analysis again.
		p := prepared{id: id, doc: buildDoc(d.Hash, recs), entries: make([]analyzed, len(ords))}
		for i, ord := range ords {
			e := analyzed{id: old.ids[ord]}
			eachTerm(old.packed[ord], len(old.words), func(t, tf int32) { e.terms = append(e.terms, termFreq{old.words[t], tf}) })
			slices.SortFunc(e.terms, func(a, b termFreq) int { return strings.Compare(a.term, b.term) })
			p.entries[i] = e
		}
		preps = append(preps, p)
	}
	if err := s.checkOwners(preps); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	s.applyAll(preps)
	return nil
}
