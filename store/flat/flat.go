package flat

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ragkit-go/rag/internal/tenancy"
	"github.com/ragkit-go/rag/internal/vecmath"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/internal/wal"
)

// Sentinel errors of package flat.
var (
	// ErrCorrupt: a snapshot is truncated, fails its checksum, or is not a
	// flat snapshot at all.
	ErrCorrupt = errors.New("flat: corrupt snapshot")
	// ErrVersion: a snapshot was written by a newer, incompatible version.
	ErrVersion = errors.New("flat: unsupported snapshot version")
)

// DefaultOversample is the number of candidates a quantized search keeps
// for each result it returns, when Options.Oversample is zero.
const DefaultOversample = 10

// Options configures a Store. The zero value is a memory-only exact store.
type Options struct {
	// Path, when not empty, names the snapshot file of a persistent store;
	// the directory must exist. Every Upsert and Delete is durable when it
	// returns: it is appended to a log beside the snapshot (Path + ".log")
	// and fsynced, writers that wait at the same moment sharing one fsync.
	// New loads the snapshot if it exists (an error if it is corrupt),
	// replays the log over it, dropping a torn last record whole, and
	// removes temporary files that a crash left. The log is folded into a
	// new snapshot, written atomically, in the background when it outgrows
	// the snapshot (and at least 256 MiB), and by Checkpoint and Close,
	// which remove it. Two Stores must not have the same Path open at once.
	Path string

	// Dimension, when positive, fixes the vector dimension from the start.
	// When zero, the first vector written sets it, and an empty store
	// forgets it (so a store emptied by Delete accepts a new dimension).
	Dimension int

	// Quantize keeps an int8 copy of every normalised vector (one byte a
	// dimension plus a scale a row, a 25% memory overhead) and searches it
	// first: the codes are scanned to pick TopK×Oversample candidates, which
	// are then re-scored exactly with the float32 vectors. Scores of the
	// returned records are exact, but the set is approximate: a true
	// neighbour may be missed when its quantized score does not place it
	// among the candidates. Measured on random unit vectors (the hard case:
	// their scores crowd together), recall@10 with the default Oversample
	// was 1.000 at 100,000 × 1,536 and 100,000 × 384 (bench/stores) and at
	// 20,000 × 384 and 5,000 × 1,536 (TestQuantizedRecall, which requires
	// 0.97); real embeddings, whose neighbours stand out more, do at least
	// as well. Quantized search pays only where memory bandwidth, not
	// compute, limits the scan, that is with the AVX2 kernels: the portable
	// int8 loop is slower than the float32 one.
	Quantize bool

	// Oversample is the number of quantized candidates kept for each result
	// wanted; zero means DefaultOversample. Ignored without Quantize.
	Oversample int

	// Workers bounds the goroutines one search uses; zero means
	// runtime.GOMAXPROCS(0).
	Workers int
}

// Store is an exact in-process vector store (see the package doc). Create
// one with New.
//
// Concurrency: all methods may be called concurrently. Searches run in
// parallel with each other; a write waits for running searches and blocks
// new ones until it is done, so a search sees each write entirely or not at
// all.
type Store struct {
	opts Options

	mu     sync.RWMutex
	closed bool
	dirty  atomic.Bool // written since the last load or save
	saveMu sync.Mutex  // serialises writing the snapshot file
	dim    int

	// Row r of the collection: vecs[r*dim:(r+1)*dim] is the vector as
	// written, inv[r] is 1/|v| (0 for a zero vector), recs[r] is the record
	// without its vector. With Quantize, codes[r*dim:(r+1)*dim] is the int8
	// form of v/|v| and scales[r] its scale. Rows are dense: removing a row
	// moves the last row into its place.
	vecs   []float32
	inv    []float32
	recs   []store.Record
	codes  []int8
	scales []float32

	docs map[string]*docEntry

	// The write log of a persistent store (see log.go): nil until the
	// first write after a fold. snap identifies the snapshot on disk.
	// Guarded by mu (exclusive to append, shared with saveMu held to fold).
	log        *wal.Log
	snap       snapshotID
	compacting atomic.Bool
	bg         sync.WaitGroup // the background compaction

	tenants tenancy.Partitions[*Store] // tenant.go; empty in a tenant's store
	scoped  bool                       // a tenant's store: Close is its base's
}

type docEntry struct {
	hash string
	rows []int32
}

var _ store.Store = (*Store)(nil)

