// Package store defines the vector store contract used by the rag pipeline,
// the typed filter language every store understands, and helpers shared by
// store implementations.
//
// A Store holds records: one record per chunk, each carrying its vector, its
// text and the metadata of the document it came from. The unit of writing is
// the document: Upsert replaces every record of a document in one step, so a
// reader never sees half a document and a changed document leaves no stale
// chunk behind.
//
// Implementations live in sub-packages (store/chromem, the default) and prove
// that they follow the contract by running the conformance suite in
// store/storetest.
//
// Stores that can do more say so by implementing an optional interface,
// found by type assertion: TextSearcher (a full-text search of their own),
// Lister (listing the documents a filter matches, without a vector
// search; see the DocumentIDs helper), Scoper (views confined to one
// tenant, for many customers in one store; see the Scope helper) and
// VectorTaker (keeping the vectors it is handed instead of copies; see
// the UpsertTakingVectors helper).
package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ragkit-go/rag/internal/vecmath"
)

// Store is a vector store whose unit of writing is the document.
//
// Concurrency: every method may be called concurrently from many goroutines.
// Search runs concurrently with Upsert and Delete and sees each document
// either as it was before a write or as it is after it, never a mix.
//
// Ownership: a Store must not retain or modify the slices and maps passed to
// it after the call returns (it copies what it keeps), and the caller may
// modify everything a Store returns: returned records never alias the
// store's internal state. (A VectorTaker's UpsertTakingVectors is the one
// exception: there the caller hands over the records' vectors.)
//
// Errors: a Store rejects vectors that contain NaN or Inf with
// ErrInvalidVector, vectors whose length differs from the dimension it already
// holds with an error matching ErrDimensionMismatch (see *DimensionError),
// and invalid filters with an error matching ErrInvalidFilter, all before
// anything is written. A method called with a cancelled context returns an
// error matching ctx.Err() and writes nothing.
type Store interface {
	// Upsert writes documents. For each StoredDocument, every record previously
	// stored under its ID is replaced by Records, atomically: readers see the
	// old version or the new one. Within one call, documents are written in
	// order; if the call fails, documents it did not write stay as they
	// were. A StoredDocument with no records is the same as deleting it.
	Upsert(ctx context.Context, docs []StoredDocument) error

	// Search returns up to q.TopK records whose metadata matches q.Filter,
	// best first by cosine similarity to q.Vector (ties broken by record ID).
	// A TopK larger than the number of matching records is not an error.
	// The result is exact: it equals a brute-force filtered top-k.
	Search(ctx context.Context, q Query) ([]Result, error)

	// Delete removes every record of the named documents. Deleting a
	// document that does not exist is not an error.
	Delete(ctx context.Context, docIDs ...string) error

	// Hashes reports the content hash stored with each named document, for
	// the documents that exist; absent documents are absent from the map.
	// The pipeline uses it to skip documents that have not changed.
	Hashes(ctx context.Context, docIDs ...string) (map[string]string, error)
}

// StoredDocument is the stored form of one document: its ID, the hash of the
// content its records were made from, and its records (one per chunk).
type StoredDocument struct {
	ID      string
	Hash    string
	Records []Record
}

// Record is one chunk of a document as a store holds it.
type Record struct {
	// ID identifies the record; the pipeline derives it from DocID and
	// Chunk, so it is stable across re-ingestion.
	ID     string
	DocID  string
	Chunk  int // index of the chunk within its document
	Start  int // byte offset of the chunk in the document's content
	End    int // byte offset just past the chunk
	Text   string
	Vector []float32

	// Fields copied from the document, for filtering and display.
	Title  string
	Source string
	Tags   []string
	// Metadata values are strings, bools, numbers of any Go numeric type
	// (stored and returned as float64), times (returned in UTC) and
	// []string; see CheckMetadata.
	Metadata map[string]any
}

// Query is a vector search.
type Query struct {
	Vector []float32
	TopK   int     // number of results wanted; <= 0 means 10
	Filter *Filter // nil matches every record
}

// DefaultTopK is the number of results a Query with no TopK returns.
const DefaultTopK = 10

// Result is a record found by Search with its cosine similarity to the
// query vector, in [-1, 1], higher is better.
type Result struct {
	Record
	Score float32
}

// Sentinel errors. Implementations wrap them with %w so callers can test
// with errors.Is.
var (
	// ErrDimensionMismatch: a vector's length differs from the dimension
	// the store holds. The concrete error is a *DimensionError.
	ErrDimensionMismatch = errors.New("store: vector dimension mismatch")
	// ErrInvalidVector: a vector is empty or contains NaN or Inf.
	ErrInvalidVector = errors.New("store: invalid vector")
	// ErrInvalidFilter: a filter is malformed (unknown operator, value of
	// the wrong type, missing field).
	ErrInvalidFilter = errors.New("store: invalid filter")
	// ErrInvalidRecord: a record is missing its ID or document ID, or names
	// another document than the one it is written under, or carries a
	// metadata value of an unsupported type.
	ErrInvalidRecord = errors.New("store: invalid record")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// DimensionError reports a vector whose length differs from the store's.
type DimensionError struct {
	Want, Got int
}

func (e *DimensionError) Error() string {
	return fmt.Sprintf("store: vector dimension mismatch: store holds %d dimensions, got %d", e.Want, e.Got)
}

// Is reports whether target is ErrDimensionMismatch.
func (e *DimensionError) Is(target error) bool { return target == ErrDimensionMismatch }

// CheckVector returns an error matching ErrInvalidVector if v is empty or
// holds a NaN or an infinity, and a *DimensionError if dim > 0 and len(v) !=
// dim.
func CheckVector(v []float32, dim int) error { return checkVector(v, dim, true) }

func checkVector(v []float32, dim int, checkFinite bool) error {
	if len(v) == 0 {
		return fmt.Errorf("%w: empty vector", ErrInvalidVector)
	}
	if dim > 0 && len(v) != dim {
		return &DimensionError{Want: dim, Got: len(v)}
	}
	if !checkFinite || vecmath.Finite(v) {
		return nil
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: component %d is %v", ErrInvalidVector, i, x)
		}
	}
	return nil
}

