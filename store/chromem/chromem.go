// Package chromem is the default store.Store: an exact, in-process vector
// store built on github.com/philippgille/chromem-go, in memory or
// persisted to a directory.
//
// chromem-go does the vector work (it keeps the normalised vectors and
// computes the exhaustive, parallel dot-product top n). This package adds
// what the store.Store contract asks for and chromem-go does not provide:
//
//   - Typed filters. chromem-go's metadata is map[string]string and its
//     where clause is string equality only. The store keeps each record's
//     typed fields itself (in memory, next to chromem-go's vectors) and
//     applies store.Filter exactly. It first finds the matching records
//     (only within the named documents when the filter has an _id equality
//     or membership at its top level). When they are few (at most 1,024,
//     or a quarter of the store) it scores them directly, with chromem-go's
//     arithmetic. Otherwise it asks chromem-go for the top n, narrowed
//     natively where it can (equality on _id, _source and _title goes into
//     the where clause), with n sized so that about 2k candidates match,
//     and asks again with a larger n until the k-th match scores strictly
//     above the lowest score fetched (so no record left out can enter the
//     top k) or chromem-go runs out of records. Results equal
//     store.BruteForce.
//   - Deterministic order: ties are broken by record ID.
//   - Per-document atomic replace: a document's records are replaced under
//     a write lock, searches hold a read lock, so a search sees a document
//     as it was before a write or after it, never half of it.
//   - Dimension checks, NaN/Inf rejection, defensive copies, zero vectors
//     (score 0, where chromem-go would compute NaN). The pipeline writes
//     with UpsertTakingVectors (store.VectorTaker): then the store keeps
//     the pipeline's own vectors, scaled to unit length in place, instead
//     of unit copies.
//   - Crash-consistent persistence. chromem-go's own persistence writes one
//     gob file per record, named by 32 bits of a hash (files of different
//     records collide at scale) and written in place (a crash leaves a torn
//     file that makes the whole DB fail to open, or half a document). This
//     store instead commits each write as one checksummed record of a log,
//     one fsync for the whole write, and later writes one file per
//     document, holding all its records, to a temporary file that is synced
//     and then renamed over the old one: a document on disk is always one
//     whole version. See Options.Path.
package chromem

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"

	cg "github.com/philippgille/chromem-go"

	"github.com/ragkit-go/rag/internal/tenancy"
	"github.com/ragkit-go/rag/internal/vecmath"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/internal/wal"
)

// Errors of this package. Errors of the store.Store contract are the
// sentinels of package store (store.ErrDimensionMismatch and the others).
var (
	// ErrLocked: another Store (in this process or another) has the
	// directory open.
	ErrLocked = errors.New("chromem: store directory is in use by another store")
	// ErrCorrupt: a file in the store directory cannot be read back.
	ErrCorrupt = errors.New("chromem: corrupt store file")
	// ErrInvalidOptions: Options are unusable (say, a collection name that
	// is not a safe directory name).
	ErrInvalidOptions = errors.New("chromem: invalid options")
)

// Options configures New. The zero value is an in-memory store.
type Options struct {
	// Path is the directory the store persists to. Empty means an
	// in-memory store, gone when the process exits. The directory is
	// created if needed; one Store at a time may have it open (New returns
	// ErrLocked otherwise, on Unix).
	//
	// Every Upsert and Delete is durable when it returns, by one fsync for
	// the whole call: the documents are appended, as one record, to a log
	// in the collection's directory, which is synced. The log is the
	// documents' durable form until it has grown to 256 MiB; then each
	// document is written, in the background, to a file of its own
	// (through a synced temporary file renamed over its previous version)
	// and the log is removed. A crash (even SIGKILL or power loss) in the
	// middle of a write leaves every document either at its old version or
	// at its new one: New replays the log, dropping a torn last record
	// whole, and removes the leftovers of unfinished file writes.
	Path string

	// Collection names the collection, a sub-directory of Path, so several
	// stores can share one Path. Empty means "rag". It must be a safe
	// directory name: letters, digits, '_', '-' and '.', not starting with
	// '.'.
	Collection string

	// Compress gzips the document files. Files are readable whatever this
	// setting was when they were written.
	Compress bool

	// NoSync skips the fsync calls and the log: each document is written
	// straight to its file. Writes stay atomic against a crash of the
	// process but may be lost, or come back torn, after a crash of the
	// machine. For bulk loads that can be redone.
	NoSync bool
}

