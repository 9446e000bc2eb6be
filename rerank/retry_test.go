package rerank

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		header, value string
		want          time.Duration
	}{
		{"Retry-After", "7", 7 * time.Second},
		{"Retry-After", "1.5", 1500 * time.Millisecond},
		{"Retry-After", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"Retry-After", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"Retry-After", "soon", 0},
		{"Retry-After", "-3", 0},
		{"Retry-After-Ms", "250", 250 * time.Millisecond},
		{"X-Other", "5", 0},
	}
	for _, c := range cases {
		h := http.Header{}
		h.Set(c.header, c.value)
		if got := parseRetryAfter(h, now); got != c.want {
			t.Errorf("%s: %s = %v, want %v", c.header, c.value, got, c.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := range 40 {
		hi := maxBackoff
		if attempt < 16 {
			hi = min(baseBackoff<<attempt, maxBackoff)
		}
		for range 50 {
			if d := backoff(attempt); d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, hi/2, hi)
			}
		}
	}
}

func TestErrorMessageShapes(t *testing.T) {
	cases := map[string]string{
		`{"id": "1", "message": "invalid api token"}`:              "invalid api token",
		`{"detail": "Model rerank-9 is not supported"}`:            "Model rerank-9 is not supported",
		`{"detail": [{"loc": ["body"], "msg": "field required"}]}`: "field required",
		`{"error": {"message": "Rate limit", "type": "requests"}}`: "Rate limit",
		`{"error": "quota"}`:           "quota",
		`<html>502 Bad Gateway</html>`: "<html>502 Bad Gateway</html>",
		`{"unrelated": true}`:          `{"unrelated": true}`,
	}
	for body, want := range cases {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

func TestAPIError(t *testing.T) {
	cause := errors.New("connection refused")
	e := &APIError{Provider: "voyage", Err: cause}
	if e.Error() != "rerank: voyage: request failed: connection refused" || !errors.Is(e, cause) || !e.Retryable() {
		t.Errorf("no-answer error: %q retryable %v", e.Error(), e.Retryable())
	}
	e = &APIError{Provider: "cohere", StatusCode: 422, Message: "bad model"}
	if e.Error() != "rerank: cohere answered 422: bad model" || e.Retryable() {
		t.Errorf("422 error: %q retryable %v", e.Error(), e.Retryable())
	}
	for code, want := range map[int]bool{400: false, 401: false, 404: false, 408: true, 429: true, 500: true, 503: true} {
		if got := (&APIError{StatusCode: code}).Retryable(); got != want {
			t.Errorf("Retryable(%d) = %v", code, got)
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
