package document

import "strconv"

// Status is what ingestion did with a document.
type Status int

const (
	// Stored: the document was chunked, embedded and written.
	Stored Status = iota + 1
	// Unchanged: the store already held this version (same ID and content
	// hash); nothing was embedded or written.
	Unchanged
	// Failed: the document was not written; the store holds its previous
	// version, if any, unchanged.
	Failed
)

func (s Status) String() string {
	switch s {
	case Stored:
		return "stored"
	case Unchanged:
		return "unchanged"
	case Failed:
		return "failed"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Result is the outcome of ingesting one document.
type Result struct {
	ID     string
	Status Status
	Chunks int   // chunks written (Stored), or made before failing
	Err    error // why it failed (an *Error), when Status is Failed
}