// Store is a store.Store on chromem-go. See the package documentation.
//
// Concurrency: all methods may be called concurrently. Writers (Upsert,
// Delete) are serialized from their write to disk on (an Upsert checks,
// normalises and encodes its batch before, in parallel with other
// writers); searches run in parallel with each other and with the disk
// work of a writer, and wait only while a writer swaps the records of the
// documents it has written, under an RWMutex.
type Store struct {
	// writeMu serializes writers' disk work and the swap that follows it.
	writeMu sync.Mutex

	// mu guards everything below and every call into coll: writers hold
	// it exclusively to swap documents, searches hold it shared.
	mu      sync.RWMutex
	coll    *cg.Collection
	docs    map[string]*docEntry // document ID -> its records
	recs    map[string]*recEntry // chromem ID -> record
	zeros   map[string]struct{}  // chromem IDs of zero vectors, kept out of coll
	dim     int                  // 0 until the first record
	nrec    int
	closed  bool
	persist *disk     // nil in memory
	glog    *groupLog // nil in memory and with NoSync; set by New, its state guarded by writeMu
	path    string    // Options.Path

	opts    Options                    // as New completed them
	tenants tenancy.Partitions[*Store] // tenant.go; empty in a tenant's store
	scoped  bool                       // a tenant's store: Close is its base's
}

var _ store.VectorTaker = (*Store)(nil)

// docEntry is the per-document index.
type docEntry struct {
	hash string
	keys []string // chromem IDs of its records, in order
}

// recEntry is a record as the store keeps it: every field but the vector
// (chromem-go holds the unit vector), plus the vector's length so the
// original can be given back.
type recEntry struct {
	rec  store.Record // Vector is nil
	unit []float32    // the normalised vector, shared with chromem-go; nil for a zero vector
	norm float64
}

// key is the chromem-go ID of the i-th record of a document. Namespacing by
// document keeps two documents from ever overwriting each other's records.
func key(docID string, i int) string { return docID + "\x00" + strconv.Itoa(i) }

var collectionName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)

// New opens a store: in memory when opts.Path is empty, else persisted in
// opts.Path, loading what is already there.
func New(opts Options) (*Store, error) {
	if opts.Collection == "" {
		opts.Collection = "rag"
	}
	s := &Store{
		docs:  make(map[string]*docEntry),
		recs:  make(map[string]*recEntry),
		zeros: make(map[string]struct{}),
	}
	db := cg.NewDB()
	coll, err := db.CreateCollection(opts.Collection, nil, s.unitOf)
	if err != nil {
		return nil, fmt.Errorf("chromem: %w", err)
	}
	s.coll = coll
	s.path = opts.Path
	s.opts = opts
	if opts.Path == "" {
		return s, nil
	}
	if !collectionName.MatchString(opts.Collection) {
		return nil, fmt.Errorf("%w: collection name %q is not a safe directory name", ErrInvalidOptions, opts.Collection)
	}
	d, err := openDisk(filepath.Join(opts.Path, opts.Collection), opts.Compress, !opts.NoSync)
	if err != nil {
		return nil, err
	}
	s.persist = d
	if err := s.load(); err != nil {
		d.close()
		return nil, err
	}
	return s, nil
}

// Close releases the store. A persistent store has nothing unsaved: Close
// waits for a background writing of document files to finish, closes the
// log (left on disk for New to replay) and releases the directory lock.
// It returns an error if the background writing failed. It closes the
// tenants' stores too (see Scope); the Close of a tenant's store does
// nothing. Methods called after Close return an error matching
// store.ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	return s.tenants.CloseBase(s.scoped, s, (*Store).close)
}

// close closes s alone, not its tenants.
func (s *Store) close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.coll, s.docs, s.recs, s.zeros = nil, nil, nil, nil
	var err error
	if s.glog != nil {
		err = s.glog.close()
	}
	if s.persist != nil {
		if cerr := s.persist.close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Len returns the number of records in the store.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nrec
}

// Path returns Options.Path, empty for an in-memory store.
func (s *Store) Path() string { return s.path }

// Dimensions returns the dimension of the vectors in the store, 0 while
// no vector was ever written.
func (s *Store) Dimensions() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dim
}

