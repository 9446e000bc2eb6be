package document

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ragkit-go/rag/store"
)

// Validate checks d before any work is spent on it and normalises it: its
// metadata is replaced by a normalised copy (numbers as float64, times in
// UTC, see store.NormalizeMetadata) holding ExpiresAt as MetaExpiresAt.
// The caller's map is never modified.
//
// It fails with ErrInvalidUTF8 when a text field is not valid UTF-8, with
// ErrEmptyContent when Content is only white space, and with
// ErrInvalidDocument (wrapping store.ErrInvalidRecord for value problems)
// when the metadata breaks the rules of Document.Metadata or sets
// MetaSummaryChunk, or sets MetaTags or MetaExpiresAt with the wrong type,
// or when Spans are out of order, overlap or lie outside Content.
func Validate(d *Document) error {
	if !utf8.ValidString(d.Content) || !utf8.ValidString(d.Title) || !utf8.ValidString(d.Source) || !utf8.ValidString(d.ID) {
		return ErrInvalidUTF8
	}
	if strings.TrimSpace(d.Content) == "" {
		return ErrEmptyContent
	}
	for _, t := range d.Tags {
		if !utf8.ValidString(t) {
			return ErrInvalidUTF8
		}
	}
	if err := checkSpans(d.Content, d.Spans); err != nil {
		return err
	}
	d.Metadata = store.NormalizeMetadata(d.Metadata)
	if err := store.CheckMetadata(d.Metadata); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	for k, v := range d.Metadata {
		ok := utf8.ValidString(k)
		switch x := v.(type) {
		case string:
			ok = ok && utf8.ValidString(x)
		case []string:
			for _, s := range x {
				ok = ok && utf8.ValidString(s)
			}
		}
		if !ok {
			return ErrInvalidUTF8
		}
	}
	return setExpiry(d)
}

// setExpiry writes d.ExpiresAt into d's metadata, which Validate has
// already copied, and checks the reserved keys.
func setExpiry(d *Document) error {
	if _, ok := d.Metadata[MetaSummaryChunk]; ok {
		return fmt.Errorf("%w: metadata key %q is reserved for the pipeline", ErrInvalidDocument, MetaSummaryChunk)
	}
	if v, ok := d.Metadata[MetaTags]; ok {
		if _, ok := v.([]string); !ok {
			return fmt.Errorf("%w: metadata %q must be a []string, got %T", ErrInvalidDocument, MetaTags, v)
		}
	}
	if !d.ExpiresAt.IsZero() {
		if d.Metadata == nil {
			d.Metadata = make(map[string]any, 1)
		}
		d.Metadata[MetaExpiresAt] = d.ExpiresAt.UTC()
		return nil
	}
	if v, ok := d.Metadata[MetaExpiresAt]; ok {
		if _, ok := v.(time.Time); !ok {
			return fmt.Errorf("%w: metadata %q must be a time.Time, got %T", ErrInvalidDocument, MetaExpiresAt, v)
		}
	}
	return nil
}
