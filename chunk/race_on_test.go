//go:build race

package chunk_test

// raceEnabled reports whether the race detector is on: it changes what
// the runtime allocates (sync.Pool drops items at random), so allocation
// tests do not run under it.
const raceEnabled = true
