package chromem

// ForceOverFetch makes every filtered search ask chromem-go for candidates
// and over-fetch, instead of scoring a selective filter's matches
// directly, until the returned function is called. Not for parallel tests.
func ForceOverFetch() (restore func()) {
	forceOverFetch = true
	return func() { forceOverFetch = false }
}
