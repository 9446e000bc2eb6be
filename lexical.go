package rag

import (
	"fmt"

	"github.com/ragkit-go/rag/lexical"
)

// LexicalOptions enable the in-process BM25 index that lexical and hybrid
// search use when the store has no full-text search of its own (see
// store.TextSearcher).
type LexicalOptions struct {
	// BM25 configures the index; the zero value is Anserini's BM25 (k1 0.9,
	// b 0.4) with the English analyzer (lowercase, Unicode words, stop
	// words, Porter stemming).
	BM25 lexical.Options
	// Path, when set, is the file the index is kept in (with logs beside
	// it, Path.log.N): New loads it if it exists, and every Ingest and
	// Delete that changed the index has made its change durable when it
	// returns (see lexical.Store). Keep it beside a persistent store. A
	// document the index lacks but the store holds (after a crash between
	// the two writes, or with a new index file) is added back by the next
	// Ingest of it, without embedding it again. Files written by earlier
	// versions are read and rewritten in the current format.
	Path string
}

// newLexical opens the pipeline's BM25 index.
func newLexical(o *LexicalOptions) (*lexical.Store, error) {
	l, err := lexical.NewStore(lexical.StoreOptions{BM25: o.BM25, Path: o.Path})
	if err != nil {
		return nil, fmt.Errorf("rag: lexical index: %w", err)
	}
	return l, nil
}