// New returns a Store configured by opts. With opts.Path set and the file
// present, New loads it; an unreadable or corrupt file is an error (wrapping
// ErrCorrupt for a damaged snapshot).
func New(opts Options) (*Store, error) {
	if opts.Dimension < 0 || opts.Oversample < 0 || opts.Workers < 0 {
		return nil, fmt.Errorf("flat: negative option in %+v", opts)
	}
	s := &Store{opts: opts, dim: opts.Dimension, docs: make(map[string]*docEntry)}
	if opts.Path != "" {
		if err := removeTemps(opts.Path); err != nil {
			return nil, err
		}
		if err := s.loadFile(); err != nil {
			return nil, err
		}
		if err := s.openLog(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// loadFile loads the snapshot at Options.Path, if there is one.
func (s *Store) loadFile() error {
	f, err := os.Open(s.opts.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("flat: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("flat: %w", err)
	}
	st, err := s.decode(f)
	if err != nil {
		return fmt.Errorf("flat: loading %s: %w", s.opts.Path, err)
	}
	s.install(st)
	s.snap = snapshotID{size: fi.Size(), crc: st.crc}
	return nil
}

// Len returns the number of records in the store.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}

// Dimension returns the vector dimension the store holds, or 0 if it has
// none yet.
func (s *Store) Dimension() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dim
}

// prepared is a document made ready for writing outside the lock: records
// copied (without vectors), norms and quantized codes computed.
type prepared struct {
	id, hash string
	recs     []store.Record
	src      [][]float32 // the caller's vectors, copied under the lock
	inv      []float32
	codes    []int8
	scales   []float32
}

// Upsert implements store.Store. The whole batch is validated before
// anything is written and written under one lock, so a failed call writes
// nothing and concurrent searches see all of the batch or none of it.
//
// A persistent store appends the batch to its log and applies it under the
// lock, then waits, without the lock, until the log is durable; a search
// may see the batch during that wait. If the log cannot be written or
// synced, the call fails and so does every later write (the store holds
// writes the log may not).
func (s *Store) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return store.ErrClosed
	}
	preps, batchDim, err := s.prepareBatch(docs)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var rec []byte
	if s.opts.Path != "" {
		if rec, err = encodeLogRecord(preps, batchDim); err != nil {
			return err
		}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return err
	}
	if err := s.checkDimLocked(batchDim); err != nil {
		s.mu.Unlock()
		return err
	}
	return s.commit(rec, func() { s.applyLocked(preps, batchDim) })
}

// commit appends rec to the log of a persistent store and calls apply,
// both under s.mu, which the caller holds exclusively and commit releases;
// then it waits for the log to be durable.
func (s *Store) commit(rec []byte, apply func()) error {
	if s.opts.Path == "" {
		apply()
		s.mu.Unlock()
		return nil
	}
	l, pos, err := s.appendLocked(rec)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	apply()
	s.mu.Unlock()
	if testAfterAppend != nil {
		testAfterAppend()
	}
	if err := l.Sync(pos); err != nil {
		return fmt.Errorf("flat: %w", err)
	}
	return nil
}

// prepareBatch validates a batch and prepares its documents, outside the
// lock. It returns the batch's dimension: 0 for a batch without records.
func (s *Store) prepareBatch(docs []store.StoredDocument) ([]prepared, int, error) {
	s.mu.RLock()
	dim := s.dim
	s.mu.RUnlock()
	batchDim, ss, err := store.CheckDocumentsSums(docs, dim)
	if err != nil {
		return nil, 0, err
	}
	if !hasRecords(docs) {
		batchDim = 0 // only deletions: no dimension to agree on
	}
	preps := make([]prepared, len(docs))
	for i := range docs {
		n := len(docs[i].Records)
		s.prepare(&preps[i], &docs[i], batchDim, ss[:n])
		ss = ss[n:]
	}
	return preps, batchDim, nil
}

// checkDimLocked reports whether a batch of dimension dim fits the store:
// another write may have set the dimension since the batch was validated.
func (s *Store) checkDimLocked(dim int) error {
	if dim > 0 && s.dim > 0 && dim != s.dim {
		return &store.DimensionError{Want: s.dim, Got: dim}
	}
	return nil
}

// applyLocked writes prepared documents. The caller holds s.mu
// exclusively and checked the dimension.
func (s *Store) applyLocked(preps []prepared, dim int) {
	if dim > 0 {
		s.dim = dim
	}
	s.reserve(preps)
	for i := range preps {
		s.writeDoc(&preps[i])
	}
	s.afterWrite()
}

func hasRecords(docs []store.StoredDocument) bool {
	for i := range docs {
		if len(docs[i].Records) > 0 {
			return true
		}
	}
	return false
}

// prepare copies d's records into p; ss are the sums of the squares of
// their vectors (vecmath.SumSquares).
func (s *Store) prepare(p *prepared, d *store.StoredDocument, dim int, ss []float64) {
	p.id, p.hash = d.ID, d.Hash
	n := len(d.Records)
	p.recs = make([]store.Record, n)
	p.src = make([][]float32, n)
	p.inv = make([]float32, n)
	if s.opts.Quantize && n > 0 {
		p.codes = make([]int8, n*dim)
		p.scales = make([]float32, n)
	}
	for i := range d.Records {
		r := d.Records[i]
		p.src[i] = r.Vector
		r.Vector = nil
		if r.Tags != nil {
			r.Tags = slices.Clone(r.Tags)
		}
		r.Metadata = store.NormalizeMetadata(r.Metadata)
		p.recs[i] = r
		p.inv[i] = invLength(ss[i])
		if p.codes != nil {
			p.scales[i] = quantize(p.codes[i*dim:(i+1)*dim], p.src[i], p.inv[i])
		}
	}
}

// invNorm returns 1/|v|, or 0 for a zero vector.
func invNorm(v []float32) float32 { return invLength(vecmath.SumSquares(v)) }

// invLength returns 1/sqrt(ss), or 0 when ss is 0: the inverse length of a
// vector whose sum of squares is ss.
func invLength(ss float64) float32 {
	if ss == 0 {
		return 0
	}
	return float32(1 / math.Sqrt(ss))
}

// reserve grows the row arrays once for a batch, so a large batch does not
// reallocate (and copy) them many times.
func (s *Store) reserve(preps []prepared) {
	add := 0
	for i := range preps {
		add += len(preps[i].recs)
		if e := s.docs[preps[i].id]; e != nil {
			add -= len(e.rows)
		}
	}
	if add > 0 {
		s.grow(len(s.recs) + add)
	}
}

// grow makes room for at least rows rows.
func (s *Store) grow(rows int) {
	if rows <= cap(s.recs) {
		return
	}
	c := max(rows, cap(s.recs)+cap(s.recs)/4, 16)
	s.recs = growTo(s.recs, c)
	s.inv = growTo(s.inv, c)
	s.vecs = growTo(s.vecs, c*s.dim)
	if s.opts.Quantize {
		s.codes = growTo(s.codes, c*s.dim)
		s.scales = growTo(s.scales, c)
	}
}

// growTo returns a slice with the contents of x and capacity exactly c.
func growTo[E any](x []E, c int) []E {
	if cap(x) >= c {
		return x
	}
	y := make([]E, len(x), c)
	copy(y, x)
	return y
}

// writeDoc replaces the rows of one document, reusing its old rows in place
// and removing or appending the difference.
func (s *Store) writeDoc(p *prepared) {
	e := s.docs[p.id]
	if len(p.recs) == 0 {
		if e != nil {
			s.dropRows(e, 0)
			delete(s.docs, p.id)
			s.dirty.Store(true)
		}
		return
	}
	if e == nil {
		e = &docEntry{}
		s.docs[p.id] = e
	}
	e.hash = p.hash
	reuse := min(len(e.rows), len(p.recs))
	for i := 0; i < reuse; i++ {
		s.setRow(int(e.rows[i]), p, i)
	}
	s.dropRows(e, reuse)
	for i := reuse; i < len(p.recs); i++ {
		row := s.appendRow()
		s.setRow(row, p, i)
		e.rows = append(e.rows, int32(row))
	}
	s.dirty.Store(true)
}

func (s *Store) setRow(row int, p *prepared, i int) {
	d := s.dim
	copy(s.vecs[row*d:(row+1)*d], p.src[i])
	s.inv[row] = p.inv[i]
	s.recs[row] = p.recs[i]
	if s.opts.Quantize {
		copy(s.codes[row*d:(row+1)*d], p.codes[i*d:(i+1)*d])
		s.scales[row] = p.scales[i]
	}
}

// appendRow adds an empty row at the end and returns its index.
func (s *Store) appendRow() int {
	row := len(s.recs)
	s.grow(row + 1)
	s.recs = s.recs[:row+1]
	s.inv = s.inv[:row+1]
	s.vecs = s.vecs[:(row+1)*s.dim]
	if s.opts.Quantize {
		s.codes = s.codes[:(row+1)*s.dim]
		s.scales = s.scales[:row+1]
	}
	return row
}

// dropRows removes e.rows[keep:] from the collection.
func (s *Store) dropRows(e *docEntry, keep int) {
	if len(e.rows) <= keep {
		return
	}
	extra := slices.Clone(e.rows[keep:])
	e.rows = e.rows[:keep]
	// Remove from the highest row down: the row moved into a hole is then
	// never one still waiting to be removed.
	slices.Sort(extra)
	for i := len(extra) - 1; i >= 0; i-- {
		s.removeRow(int(extra[i]))
	}
}

// removeRow moves the last row into row r and shortens the collection. The
// row being removed must already be absent from every docEntry.
func (s *Store) removeRow(r int) {
	last := len(s.recs) - 1
	d := s.dim
	if r != last {
		copy(s.vecs[r*d:(r+1)*d], s.vecs[last*d:(last+1)*d])
		s.inv[r] = s.inv[last]
		s.recs[r] = s.recs[last]
		if s.opts.Quantize {
			copy(s.codes[r*d:(r+1)*d], s.codes[last*d:(last+1)*d])
			s.scales[r] = s.scales[last]
		}
		moved := s.docs[s.recs[r].DocID]
		moved.rows[slices.Index(moved.rows, int32(last))] = int32(r)
	}
	s.recs[last] = store.Record{} // let go of its strings and maps
	s.recs = s.recs[:last]
	s.inv = s.inv[:last]
	s.vecs = s.vecs[:last*d]
	if s.opts.Quantize {
		s.codes = s.codes[:last*d]
		s.scales = s.scales[:last]
	}
}

// afterWrite forgets the dimension of an empty store (unless fixed by
// Options) and gives memory back when the collection shrank a lot.
func (s *Store) afterWrite() {
	n := len(s.recs)
	if n == 0 && s.opts.Dimension == 0 {
		s.dim = 0
		s.vecs, s.inv, s.recs, s.codes, s.scales = nil, nil, nil, nil, nil
		return
	}
	if c := cap(s.recs); c > 1024 && n < c/4 {
		nc := n + n/4
		s.recs = append(make([]store.Record, 0, nc), s.recs...)
		s.inv = append(make([]float32, 0, nc), s.inv...)
		s.vecs = append(make([]float32, 0, nc*s.dim), s.vecs...)
		if s.opts.Quantize {
			s.codes = append(make([]int8, 0, nc*s.dim), s.codes...)
			s.scales = append(make([]float32, 0, nc), s.scales...)
		}
	}
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, docIDs ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return err
	}
	var gone []prepared
	for _, id := range docIDs {
		if s.docs[id] != nil {
			gone = append(gone, prepared{id: id})
		}
	}
	if len(gone) == 0 {
		s.mu.Unlock()
		return nil
	}
	var rec []byte
	if s.opts.Path != "" {
		var err error
		if rec, err = encodeLogRecord(gone, 0); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	return s.commit(rec, func() { s.applyLocked(gone, 0) })
}

// Hashes implements store.Store.
func (s *Store) Hashes(ctx context.Context, docIDs ...string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	out := make(map[string]string, len(docIDs))
	for _, id := range docIDs {
		if e := s.docs[id]; e != nil {
			out[id] = e.hash
		}
	}
	return out, nil
}

// Close folds the log into the snapshot at Options.Path (writing the
// snapshot if the store changed since it was loaded or last saved, then
// removing the log) and closes the store: later calls return
// store.ErrClosed. If writing fails the store stays open, so the caller can
// retry; what was written stays durable in the log either way. Closing a
// closed store returns nil. Close closes the tenants' stores too (see
// Scope); the Close of a tenant's store does nothing.
func (s *Store) Close() error {
	return s.tenants.CloseBase(s.scoped, s, (*Store).close)
}

// close closes s alone, not its tenants.
func (s *Store) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.opts.Path != "" {
		if err := s.foldLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.closed = true
	s.vecs, s.inv, s.recs, s.codes, s.scales, s.docs = nil, nil, nil, nil, nil, nil
	s.mu.Unlock()
	s.bg.Wait() // a compaction that was waiting for the lock sees closed
	return nil
}

// Checkpoint folds the log into the snapshot now: it writes the snapshot
// to Options.Path, atomically, if the store changed since it was loaded or
// last saved, and removes the log. It is a no-op without a Path. Searches
// may run while it writes; writes wait.
func (s *Store) Checkpoint() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	if s.opts.Path == "" {
		return nil
	}
	return s.foldLocked()
}

// minRowsPerWorker is the fewest rows worth a goroutine of their own: below
// a few thousand rows a goroutine costs more than it saves. Tests lower it
// to exercise the parallel scan on small collections.
var minRowsPerWorker = 4096

// workers returns the number of goroutines to scan n rows with.
func (s *Store) workers(n int) int {
	w := s.opts.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, n/minRowsPerWorker))
}
