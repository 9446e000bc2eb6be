package loader

// The formats this package reads itself, registered in Default. Formats
// with heavier dependencies (PDF, Office documents) register from their
// own packages.
func init() {
	Register("markdown", Markdown, []string{".md", ".markdown", ".mdown", ".mkd"}, []string{"text/markdown", "text/x-markdown"})
	Register("text", Text, []string{".txt", ".text"}, []string{"text/plain"})
	Register("html", HTML, []string{".html", ".htm", ".xhtml"}, []string{"text/html", "application/xhtml+xml"})
	Register("email", Email, []string{".eml"}, []string{"message/rfc822"})
	Register("csv", NewCSV(RecordOptions{}), []string{".csv"}, []string{"text/csv"})
	Register("tsv", NewCSV(RecordOptions{Comma: '\t'}), []string{".tsv"}, []string{"text/tab-separated-values"})
	Register("jsonl", NewJSONL(RecordOptions{}), []string{".jsonl", ".ndjson"}, []string{"application/jsonl", "application/x-ndjson"})
}
