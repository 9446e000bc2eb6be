package lexical

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ragkit-go/rag/internal/tenancy"
	"github.com/ragkit-go/rag/store"
)

// StoreOptions configures a Store. The zero value is an in-memory Store
// with Anserini's BM25.
type StoreOptions struct {
	// BM25 configures the index.
	BM25 Options
	// Path, when set, is the snapshot file the Store is kept in; the
	// writes since the snapshot go to logs beside it (Path + ".log.N").
	// NewStore reads them if they exist. Every Upsert and Delete that
	// returns nil is durable; see Store.
	Path string
}

// ErrClosed: the Store was closed.
var ErrClosed = errors.New("lexical: store closed")

// Store is a BM25 index of store records kept beside a vector store that
// has no full-text search of its own: it implements store.TextSearcher
// with the whole store filter language, and remembers each document's
// content hash and records (text, offsets, title, source, tags, metadata),
// so that a search returns whole records.
//
// Persistence: with StoreOptions.Path, every write is appended to a log
// and synced before it returns, so a write that returned survives a crash;
// a crash during a write leaves the log with a torn last record, which the
// next NewStore ignores: the write is lost whole, never half a document.
// When the log has grown past a fraction of the snapshot, a background
// goroutine writes a new snapshot (the log goes on taking writes
// meanwhile) and removes the logs it folded in. Chunk texts are kept, in
// memory and in the files: SearchText returns them and the store.Store
// contract has no way to fetch a record by ID. A reopen keeps what it read
// of the snapshot as one block that the records point into, so it loads
// without copying them; the memory of a document replaced or deleted
// after a reopen comes back at the next reopen, not at once.
//
// Concurrency: all methods may be called concurrently. Writes are applied
// one at a time, in the order their log records were written; a search
// sees each document as it was before a write or after it.
//
// Ownership: the Store copies what it keeps; the caller may modify what it
// passed in and what it gets back.
type Store struct {
	ix *Index

	mu      sync.RWMutex // guards the fields below, and ix's content with them
	docs    map[string]*storedDoc
	fields  map[string]int // field name -> number of records that have it
	records int

	wmu  sync.Mutex // one write at a time: log order is apply order
	disk *files     // nil when in memory

	noFold bool // tests: filters are not simplified

	opts    StoreOptions               // as NewStore got them
	tenants tenancy.Partitions[*Store] // tenant.go; empty in a tenant's store
	scoped  bool                       // a tenant's store: Close is its base's
}

// storedDoc is one document: immutable once built (a write replaces it).
type storedDoc struct {
	hash   string
	fields store.Record // DocID, Title, Source, Tags, Metadata common to all chunks
	chunks []storedChunk
}

type storedChunk struct {
	id         string
	chunk      int
	start, end int
	text       string
	own        map[string]any // metadata keys of this chunk only, or nil
	rec        *store.Record  // fields with own merged in, for filters; nil when own is nil
}

var _ store.TextSearcher = (*Store)(nil)

// NewStore returns a Store with opts. With opts.Path set it reads the
// snapshot and logs there, and also files that package rag wrote at
// LexicalOptions.Path before this type existed (which it rewrites in the
// new format). A damaged file is an error matching ErrCorrupt, a file of
// another analyzer ErrAnalyzerMismatch.
func NewStore(opts StoreOptions) (*Store, error) {
	s := &Store{ix: New(opts.BM25), docs: map[string]*storedDoc{}, fields: map[string]int{}, opts: opts}
	if opts.Path == "" {
		return s, nil
	}
	if err := s.open(opts.Path); err != nil {
		return nil, err
	}
	return s, nil
}

// Close waits for a background snapshot to finish and closes the log. It
// returns the error of the last background snapshot, if it failed. A
// closed Store still answers searches; writes fail with ErrClosed. Close
// closes the tenants' stores too (see Scope), and later Scope calls fail;
// the Close of a tenant's store does nothing.
func (s *Store) Close() error {
	return s.tenants.CloseBase(s.scoped, s, (*Store).close)
}

// close closes s alone, not its tenants.
func (s *Store) close() error {
	if s.disk == nil {
		return nil
	}
	return s.disk.close(s)
}

// Len returns the number of documents in the store.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.docs)
}

// Hash returns the content hash stored with a document, and whether the
// store holds the document.
func (s *Store) Hash(docID string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.docs[docID]
	if !ok {
		return "", false
	}
	return d.hash, true
}

// prepared is a document checked and analysed for a write, before any
// lock is taken.
type prepared struct {
	id      string
	doc     *storedDoc // nil: delete
	entries []analyzed
}

