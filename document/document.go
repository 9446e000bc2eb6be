// Package document holds the document model every part of the module
// shares: what a document is (Document), the rules its metadata follows,
// its validation, its identity (content-derived IDs, record IDs) and its
// content hash, with their errors.
//
// It is a leaf: loaders produce Documents, job queues carry them and the
// pipeline ingests them, without any of them importing another. Package
// rag re-exports Document as rag.Document, the way os.FileInfo is
// io/fs.FileInfo.
package document

import (
	"strconv"
	"time"

	"github.com/ragkit-go/rag/internal/digest"
)

// Document is a unit of ingestion: a text with its identity and metadata.
//
// A Document is a plain value. Validate may rewrite its Metadata map (to
// normalise numbers and add the expiry key); pass a copy of a map you keep
// using elsewhere, or let Validate's copy-on-write do it: it never
// modifies the caller's map in place.
type Document struct {
	// ID identifies the document. When empty, the pipeline derives it
	// from the content with ID, so the same text always gets the same ID.
	ID string
	// Title, Source and Tags are stored with every chunk and can be
	// filtered on (store.FieldTitle, store.FieldSource, store.FieldTags).
	Title  string
	Source string
	Tags   []string
	// Content is the text to chunk and embed: valid UTF-8, not empty.
	Content string
	// Metadata values may be strings, booleans, numbers (any Go integer or
	// float type, kept as float64), time.Time or []string. Keys must not
	// start with '_' (reserved for built-in fields); keys starting with
	// "rag_" are written by the pipeline (see MetaExpiresAt).
	Metadata map[string]any
	// ExpiresAt, when not zero, is when the document expires: from then
	// on searches never return it, and a purge deletes it. It is stored as
	// the metadata value MetaExpiresAt.
	ExpiresAt time.Time
	// Spans, when a loader sets them, say where each page, slide, sheet or
	// chapter lies in Content: in order, not overlapping, on rune
	// boundaries. Each chunk records the span its start falls in.
	Spans []Span
}

// ID derives a document ID from content: the first 32 hex digits of its
// SHA-256.
func ID(content string) string {
	sum := digest.String(content)
	return digest.Hex(sum[:16])
}

// RecordID returns the ID of chunk index of document docID, as the
// pipeline assigns it: docID, '#', and the index in decimal.
func RecordID(docID string, index int) string { return docID + "#" + strconv.Itoa(index) }
