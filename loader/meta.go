package loader

// Metadata keys loaders write into Document.Metadata, when the file says.
const (
	MetaAuthor    = "author"     // string
	MetaCreated   = "created"    // time.Time
	MetaModified  = "modified"   // time.Time
	MetaLanguage  = "language"   // string, a BCP 47 tag when the file gives one
	MetaMIMEType  = "mime_type"  // string, the media type the loader read
	MetaPageCount = "page_count" // number: pages, slides, sheets or chapters
	MetaURL       = "url"        // string, a canonical URL (HTML)
)
