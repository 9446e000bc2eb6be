package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelayBounds(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for attempt := range 40 {
		ceil := hi
		if attempt < 30 {
			ceil = min(hi, lo<<attempt)
		}
		for range 200 {
			if d := Delay(attempt, lo, hi); d < lo/2 || d > ceil {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, lo/2, ceil)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, 0); err != nil {
		t.Fatalf("nothing to wait for: %v", err)
	}
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if err := Sleep(context.Background(), time.Microsecond); err != nil {
		t.Fatal(err)
	}
}
