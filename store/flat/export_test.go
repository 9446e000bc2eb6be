package flat

import "os"

// SetCompactMinBytes lowers the log size that starts a compaction, until
// the returned function restores it.
func SetCompactMinBytes(n int64) (restore func()) {
	old := compactMinBytes
	compactMinBytes = n
	return func() { compactMinBytes = old }
}

// SetLogHooks installs the fsync and after-append seams, until the
// returned function removes them.
func SetLogHooks(sync func(*os.File) error, afterAppend func()) (restore func()) {
	testSyncLog, testAfterAppend = sync, afterAppend
	return func() { testSyncLog, testAfterAppend = nil, nil }
}

// WaitCompaction waits for a background compaction to finish.
func WaitCompaction(s *Store) { s.bg.Wait() }

// Abandon drops a store as a crash would: the log file is closed as it
// is, nothing is folded or written, and the store refuses further calls.
func Abandon(s *Store) {
	s.mu.Lock()
	s.closed = true
	if s.log != nil {
		s.log.Retire()
		s.log = nil
	}
	s.mu.Unlock()
	s.bg.Wait()
}