// Upsert writes documents: each replaces every record stored under its ID,
// atomically; a document with no records is deleted. Texts are analysed
// before anything is locked. With a Path, the batch is one log record,
// synced before Upsert returns.
//
// It fails, writing nothing, with an error matching store.ErrInvalidRecord
// if a document has no ID, a record no ID, names another document or
// carries metadata of an unsupported type, and with ErrDuplicateID if an
// entry ID repeats or belongs to another document.
func (s *Store) Upsert(docs ...store.StoredDocument) error {
	preps := make([]prepared, len(docs))
	for i := range docs {
		p, err := s.prepare(&docs[i])
		if err != nil {
			return err
		}
		preps[i] = p
	}
	return s.write(preps)
}

// Delete removes the named documents. Unknown documents are ignored.
func (s *Store) Delete(docIDs ...string) error {
	if len(docIDs) == 0 {
		return nil
	}
	preps := make([]prepared, len(docIDs))
	for i, id := range docIDs {
		preps[i] = prepared{id: id}
	}
	return s.write(preps)
}

func (s *Store) prepare(d *store.StoredDocument) (prepared, error) {
	if d.ID == "" {
		return prepared{}, fmt.Errorf("%w: document without ID", store.ErrInvalidRecord)
	}
	p := prepared{id: d.ID}
	if len(d.Records) == 0 {
		return p, nil
	}
	entries := make([]Entry, len(d.Records))
	for i := range d.Records {
		r := &d.Records[i]
		if r.ID == "" {
			return prepared{}, fmt.Errorf("%w: record %d of document %q has no ID", store.ErrInvalidRecord, i, d.ID)
		}
		if r.DocID != d.ID {
			return prepared{}, fmt.Errorf("%w: record %q names document %q, written under %q", store.ErrInvalidRecord, r.ID, r.DocID, d.ID)
		}
		if err := store.CheckMetadata(store.NormalizeMetadata(r.Metadata)); err != nil {
			return prepared{}, fmt.Errorf("record %q: %w", r.ID, err)
		}
		entries[i] = Entry{ID: r.ID, Text: r.Text}
	}
	var err error
	if p.entries, err = s.ix.analyze(d.ID, entries); err != nil {
		return prepared{}, err
	}
	p.doc = buildDoc(d.Hash, d.Records)
	return p, nil
}

// buildDoc copies records into a storedDoc: the metadata every record
// shares goes to the document, the rest stays with its chunk (a chunk's
// heading path, say). Title, Source and Tags are the first record's: the
// store.Store contract has them copied from the document.
func buildDoc(hash string, recs []store.Record) *storedDoc {
	metas := make([]map[string]any, len(recs))
	for i := range recs {
		metas[i] = store.NormalizeMetadata(recs[i].Metadata)
	}
	var common map[string]any
	for k, v := range metas[0] {
		shared := true
		for _, m := range metas[1:] {
			if w, ok := m[k]; !ok || !sameValue(v, w) {
				shared = false
				break
			}
		}
		if shared {
			if common == nil {
				common = make(map[string]any, len(metas[0]))
			}
			common[k] = v
		}
	}
	r0 := &recs[0]
	d := &storedDoc{hash: hash, fields: store.Record{DocID: r0.DocID, Title: r0.Title, Source: r0.Source, Tags: slices.Clone(r0.Tags), Metadata: common}}
	d.chunks = make([]storedChunk, len(recs))
	for i := range recs {
		r := &recs[i]
		c := storedChunk{id: r.ID, chunk: r.Chunk, start: r.Start, end: r.End, text: r.Text}
		for k, v := range metas[i] {
			if _, ok := common[k]; !ok {
				if c.own == nil {
					c.own = map[string]any{}
				}
				c.own[k] = v
			}
		}
		d.setChunk(i, c)
	}
	return d
}

// setChunk stores c as chunk i, with its filter record when it has
// metadata of its own.
func (d *storedDoc) setChunk(i int, c storedChunk) {
	if c.own != nil {
		r := d.fields
		r.Metadata = maps.Clone(d.fields.Metadata)
		if r.Metadata == nil {
			r.Metadata = make(map[string]any, len(c.own))
		}
		maps.Copy(r.Metadata, c.own)
		c.rec = &r
	}
	d.chunks[i] = c
}

// filterRecord is what filters see of chunk i.
func (d *storedDoc) filterRecord(i int) *store.Record {
	if r := d.chunks[i].rec; r != nil {
		return r
	}
	return &d.fields
}

// sameValue compares two normalised metadata values.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == y.Location()
	}
	return a == b
}

// write logs a batch and applies it. The batch is checked against the
// index first, so that a log record never holds a write that fails.
func (s *Store) write(preps []prepared) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.checkOwners(preps); err != nil {
		return err
	}
	if s.disk != nil {
		if err := s.disk.append(preps); err != nil {
			return err
		}
	}
	s.applyAll(preps)
	if s.disk != nil {
		s.disk.maybeSnapshot(s)
	}
	return nil
}

