// Package pdf loads PDF files: their text in reading order, page by page,
// with their metadata, using PDFium (the PDF engine of Chromium) compiled
// to WebAssembly and run in-process by wazero, so it needs no cgo and no
// shared library.
//
// Importing the package registers Default in loader.Default for ".pdf"
// files and the media type application/pdf:
//
//	import _ "github.com/ragkit-go/rag/loader/pdf"
//
//	docs, err := loader.Load(ctx, &loader.File{Name: "report.pdf", Data: data})
//
// Each file gives one document: the pages' text separated by blank lines,
// with a document.Span of kind page per page, labelled with the page's
// label when the PDF defines labels ("iv", "A-3") and its number
// otherwise, so that citations can say "p. 12". Title, author, dates,
// language, page count and media type go into Title and Metadata.
//
// # Text
//
// Words and lines come from the glyphs' positions on the page, as a
// reader sees them, not from PDFium's own guess at spaces, which some
// producers' kerning defeats ("langu age"). Ligatures (ﬁ, ﬂ, ﬀ, ﬃ, ﬄ)
// become their letters; a word hyphenated at the end of a line is joined
// again when the break is a soft one (a letter before the hyphen, a
// lower-case letter after it); replacement characters, private-use code
// points and control characters are dropped. The text of annotations and
// filled-in form fields is included, as it is shown.
//
// # Errors
//
// An encrypted file that Options.Password does not open fails with
// loader.ErrEncrypted, a file with no text on any page (a scan) with
// loader.ErrNoText, and one PDFium cannot read with loader.ErrMalformed.
//
// # Resources
//
// Starting PDFium is the costly part: compiling its WebAssembly module
// takes seconds. The compiled code is kept in a cache directory
// (DefaultCacheDir, "rag/pdfium-<version>" in the user's cache directory;
// Options.CacheDir, or Options.NoCacheDir for memory only), so only the
// first process on a machine compiles it and the next ones read it in a
// fraction of a second. The directory's entries are checked against a
// manifest of their SHA-256 before they are used; a directory that cannot
// be created or written, or whose entries are damaged or of another
// version, never fails a load: PDFium is compiled again. Nothing is
// downloaded.
//
// A Loader starts on its first Load, or on Start, which a program can call
// on a goroutine of its own while it does other work. It runs at most
// Options.Instances instances at once and keeps that many idle for the
// next loads; a file of 8 pages or more shares its pages among the
// instances no other load is using. Close (Shutdown for Default) gives
// their memory back and leaves no goroutine running; a later Load starts
// again.
//
// A load whose context ends returns at once. A call into PDFium cannot be
// interrupted, so the instance finishes its current call on its own
// goroutine, then stops and is destroyed rather than reused; the load's
// place goes to the next one straight away, so a file that keeps PDFium
// busy cannot block the others.
package pdf
