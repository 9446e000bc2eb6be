//go:build race

package embed_test

// raceEnabled: the race detector slows CPU-bound evaluations tenfold.
const raceEnabled = true
