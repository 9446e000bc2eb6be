package rag

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/provider"

	"github.com/ragkit-go/rag/embed"
)

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&provider.Error{StatusCode: 429}, true},
		{&provider.Error{StatusCode: 500}, true},
		{&provider.Error{StatusCode: 503}, true},
		{&provider.Error{StatusCode: 408}, true},
		{&provider.Error{StatusCode: 0}, true}, // never answered
		{&provider.Error{StatusCode: 400}, false},
		{&provider.Error{StatusCode: 401}, false},
		{&provider.Error{StatusCode: 404}, false},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{io.ErrUnexpectedEOF, true},
		{embed.ErrCountMismatch, false},
		{embed.ErrInvalidVector, false},
		{errors.New("anything else"), false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for attempt := range 12 {
		ceil := min(hi, lo<<attempt)
		for range 200 {
			d := backoff.Delay(attempt, lo, hi)
			if d < lo/2 || d > ceil {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, lo/2, ceil)
			}
		}
	}
}

// TestLimiterDebt checks the token bucket's arithmetic: a full bucket
// lets a burst through at once, and the next caller owes the time its
// tokens take to refill. The waits are computed, not slept: the context is
// already cancelled, so wait returns at once unless it owes nothing.
func TestLimiterDebt(t *testing.T) {
	l := newLimiter(600, 1) // 10 a second, a bucket of 60
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 60 {
		if err := l.wait(ctx, 1); err != nil {
			t.Fatalf("request %d of the burst waited: %v", i, err)
		}
	}
	if err := l.wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("request 61 did not have to wait: %v", err)
	}
	l.mu.Lock()
	debt := -l.tokens
	l.mu.Unlock()
	if debt < 0.9 || debt > 1.1 {
		t.Fatalf("debt after 61 requests of a bucket of 60: %v tokens, want 1", debt)
	}
	// A request larger than the bucket is let through (it cannot be split)
	// and paid for afterwards.
	big := newLimiter(60, 1000)
	if err := big.wait(ctx, 1000); err != nil {
		t.Fatalf("a request as large as the bucket waited: %v", err)
	}
}
