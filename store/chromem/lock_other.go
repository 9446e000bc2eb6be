//go:build !unix

package chromem

// lockDir does not lock on this platform: the caller must make sure one
// Store at a time opens a directory.
func lockDir(path string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
