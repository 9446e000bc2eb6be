package document

// Metadata keys the pipeline writes into the records it stores. They can
// be filtered on like any metadata key.
const (
	// MetaExpiresAt holds Document.ExpiresAt (a time.Time, UTC) on every
	// record of a document that expires. A document may also set it in
	// its Metadata directly, as a time.Time.
	MetaExpiresAt = "rag_expires_at"
	// MetaTags holds the tags enrichment wrote for a document ([]string),
	// on every record of the document: filter with store.Eq(MetaTags, tag).
	MetaTags = "rag_tags"
	// MetaSummaryChunk holds, on every record of a document enrichment
	// summarised, the chunk index of the record that is the summary (a
	// number). Documents may not set it.
	MetaSummaryChunk = "rag_summary_chunk"
	// MetaHeadings holds, on each record whose chunker knows the document's
	// structure (chunk.Markdown), the path of headings the chunk sits under
	// ([]string, outermost first): store.Eq(MetaHeadings, "Install")
	// finds the chunks of that section.
	MetaHeadings = "rag_headings"
	// MetaSpanKind and MetaSpanLabel hold, on each record whose start
	// falls in one of its document's Spans, that span's Kind ("page") and
	// Label ("12") as strings: store.Eq(MetaSpanLabel, "12") finds the
	// chunks that start on page 12 (together with MetaSpanKind).
	MetaSpanKind  = "rag_span_kind"
	MetaSpanLabel = "rag_span_label"

	// MetaSyncRoot holds, on every record of a document a directory sync
	// wrote, the name of the synced root (a string): the namespace a
	// sync deletes vanished files from, and only from.
	MetaSyncRoot = "rag_sync_root"
	// MetaFileStamp holds, on every record of a document a directory
	// sync wrote, the stamp of the file it came from (a string derived
	// from the root, the path, the size, the modification time and the
	// embedder): a file whose stamp the store holds is not read again.
	MetaFileStamp = "rag_file_stamp"
	// MetaFileHash holds, beside MetaFileStamp, the hash of the file's
	// bytes (and root and path): a file whose stamp changed but whose
	// bytes did not (touched, checked out again) is read, not parsed.
	MetaFileHash = "rag_file_hash"
	// MetaFileLast marks (true) the last document of a file that yielded
	// several (the rows of a CSV file), so that a sync can tell that all
	// of them are stored.
	MetaFileLast = "rag_file_last"
)
