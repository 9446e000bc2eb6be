package store

import "context"

// VectorTaker is implemented by stores that can keep the vectors they are
// given instead of copying them. Upsert must copy every vector it keeps,
// because the caller still owns it; a caller that has no further use for
// its vectors (the pipeline, whose vectors are freshly decoded answers of
// the embedder or copies out of its cache) hands them over with
// UpsertTakingVectors and saves one allocation and one copy a record.
//
// UpsertTakingVectors is Upsert, with the same concurrency, atomicity and
// errors, except for the Vector slices of docs' records:
//
//   - When it returns nil, they belong to the store, which may keep them
//     and may modify them (say, scale each to unit length in place). The
//     caller must not read, modify or pass them anywhere again.
//   - When it returns an error, the store has kept none of them and left
//     every one as it was, so the caller may write them again (with either
//     method). This holds whatever the error, also for a store that wrote
//     some of the documents before failing (it keeps copies of those).
//
// The caller hands over distinct slices: no two records of the call may
// share memory, and nothing else may use them during the call. Every other
// slice and map of docs is Upsert's: read during the call, not retained,
// not modified. What Search returns never aliases a taken vector.
type VectorTaker interface {
	Store
	UpsertTakingVectors(ctx context.Context, docs []StoredDocument) error
}

// UpsertTakingVectors writes docs to s, handing their vectors over when s
// is a VectorTaker (see its contract: on success the caller must not use
// the vectors again), and with s.Upsert otherwise. It does not look through
// wrappers: a wrapper that passes writes on may copy or keep vectors its
// own way, so only the store the caller holds can take them.
func UpsertTakingVectors(ctx context.Context, s Store, docs []StoredDocument) error {
	if t, ok := s.(VectorTaker); ok {
		return t.UpsertTakingVectors(ctx, docs)
	}
	return s.Upsert(ctx, docs)
}