func (s *Store) applyAll(preps []prepared) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range preps {
		s.apply(&preps[i])
	}
}

// checkOwners fails with ErrDuplicateID if an entry ID of the batch
// belongs to another document when its write comes: in the index, or
// given by an earlier write of the batch. Caller holds wmu, so the index
// does not change before the batch is applied.
func (s *Store) checkOwners(preps []prepared) error {
	s.ix.mu.RLock()
	defer s.ix.mu.RUnlock()
	if len(preps) == 1 {
		return s.ix.checkOwner(preps[0].id, preps[0].entries)
	}
	owner := map[string]string{}   // entry ID -> owner after the writes so far; "" freed
	given := map[string][]string{} // document -> entry IDs earlier writes gave it
	for i := range preps {
		p := &preps[i]
		for _, ord := range s.ix.byDoc[p.id] {
			if _, ok := owner[s.ix.ids[ord]]; !ok {
				owner[s.ix.ids[ord]] = ""
			}
		}
		for _, id := range given[p.id] {
			owner[id] = ""
		}
		given[p.id] = given[p.id][:0]
		for _, e := range p.entries {
			o, ok := owner[e.id]
			if !ok {
				if ord, in := s.ix.byID[e.id]; in {
					o = s.ix.docIDs[ord]
				}
			}
			if o != "" && o != p.id {
				return fmt.Errorf("%w: %q belongs to document %q", ErrDuplicateID, e.id, o)
			}
			owner[e.id] = p.id
			given[p.id] = append(given[p.id], e.id)
		}
	}
	return nil
}

// apply makes one checked write visible. Caller holds wmu and mu.
func (s *Store) apply(p *prepared) {
	if old, ok := s.docs[p.id]; ok {
		s.count(old, -1)
		delete(s.docs, p.id)
	}
	s.ix.mu.Lock()
	s.ix.remove(p.id)
	if p.doc != nil {
		s.ix.add(p.id, p.entries)
	}
	s.ix.maybeCompact()
	s.ix.mu.Unlock()
	if p.doc != nil {
		s.docs[p.id] = p.doc
		s.count(p.doc, 1)
	}
}

// count adds sign to the field counts of every record of d.
func (s *Store) count(d *storedDoc, sign int) {
	n := len(d.chunks)
	s.records += sign * n
	add := func(field string, k int) {
		if s.fields[field] += sign * k; s.fields[field] == 0 {
			delete(s.fields, field)
		}
	}
	if d.fields.Title != "" {
		add(store.FieldTitle, n)
	}
	if d.fields.Source != "" {
		add(store.FieldSource, n)
	}
	if len(d.fields.Tags) > 0 {
		add(store.FieldTags, n)
	}
	for k := range d.fields.Metadata {
		add(k, n)
	}
	for i := range d.chunks {
		for k := range d.chunks[i].own {
			add(k, 1)
		}
	}
}

// SearchText returns up to k records matching filter (nil matches all),
// best first by BM25 score; ties are broken by record ID. Results carry no
// vector; Score is the BM25 score. An invalid filter is an error matching
// store.ErrInvalidFilter.
func (s *Store) SearchText(ctx context.Context, query string, k int, filter *store.Filter) ([]store.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	if k <= 0 {
		k = store.DefaultTopK
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	filter, always := s.simplify(filter)
	if always == matchesNothing {
		return []store.Result{}, nil
	}
	var keep func(int32) bool
	if filter != nil {
		keep = func(ord int32) bool {
			d := s.docs[s.ix.docIDs[ord]]
			return d != nil && filter.Match(d.filterRecord(int(s.ix.pos[ord])))
		}
	}
	hits := s.ix.search(query, k, keep)
	out := make([]store.Result, 0, len(hits))
	for _, h := range hits {
		d := s.docs[h.DocID]
		if d == nil {
			continue
		}
		c := &d.chunks[h.pos]
		r := store.CloneRecord(d.fields)
		if c.rec != nil {
			r.Metadata = store.NormalizeMetadata(c.rec.Metadata)
		}
		r.ID, r.Chunk, r.Text, r.Start, r.End = c.id, c.chunk, c.text, c.start, c.end
		out = append(out, store.Result{Record: r, Score: float32(h.Score)})
	}
	return out, nil
}

// DocumentIDs returns, sorted, the IDs of the documents with at least one
// record matching filter (nil matches all). An invalid filter is an error
// matching store.ErrInvalidFilter.
func (s *Store) DocumentIDs(ctx context.Context, filter *store.Filter) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	filter, always := s.simplify(filter)
	ids := []string{}
	if always == matchesNothing {
		return ids, nil
	}
	for id, d := range s.docs {
		for i := range d.chunks {
			if filter.Match(d.filterRecord(i)) {
				ids = append(ids, id)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}