// prepared is a validated document ready to be applied: its records
// copied and split into what chromem-go keeps (the unit vectors) and what
// the store keeps.
type prepared struct {
	id   string
	hash string
	recs []*recEntry
	// vecs are the vectors as written, kept only until the document is
	// saved (the file holds the exact vectors) and its unit vectors are
	// set; in Upsert, the caller's.
	vecs [][]float32
}

// prepare takes ownership of d's records, which must not alias the
// caller's but for their vectors; ss are the sums of the squares of the
// records' vectors (vecmath.SumSquares). The unit vectors are left for
// setUnits.
func prepare(d store.StoredDocument, ss []float64) prepared {
	n := len(d.Records)
	p := prepared{id: d.ID, hash: d.Hash, recs: make([]*recEntry, n), vecs: make([][]float32, n)}
	for i, c := range d.Records {
		p.vecs[i] = c.Vector
		c.Vector = nil
		p.recs[i] = &recEntry{rec: c, norm: math.Sqrt(ss[i])}
	}
	return p
}

// setUnits sets the records' unit vectors, scaling p.vecs in place when
// take is set (the store owns them), into copies otherwise. A zero vector
// has none.
func (p *prepared) setUnits(take bool) {
	for i, e := range p.recs {
		if e.norm == 0 {
			continue
		}
		v := p.vecs[i]
		u := v
		if !take {
			u = make([]float32, len(v))
		}
		scale(u, v, 1/e.norm)
		e.unit = u
	}
}

// scale sets u[i] = v[i]*inv, computed in float64; u and v may be the
// same slice.
func scale(u, v []float32, inv float64) {
	u = u[:len(v)]
	for i, x := range v {
		u[i] = float32(float64(x) * inv)
	}
}

// normalize returns v scaled to length 1, computed in float64, and v's
// length; nil and 0 for a zero vector.
func normalize(v []float32) ([]float32, float64) {
	ss := vecmath.SumSquares(v)
	if ss == 0 {
		return nil, 0
	}
	n := math.Sqrt(ss)
	u := make([]float32, len(v))
	scale(u, v, 1/n) // a multiplication a component, not a division
	return u, n
}

func (s *Store) checkOpen() error {
	if s.closed {
		return store.ErrClosed
	}
	return nil
}

// Upsert writes documents, each replacing every record previously stored
// under its ID (see store.Store). The batch is validated before anything
// is written. A persistent store makes the documents durable before they
// become visible to searches. With fsync on (see Options.NoSync) the call
// is one log record, written entirely or not at all; with NoSync, if
// writing one document fails, the documents before it are written and the
// error names the one that failed.
func (s *Store) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	return s.upsert(ctx, docs, false)
}

// UpsertTakingVectors is Upsert, keeping the records' vectors (scaled to
// unit length in place) instead of copies: see store.VectorTaker. If it
// fails, the vectors are as they were; with NoSync, the documents written
// before the failure keep copies.
func (s *Store) UpsertTakingVectors(ctx context.Context, docs []store.StoredDocument) error {
	return s.upsert(ctx, docs, true)
}

