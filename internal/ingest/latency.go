package ingest

import (
	"slices"
	"sync"
	"time"
)

// The rule by which Latency deems an attempt hung.
const (
	// latencyWindow is how many recent latencies are kept.
	latencyWindow = 256
	// latencyMinSamples is how many latencies must be known before any
	// attempt is deemed hung: until then nothing says what is normal.
	latencyMinSamples = 16
	// latencyQuantile and latencyFactor: an attempt is hung once it has
	// taken latencyFactor times the latencyQuantile of recent latencies.
	// The 95th percentile, not the 99th, so that 1% of hung requests (each
	// recorded at its deadline) do not drag the deadline up with them,
	// while a provider slow for everyone raises it after a few cut
	// attempts: once 5% of the window are cut, the deadline quadruples.
	latencyQuantile = 0.95
	latencyFactor   = 4
	// LatencyFloor is the shortest deadline: answers quicker than this
	// vary too much for a multiple of their quantile to mean anything.
	LatencyFloor = time.Second
)

// Latency tracks how long one kind of request takes to be answered and
// derives from it how long an attempt may run before it is deemed hung:
// latencyFactor × the 95th percentile of the last latencyWindow
// latencies, at least LatencyFloor, at most the policy's RequestTimeout.
// While fewer than latencyMinSamples latencies are known, no attempt is
// deemed hung. An attempt cut as hung counts as a latency of its
// deadline, so that a provider that has become slow for everyone raises
// the deadline instead of having every request cut and sent again.
//
// Its methods may be called concurrently. The zero value is ready.
type Latency struct {
	mu     sync.Mutex
	ring   [latencyWindow]time.Duration
	n      int           // latencies observed in all
	q      time.Duration // the quantile of ring, valid when qAt == n
	qAt    int
	sorted []time.Duration // scratch for the quantile
}

// Observe records the latency of an answered attempt, or the time after
// which an attempt was cut as hung.
func (l *Latency) Observe(d time.Duration) {
	l.mu.Lock()
	l.ring[l.n%latencyWindow] = d
	l.n++
	l.mu.Unlock()
}

// Deadline returns how long an attempt may run before it is deemed hung
// (at most limit, when limit > 0), and false while too few latencies are
// known to say.
func (l *Latency) Deadline(limit time.Duration) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n < latencyMinSamples {
		return 0, false
	}
	if l.qAt != l.n {
		l.sorted = append(l.sorted[:0], l.ring[:min(l.n, latencyWindow)]...)
		slices.Sort(l.sorted)
		l.q = l.sorted[int(latencyQuantile*float64(len(l.sorted)-1))]
		l.qAt = l.n
	}
	d := max(latencyFactor*l.q, LatencyFloor)
	if limit > 0 {
		d = min(d, limit)
	}
	return d, true
}

// Next says, for an attempt that has run for elapsed, whether it is hung
// now; if not, it returns how long to wait before asking again. While no
// deadline is known it asks again at LatencyFloor, then each time the
// attempt's age doubles, so that an attempt started before enough
// latencies were known is still cut once they are.
func (l *Latency) Next(elapsed, limit time.Duration) (hung bool, wait time.Duration) {
	d, ok := l.Deadline(limit)
	if !ok {
		return false, max(LatencyFloor-elapsed, elapsed, time.Millisecond)
	}
	if elapsed >= d {
		return true, 0
	}
	return false, d - elapsed
}
