package rag

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag/internal/atomicfile"

	"github.com/ragkit-go/rag/lexical"
	"github.com/ragkit-go/rag/store"
)

// LexicalOptions enable the in-process BM25 index that lexical and hybrid
// search use when the store has no full-text search of its own (see
// store.TextSearcher).
type LexicalOptions struct {
	// BM25 configures the index; the zero value is Anserini's BM25 (k1 0.9,
	// b 0.4) with the English analyzer (lowercase, Unicode words, stop
	// words, Porter stemming).
	BM25 lexical.Options
	// Path, when set, is the file the index is kept in: New loads it if it
	// exists, and every Ingest and Delete that changed the index saves it
	// atomically. Keep it beside a persistent store. A document the index
	// lacks but the store holds (after a crash between the two writes, or
	// with a new index file) is added back by the next Ingest of it,
	// without embedding it again.
	Path string
}

// lexicalSide is the in-process BM25 index with what it needs to turn its
// hits into records and filter them: each document's fields and chunks.
// It implements store.TextSearcher.
type lexicalSide struct {
	ix    *lexical.Index
	path  string
	mu    sync.RWMutex
	docs  map[string]*lexDoc
	dirty atomic.Bool
	save  sync.Mutex // one Save at a time
}

type lexDoc struct {
	Hash   string
	Fields store.Record // DocID, Title, Source, Tags, Metadata: what filters read
	Chunks []lexChunk
}

type lexChunk struct {
	Text       string
	Start, End int
	Headings   []string // the chunk's own MetaHeadings, if any
}

var _ store.TextSearcher = (*lexicalSide)(nil)

func init() { gob.Register(time.Time{}) }

func newLexicalSide(o *LexicalOptions) (*lexicalSide, error) {
	l := &lexicalSide{ix: lexical.New(o.BM25), path: o.Path, docs: map[string]*lexDoc{}}
	if o.Path == "" {
		return l, nil
	}
	data, err := os.ReadFile(o.Path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rag: lexical index: %w", err)
	}
	if err := l.read(data); err != nil {
		return nil, fmt.Errorf("rag: lexical index %s: %w", o.Path, err)
	}
	return l, nil
}

const lexMagic = "RAGLEX2\n"

// read loads a file written by writeFile: magic, the index, the documents
// in gob, and last the index's length (so the index is written in one
// pass, its length known only after).
func (l *lexicalSide) read(data []byte) error {
	m := len(lexMagic)
	if len(data) < m+8 || string(data[:m]) != lexMagic {
		return fmt.Errorf("%w: not a lexical index file", lexical.ErrCorrupt)
	}
	n := binary.LittleEndian.Uint64(data[len(data)-8:])
	if n > uint64(len(data)-m-8) {
		return fmt.Errorf("%w: index length %d past the end of the file", lexical.ErrCorrupt, n)
	}
	end := m + int(n)
	if _, err := l.ix.ReadFrom(bytes.NewReader(data[m:end])); err != nil {
		return err
	}
	if err := gob.NewDecoder(bytes.NewReader(data[end : len(data)-8])).Decode(&l.docs); err != nil {
		return fmt.Errorf("%w: documents: %v", lexical.ErrCorrupt, err)
	}
	return nil
}

// persist saves the index if it changed since the last save, atomically.
func (l *lexicalSide) persist() error {
	if l.path == "" || !l.dirty.Load() {
		return nil
	}
	l.save.Lock()
	defer l.save.Unlock()
	if !l.dirty.Swap(false) {
		return nil
	}
	err := l.writeFile()
	if err != nil {
		l.dirty.Store(true)
	}
	return err
}