func (s *Store) upsert(ctx context.Context, docs []store.StoredDocument, take bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	batch := make([]store.StoredDocument, len(docs))
	for i, d := range docs {
		// Copy and normalise first: CheckDocuments then sees the metadata
		// as it will be stored (integers as float64). The vectors are not
		// copied: Upsert only reads them, during this call (normalised
		// into the store's own unit vectors, and encoded to the log).
		c := store.StoredDocument{ID: d.ID, Hash: d.Hash, Records: make([]store.Record, len(d.Records))}
		for j, r := range d.Records {
			v := r.Vector
			r.Vector = nil
			c.Records[j] = store.CloneRecord(r)
			c.Records[j].Vector = v
		}
		batch[i] = c
	}
	// Validate, normalise (into copies: taken vectors are scaled only once
	// the write stands, below) and encode before taking writeMu: a
	// concurrent writer's fsync overlaps this work.
	s.mu.RLock()
	dim, closed := s.dim, s.closed
	s.mu.RUnlock()
	if closed {
		return fmt.Errorf("chromem: upsert: %w", store.ErrClosed)
	}
	newDim, ss, err := store.CheckDocumentsSums(batch, dim)
	if err != nil {
		return fmt.Errorf("chromem: upsert: %w", err)
	}
	ps := make([]prepared, len(batch))
	for i, d := range batch {
		ps[i] = prepare(d, ss[:len(d.Records)])
		ss = ss[len(d.Records):]
		if !take {
			ps[i].setUnits(false)
		}
	}
	var rec []byte
	if s.glog != nil {
		if rec, err = appendLogRecord(nil, ps, newDim, s.persist.compress); err != nil {
			return err
		}
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	dim, closed = s.dim, s.closed
	s.mu.RUnlock()
	if closed {
		return fmt.Errorf("chromem: upsert: %w", store.ErrClosed)
	}
	if hasRecords(batch) && dim > 0 && newDim != dim {
		// Another writer set the dimension since the batch was checked.
		return fmt.Errorf("chromem: upsert: %w", &store.DimensionError{Want: dim, Got: newDim})
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.persist != nil && dim == 0 && newDim > 0 {
		if err = s.persist.saveDimensions(newDim); err != nil {
			return err
		}
	}
	written, err := s.persistDocs(ctx, ps, newDim, rec)
	if take {
		// Only now, when the write is certain to stand (the log record,
		// or the documents' files, hold the exact vectors): a failed call
		// leaves the caller's vectors as they were, and keeps copies of
		// those of the documents it wrote.
		for i := range written {
			written[i].setUnits(err == nil)
		}
	}
	s.mu.Lock()
	if s.dim == 0 {
		s.dim = newDim
	}
	for i := range written {
		s.apply(&written[i])
	}
	s.mu.Unlock()
	return err
}

func hasRecords(docs []store.StoredDocument) bool {
	for i := range docs {
		if len(docs[i].Records) > 0 {
			return true
		}
	}
	return false
}

// persistDocs writes documents to disk, in order, and returns those it
// wrote. With the group log, rec is their log record (appendLogRecord):
// the whole call is one log record, durable by one fsync, and written
// entirely or not at all. An error from the log breaks the store for
// writing: every later write fails too. The caller holds writeMu.
func (s *Store) persistDocs(ctx context.Context, ps []prepared, dim int, rec []byte) ([]prepared, error) {
	if s.persist == nil {
		return ps, nil
	}
	g := s.glog
	if g == nil {
		n, err := s.persist.writeDocs(ctx, ps, dim)
		return ps[:n], err
	}
	if err := g.collect(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := g.commit(rec); err != nil {
		return nil, err
	}
	return ps, nil
}

// apply swaps a document's records. The caller holds s.mu exclusively.
func (s *Store) apply(p *prepared) {
	ctx := context.Background()
	if old, ok := s.docs[p.id]; ok {
		var inColl []string
		for _, k := range old.keys {
			if s.recs[k].unit != nil {
				inColl = append(inColl, k)
			}
			delete(s.recs, k)
			delete(s.zeros, k)
		}
		if len(inColl) > 0 {
			// Cannot fail: ids are given and whereDocument is empty.
			_ = s.coll.Delete(ctx, nil, nil, inColl...)
		}
		s.nrec -= len(old.keys)
		delete(s.docs, p.id)
	}
	if len(p.recs) == 0 {
		return
	}
	e := &docEntry{hash: p.hash, keys: make([]string, len(p.recs))}
	for i, r := range p.recs {
		k := key(p.id, i)
		e.keys[i] = k
		s.recs[k] = r
		if r.unit == nil {
			s.zeros[k] = struct{}{} // scored 0 by the store, not by chromem-go
			continue
		}
		// Cannot fail: the ID and the content are set, and unitOf
		// returns the unit vector, which chromem-go keeps as it is.
		_ = s.coll.AddDocument(ctx, cg.Document{ID: k, Metadata: nativeMetadata(&r.rec), Content: k})
	}
	s.docs[p.id] = e
	s.nrec += len(p.recs)
}

// unitOf is the collection's EmbeddingFunc: chromem-go asks it for the
// vector of a document added with content and no embedding. It is how
// apply hands chromem-go a record's unit vector: given a vector,
// AddDocument checks its length in a pass of its own (a fifth of
// UpsertTakingVectors in BenchmarkUpsert), while the vector of an
// EmbeddingFunc, whose contract is to return unit vectors, is taken as it
// is. The content is the record's
// chromem-go key; unitOf returns the unit vector the store holds under it.
// chromem-go calls it only from AddDocument, so only from apply, which
// holds s.mu; the store never asks chromem-go to embed anything else.
func (s *Store) unitOf(_ context.Context, key string) ([]float32, error) {
	if e, ok := s.recs[key]; ok && e.unit != nil {
		return e.unit, nil
	}
	return nil, errors.New("chromem: the store never asks chromem-go to embed text")
}

// nativeMetadata returns the fields of r that chromem-go's where clauses
// filter on (see nativeWhere). Empty fields are left out: chromem-go reads
// a missing key as "", so a clause matches the same records, and the map
// and chromem-go's copy of it are smaller. Each record needs a map of its
// own: chromem-go v0.7.0 copies the map it is given but keeps the
// original.
func nativeMetadata(r *store.Record) map[string]string {
	m := make(map[string]string, 3)
	for _, f := range [...]struct{ k, v string }{{store.FieldDocID, r.DocID}, {store.FieldSource, r.Source}, {store.FieldTitle, r.Title}} {
		if f.v != "" {
			m[f.k] = f.v
		}
	}
	return m
}

// Delete removes every record of the named documents (see store.Store).
func (s *Store) Delete(ctx context.Context, docIDs ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	closed := s.closed
	var present []string
	if !closed {
		for _, id := range docIDs {
			if _, ok := s.docs[id]; ok {
				present = append(present, id)
			}
		}
	}
	s.mu.RUnlock()
	if closed {
		return fmt.Errorf("chromem: delete: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ps := make([]prepared, len(present))
	for i, id := range present {
		ps[i] = prepared{id: id}
	}
	var rec []byte
	if s.glog != nil {
		var err error
		if rec, err = appendLogRecord(nil, ps, 0, false); err != nil {
			return err
		}
	}
	written, err := s.persistDocs(ctx, ps, 0, rec)
	s.mu.Lock()
	for i := range written {
		s.apply(&written[i])
	}
	s.mu.Unlock()
	return err
}

// Hashes reports the hash stored with each named document that exists
// (see store.Store).
func (s *Store) Hashes(ctx context.Context, docIDs ...string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.checkOpen(); err != nil {
		return nil, fmt.Errorf("chromem: hashes: %w", err)
	}
	out := make(map[string]string, len(docIDs))
	for _, id := range docIDs {
		if d, ok := s.docs[id]; ok {
			out[id] = d.hash
		}
	}
	return out, nil
}

// load reads the store directory. Called by New before the store is shared.
func (s *Store) load() error {
	dim, err := s.persist.loadDimensions()
	if err != nil {
		return err
	}
	s.dim = dim
	dir := s.persist.dir
	seqs, err := listLogs(dir)
	if err != nil {
		return err
	}
	logged, err := readLogs(dir, seqs)
	if err != nil {
		return err
	}
	skip := make(map[string]bool, len(logged))
	for id := range logged {
		skip[docFileName(id)+docExt] = true
	}
	if err := s.persist.readDocs(skip, s.loadDoc); err != nil {
		return err
	}
	// The logs' versions, in memory.
	ids := make([]string, 0, len(logged))
	for id := range logged {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if r := logged[id]; r.p != nil {
			if err := s.loadDoc(*r.p, r.dim); err != nil {
				return err
			}
		} // else a deletion: the file, if any, was not loaded
	}
	if !s.persist.sync {
		if len(seqs) == 0 {
			return nil
		}
		return s.persist.foldLogs(seqs, logged)
	}
	g := &groupLog{disk: s.persist}
	s.glog = g
	if len(seqs) == 1 {
		// Go on appending to it, unless it is past the limit.
		path := filepath.Join(dir, logName(seqs[0]))
		l, err := wal.Open(path, logOptions(), func([]byte) error { return nil })
		if err != nil {
			return fmt.Errorf("chromem: %w", err)
		}
		if l.Size() <= logRotateBytes {
			g.log, g.seq = l, seqs[0]
			return nil
		}
		l.Retire()
	}
	if len(seqs) > 0 {
		g.seq = seqs[len(seqs)-1] + 1
		return s.persist.foldLogs(seqs, logged)
	}
	return nil
}

// loadDoc applies a document read back from disk.
func (s *Store) loadDoc(p prepared, d int) error {
	if d > 0 {
		if s.dim == 0 {
			s.dim = d
		} else if d != s.dim {
			return fmt.Errorf("%w: document %q has %d dimensions, the store %d", ErrCorrupt, p.id, d, s.dim)
		}
	}
	s.apply(&p)
	return nil
}
