package document

import (
	"errors"
	"strconv"
)

// Errors of Validate. The pipeline reports each document's failure as an
// *Error wrapping one of these (or the embedder's or store's error).
var (
	// ErrEmptyContent: a document's content is empty or only white space.
	ErrEmptyContent = errors.New("document: content is empty")
	// ErrInvalidUTF8: a document's ID, content, title, source, tags or
	// metadata is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("document: not valid UTF-8")
	// ErrInvalidDocument: a document's metadata is invalid (a value of an
	// unsupported type, a reserved key, NaN).
	ErrInvalidDocument = errors.New("document: invalid document")
)

// Error is the failure of one document.
type Error struct {
	DocID string
	Err   error
}

func (e *Error) Error() string {
	return "document " + strconv.Quote(e.DocID) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
