// Package flat is an exact, in-process vector store for large collections.
//
// A flat Store keeps every vector in one contiguous row-major []float32 (a
// row per record, the vector as written, with 1/|v| kept beside it so that
// a cosine is one dot product with the unit query and one multiply). Rows
// stay dense: a replaced document reuses its rows in place, and a removed
// row is filled by moving the last row into it. Memory is about 4·d bytes a
// vector plus the record's text and metadata (some 270 bytes for a short
// record). A search scans all rows: the scan is
// split over the cores, each core scores blocks of rows with a dot-product
// kernel (AVX2 with fused multiply-add on amd64 CPUs that have it, an
// unrolled portable loop elsewhere) and keeps its own top-k heap, and the
// heaps are merged. A scan is limited by memory bandwidth, so a search
// over n vectors of d dimensions costs about 4·n·d bytes of reading; the
// benchmark program bench/stores compares it with that bound.
//
//	s, err := flat.New(flat.Options{})
//	err = s.Upsert(ctx, []store.StoredDocument{{ID: "doc", Records: records}})
//	results, err := s.Search(ctx, store.Query{Vector: v, TopK: 10})
//
// Results are exact: they equal a brute-force filtered top-k by cosine
// similarity, ties broken by record ID. Filters are checked only on rows
// whose score would enter the top-k, so an unselective filter costs almost
// nothing.
//
// Options.Quantize adds a copy of every normalised vector as int8 codes (one
// byte a dimension and one scale a row). A quantized search scans the codes
// (a quarter of the bytes), keeps TopK×Oversample candidates and re-scores
// them exactly with the float32 vectors, so scores are exact but a true
// neighbour whose approximate score falls outside the candidates is missed.
// Quantized search is therefore approximate: see Options.Quantize for the
// recall measured.
//
// Options.Path makes a store persistent: every Upsert and Delete is
// appended to a log beside the snapshot and fsynced before it returns
// (concurrent writers share an fsync), New loads the snapshot at the path
// and replays the log over it, and the log is folded into a new snapshot,
// written atomically (a temporary file renamed over the old one), in the
// background once it outgrows the snapshot, and by Checkpoint and Close.
// Save and Load write and read a snapshot with any io.Writer and
// io.Reader. A snapshot has a version header and CRC-32C checksums, so a
// truncated or corrupted file is reported as ErrCorrupt instead of being
// loaded; a log record has its own checksum, and a torn last record (a
// write cut by a crash, which never returned) is dropped whole.
package flat