// CheckDocuments validates a batch for Upsert: IDs present, every record
// belonging to its document, vectors valid and all of one dimension, which
// must equal dim when dim > 0. It returns the batch's dimension (0 when the
// batch holds no record).
func CheckDocuments(docs []StoredDocument, dim int) (int, error) {
	return checkDocuments(docs, dim, true)
}

// CheckDocumentsSums is CheckDocuments for a store that needs the length
// of every vector it writes: it also returns, for each record of docs in
// order, the sum of the squares of its vector (vecmath.SumSquares, in
// float64). Those sums are finite exactly when every component is, so the
// vectors are read once for both; when one is not, the batch is checked
// in full, and its first error is reported as CheckDocuments reports it.
func CheckDocumentsSums(docs []StoredDocument, dim int) (int, []float64, error) {
	n := 0
	for i := range docs {
		n += len(docs[i].Records)
	}
	ss := make([]float64, 0, n)
	finite := true
	for i := range docs {
		for j := range docs[i].Records {
			x := vecmath.SumSquares(docs[i].Records[j].Vector)
			finite = finite && !math.IsNaN(x) && !math.IsInf(x, 0)
			ss = append(ss, x)
		}
	}
	dim, err := checkDocuments(docs, dim, !finite)
	if err != nil {
		return 0, nil, err
	}
	return dim, ss, nil
}

func checkDocuments(docs []StoredDocument, dim int, checkFinite bool) (int, error) {
	for _, d := range docs {
		if d.ID == "" {
			return 0, fmt.Errorf("%w: document without ID", ErrInvalidRecord)
		}
		for i := range d.Records {
			r := &d.Records[i]
			if r.ID == "" {
				return 0, fmt.Errorf("%w: record %d of document %q has no ID", ErrInvalidRecord, i, d.ID)
			}
			if r.DocID != d.ID {
				return 0, fmt.Errorf("%w: record %q names document %q, written under %q", ErrInvalidRecord, r.ID, r.DocID, d.ID)
			}
			if err := checkVector(r.Vector, dim, checkFinite); err != nil {
				return 0, fmt.Errorf("record %q: %w", r.ID, err)
			}
			dim = len(r.Vector)
			if err := CheckMetadata(r.Metadata); err != nil {
				return 0, fmt.Errorf("record %q: %w", r.ID, err)
			}
		}
	}
	return dim, nil
}

// CheckMetadata reports an error matching ErrInvalidRecord if a key is
// empty or starts with '_' (reserved for built-in fields), or if a value,
// as NormalizeValue converts it, is not one of the supported types:
// string, bool, a finite float64, time.Time or []string. So any Go integer
// type and float32 pass, and a store keeps them normalised (as
// NormalizeMetadata returns them): float64, and times in UTC.
func CheckMetadata(m map[string]any) error {
	for k, v := range m {
		if k == "" || k[0] == '_' {
			return fmt.Errorf("%w: metadata key %q is empty or reserved (keys starting with '_' name built-in fields)", ErrInvalidRecord, k)
		}
		switch x := NormalizeValue(v).(type) {
		case string, bool, time.Time, []string:
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: metadata %q is %v", ErrInvalidRecord, k, x)
			}
		default:
			return fmt.Errorf("%w: metadata %q has unsupported type %T (want string, bool, number, time.Time or []string)", ErrInvalidRecord, k, v)
		}
	}
	return nil
}

// NormalizeMetadata returns a copy of m with every integer and float32 value
// converted to float64, times converted to UTC, and string slices copied.
// Values of other types are kept as they are (CheckMetadata rejects them).
func NormalizeMetadata(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = NormalizeValue(v)
	}
	return out
}

// NormalizeValue returns v as stores hold it and filters compare it: an
// integer or a float32 as a float64, a time in UTC, a []string copied;
// other values as they are. NormalizeMetadata applies it to every value.
func NormalizeValue(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC()
	case []string:
		return append([]string(nil), x...)
	}
	return v
}

// CloneRecord returns a deep copy of r: no slice or map of the copy aliases r.
func CloneRecord(r Record) Record {
	r.Vector = append([]float32(nil), r.Vector...)
	if r.Tags != nil {
		r.Tags = append([]string(nil), r.Tags...)
	}
	r.Metadata = NormalizeMetadata(r.Metadata)
	return r
}

// TextSearcher is implemented by stores with a full-text (lexical) search
// of their own, such as Postgres's; the pipeline uses it as the lexical
// side of hybrid search instead of its in-process BM25 index.
//
// SearchText returns up to k records matching filter, best first by the
// store's text relevance score (higher is better; the scale is the
// store's). Results need not carry vectors. Its concurrency, ownership and
// error rules are Search's.
type TextSearcher interface {
	SearchText(ctx context.Context, query string, k int, filter *Filter) ([]Result, error)
}
