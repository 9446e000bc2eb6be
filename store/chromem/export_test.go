package chromem

import (
	"os"
	"path/filepath"
)

// ForceOverFetch makes every filtered search ask chromem-go for candidates
// and over-fetch, instead of scoring a selective filter's matches
// directly, until the returned function is called. Not for parallel tests.
func ForceOverFetch() (restore func()) {
	forceOverFetch = true
	return func() { forceOverFetch = false }
}

// SetLogRotateBytes sets the log size past which the log's documents are
// written to their files in the background, until the returned function
// restores it. Not for parallel tests.
func SetLogRotateBytes(n int64) (restore func()) {
	old := logRotateBytes
	logRotateBytes = n
	return func() { logRotateBytes = old }
}

// SetLogSync replaces the log's fsync, until the returned function
// removes it. Not for parallel tests.
func SetLogSync(sync func(*os.File) error) (restore func()) {
	testSyncLog = sync
	return func() { testSyncLog = nil }
}

// DocFile returns the path of the file of a document in a store at path
// whose collection is "rag".
func DocFile(path, docID string) string {
	return filepath.Join(path, "rag", docsDir, docFileName(docID)+docExt)
}
