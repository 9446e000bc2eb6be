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
)
