package rerank

import (
	"testing"
)

func TestRetryPolicy(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, DefaultMaxRetries}, {5, 5}, {-1, -1}} {
		p := retryPolicy(tc.in)
		if p.MaxRetries != tc.want || p.MaxRetryAfter != maxRetryAfter {
			t.Errorf("retryPolicy(%d) = %+v", tc.in, p)
		}
	}
}