func (l *lexicalSide) writeFile() error {
	return atomicfile.Write(l.path, func(w io.Writer) error {
		// Index and documents are read under one lock, so they agree.
		l.mu.RLock()
		defer l.mu.RUnlock()
		if _, err := io.WriteString(w, lexMagic); err != nil {
			return err
		}
		n, err := l.ix.WriteTo(w)
		if err != nil {
			return err
		}
		if err := gob.NewEncoder(w).Encode(l.docs); err != nil {
			return err
		}
		return binary.Write(w, binary.LittleEndian, uint64(n))
	})
}

// upsert replaces a document's chunks in the index.
func (l *lexicalSide) upsert(hash string, recs []store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	r0 := recs[0]
	docMeta := r0.Metadata
	if _, ok := docMeta[MetaHeadings]; ok { // per chunk: kept with each chunk
		docMeta = maps.Clone(docMeta)
		delete(docMeta, MetaHeadings)
	}
	d := &lexDoc{Hash: hash, Fields: store.Record{DocID: r0.DocID, Title: r0.Title, Source: r0.Source, Tags: r0.Tags, Metadata: docMeta}}
	entries := make([]lexical.Entry, len(recs))
	d.Chunks = make([]lexChunk, len(recs))
	for i, r := range recs {
		entries[i] = lexical.Entry{ID: r.ID, Text: r.Text}
		d.Chunks[i] = lexChunk{Text: r.Text, Start: r.Start, End: r.End}
		d.Chunks[i].Headings, _ = r.Metadata[MetaHeadings].([]string)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.ix.Upsert(r0.DocID, entries); err != nil {
		return err
	}
	l.docs[r0.DocID] = d
	l.dirty.Store(true)
	return nil
}

func (l *lexicalSide) delete(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ix.Delete(ids...)
	for _, id := range ids {
		delete(l.docs, id)
	}
	l.dirty.Store(true)
}

// hash returns the content hash the index holds for a document.
func (l *lexicalSide) hash(docID string) (string, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	d, ok := l.docs[docID]
	if !ok {
		return "", false
	}
	return d.Hash, true
}

// SearchText runs a BM25 search restricted to records matching filter.
// Results carry no vector; Score is the BM25 score.
func (l *lexicalSide) SearchText(ctx context.Context, query string, k int, filter *store.Filter) ([]store.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	if k <= 0 {
		k = store.DefaultTopK
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var keep lexical.Filter
	if filter != nil {
		keep = func(id, docID string) bool {
			d, ok := l.docs[docID]
			if !ok {
				return false
			}
			if i, ok := chunkIndex(id, d); ok && d.Chunks[i].Headings != nil {
				// This chunk's metadata has its headings besides the
				// document's.
				r := d.Fields
				r.Metadata = maps.Clone(r.Metadata)
				if r.Metadata == nil {
					r.Metadata = map[string]any{}
				}
				r.Metadata[MetaHeadings] = d.Chunks[i].Headings
				return filter.Match(&r)
			}
			return filter.Match(&d.Fields)
		}
	}
	hits := l.ix.Search(query, k, keep)
	out := make([]store.Result, 0, len(hits))
	for _, h := range hits {
		d, ok := l.docs[h.DocID]
		if !ok {
			continue
		}
		i, ok := chunkIndex(h.ID, d)
		if !ok {
			continue
		}
		c := d.Chunks[i]
		r := store.CloneRecord(d.Fields)
		r.ID, r.Chunk, r.Text, r.Start, r.End = h.ID, i, c.Text, c.Start, c.End
		if c.Headings != nil {
			if r.Metadata == nil {
				r.Metadata = map[string]any{}
			}
			r.Metadata[MetaHeadings] = slices.Clone(c.Headings)
		}
		out = append(out, store.Result{Record: r, Score: float32(h.Score)})
	}
	return out, nil
}

// chunkIndex parses the chunk index out of a record ID (RecordID's form)
// and checks it against the document's chunks.
func chunkIndex(id string, d *lexDoc) (int, bool) {
	i, err := strconv.Atoi(id[strings.LastIndexByte(id, '#')+1:])
	return i, err == nil && i >= 0 && i < len(d.Chunks)
}
