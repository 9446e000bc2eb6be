package rag

import (
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
		if got := provider.Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
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
