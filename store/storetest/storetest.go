// Package storetest is a conformance suite for store.Store implementations.
//
// Run checks every rule of the store.Store contract, each as a named
// subtest, against stores made by a constructor the implementation passes
// in:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := mystore.New(...)
//			t.Cleanup(func() { s.Close() })
//			return s
//		}, storetest.Options{})
//	}
//
// Results are compared with store.BruteForce on the records the suite wrote:
// a conforming store returns exactly the same records in the same order.
// The suite draws query vectors that rank every record unambiguously (no two
// different vectors within 1e-5 of cosine similarity), so rounding
// differences between float32 and float64 arithmetic cannot change the
// order; exact ties are made with identical vectors and must be broken by
// record ID.
//
// The TakeVectors rules check store.VectorTaker: UpsertTakingVectors
// stores what Upsert stores, and a call that fails leaves the vectors it
// was handed as they were; a store that does not implement it skips them.
//
// The List rules check store.Lister (DocumentIDs) against the documents
// the suite wrote; a store that does not implement it skips them. The
// Tenant rules check store.Scoper: TenancyOps random operations on many
// tenants writing the same document IDs, none of which may show a record
// of another tenant; a store that does not implement it skips them.
package storetest

import (
	"testing"

	"github.com/ragkit-go/rag/store"
)

// Options configures Run.
type Options struct {
	// Dimensions is the length of the vectors the suite writes; 0 means 8.
	// Set it for a store created for a fixed dimension. Every store made by
	// newStore must accept vectors of this length.
	Dimensions int

	// Reopen, for persistent stores, closes s and opens the same store
	// again (same path or database), returning the reopened store. When it
	// is nil the persistence subtests are skipped.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Run runs the conformance suite. newStore must return a new, empty store
// each time it is called, and arrange (with t.Cleanup) to close it.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts Options) {
	if opts.Dimensions <= 0 {
		opts.Dimensions = 8
	}
	s := &suite{newStore: newStore, opts: opts, dim: opts.Dimensions}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"UpsertThenSearch", s.upsertThenSearch},
		{"ReupsertReplaces", s.reupsertReplaces},
		{"SameDocumentTwiceInBatch", s.sameDocTwice},
		{"DeleteDocument", s.deleteDocument},
		{"DeleteMissing", s.deleteMissing},
		{"EmptyRecordsDeletes", s.emptyRecordsDeletes},
		{"EmptyStore", s.emptyStore},
		{"TopKExact", s.topKExact},
		{"DefaultTopK", s.defaultTopK},
		{"TiesByID", s.tiesByID},
		{"CosineScores", s.cosineScores},
		{"ZeroVector", s.zeroVector},
		{"FilterOperators", s.filterOperators},
		{"FilterProperty", s.filterProperty},
		{"InvalidFilter", s.invalidFilter},
		{"NaNFilter", s.nanFilter},
		{"InfiniteFilterValues", s.infiniteFilter},
		{"DimensionMismatch", s.dimensionMismatch},
		{"InvalidVector", s.invalidVector},
		{"InvalidRecord", s.invalidRecord},
		{"Hashes", s.hashes},
		{"MetadataRoundTrip", s.metadataRoundTrip},
		{"MetadataNormalized", s.metadataNormalized},
		{"NoAliasing", s.noAliasing},
		{"TakeVectors", s.takeVectors},
		{"TakeVectorsFailed", s.takeVectorsFailed},
		{"CancelledContext", s.cancelledContext},
		{"ConcurrentReadersWriters", s.concurrent},
		{"Reopen", s.reopen},
		{"ListAll", s.listAll},
		{"ListFilters", s.listFilters},
		{"ListAfterDelete", s.listAfterDelete},
		{"ListAfterReupsert", s.listAfterReupsert},
		{"ListExpiry", s.listExpiry},
		{"ListInvalidFilter", s.listInvalidFilter},
		{"ListCancelledContext", s.listCancelledContext},
		{"ListConcurrentWithWrites", s.listConcurrent},
		{"TenantIsolation", s.tenantIsolation},
		{"TenantInvalid", s.tenantInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	newStore func(t *testing.T) store.Store
	opts     Options
	dim      int
}
