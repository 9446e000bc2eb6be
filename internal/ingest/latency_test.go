package ingest

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func observe(l *Latency, n int, d time.Duration) {
	for range n {
		l.Observe(d)
	}
}

// TestLatencyColdStart: with too few latencies known nothing is hung, and
// the attempt is looked at again as it ages.
func TestLatencyColdStart(t *testing.T) {
	var l Latency
	observe(&l, latencyMinSamples-1, 100*ms)
	if _, ok := l.Deadline(time.Minute); ok {
		t.Fatal("a deadline from fewer than latencyMinSamples latencies")
	}
	for _, tc := range []struct{ elapsed, wait time.Duration }{
		{0, LatencyFloor}, {300 * ms, LatencyFloor - 300*ms}, {LatencyFloor, LatencyFloor}, {10 * time.Second, 10 * time.Second},
	} {
		hung, wait := l.Next(tc.elapsed, time.Minute)
		if hung || wait != tc.wait {
			t.Errorf("Next(%v) = %v, %v; want false, %v", tc.elapsed, hung, wait, tc.wait)
		}
	}
	l.Observe(100 * ms) // now enough: the deadline is the floor
	if hung, _ := l.Next(10*time.Second, time.Minute); !hung {
		t.Error("an attempt 100 times the latency seen is not hung once a deadline is known")
	}
}

// TestLatencyDeadline: the deadline is 4 × the 95th percentile, at least
// the floor, at most the limit.
func TestLatencyDeadline(t *testing.T) {
	var l Latency
	observe(&l, 95, 200*ms)
	observe(&l, 5, 2*time.Second) // slow tail, above the 95th percentile
	d, ok := l.Deadline(time.Minute)
	if want := 4 * 200 * ms; !ok || d != max(want, LatencyFloor) {
		t.Errorf("Deadline = %v, %v; want %v", d, ok, max(want, LatencyFloor))
	}
	observe(&l, 100, 900*ms)
	if d, _ := l.Deadline(time.Minute); d != 3600*ms {
		t.Errorf("Deadline after 900ms answers = %v, want 3.6s", d)
	}
	if d, _ := l.Deadline(2 * time.Second); d != 2*time.Second {
		t.Errorf("Deadline capped at 2s = %v", d)
	}
	if d, _ := l.Deadline(0); d != 3600*ms {
		t.Errorf("Deadline without a limit = %v, want 3.6s", d)
	}
	hung, wait := l.Next(time.Second, time.Minute)
	if hung || wait != 2600*ms {
		t.Errorf("Next(1s) = %v, %v; want false, 2.6s", hung, wait)
	}
	if hung, _ := l.Next(3600*ms, time.Minute); !hung {
		t.Error("Next at the deadline: not hung")
	}
}

// TestLatencyHungFewDoNotRaise: 1% of attempts cut at the deadline leave
// the deadline where it is.
func TestLatencyHungFewDoNotRaise(t *testing.T) {
	var l Latency
	observe(&l, latencyWindow, 500*ms)
	d0, _ := l.Deadline(time.Minute)
	for i := range 10 * latencyWindow {
		if i%100 == 0 {
			d, _ := l.Deadline(time.Minute)
			l.Observe(d) // a hung attempt, cut at its deadline
		} else {
			l.Observe(500 * ms)
		}
	}
	if d, _ := l.Deadline(time.Minute); d != d0 {
		t.Errorf("deadline moved from %v to %v with 1%% hung attempts", d0, d)
	}
}

// TestLatencySlowForEveryone: when every attempt runs past the deadline,
// the cut attempts raise it until answers come within it, and after few
// cuts.
func TestLatencySlowForEveryone(t *testing.T) {
	var l Latency
	observe(&l, latencyWindow, 100*ms) // deadline: the floor, 1s
	const slow = 20 * time.Second      // the provider now takes 20s for everyone
	cuts := 0
	for {
		d, _ := l.Deadline(time.Minute)
		if d > slow {
			break
		}
		l.Observe(d) // cut at d, sent again
		cuts++
		if cuts > latencyWindow {
			t.Fatalf("the deadline is stuck at %v", d)
		}
	}
	// Each quadrupling of the deadline takes 5% of the window (13 cuts):
	// 1s → 4s → 16s → 64s capped at the 60s limit.
	if cuts > 3*14 {
		t.Errorf("%d attempts cut before the deadline passed %v", cuts, slow)
	}
}
