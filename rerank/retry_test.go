package rerank

import (
	"fmt"
	"math"
	"reflect"
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

func TestOrder(t *testing.T) {
	scores := []float64{0.2, 0.9, math.NaN(), 0.9, -1, 0.5}
	// Highest first; the two 0.9 keep index order (1 before 3); NaN last.
	want := []int{1, 3, 5, 0, 4, 2}
	if got := Order(scores); !reflect.DeepEqual(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	if got := Order(nil); len(got) != 0 {
		t.Errorf("Order(nil) = %v", got)
	}
	if fmt.Sprint(scores[:2]) != "[0.2 0.9]" {
		t.Error("Order modified its input")
	}
}
