package httpx

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		hd := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hd.Set(kv[i], kv[i+1])
		}
		return hd
	}
	for _, tc := range []struct {
		name   string
		h      http.Header
		status int
		want   time.Duration
	}{
		{"none", h(), 429, 0},
		{"seconds", h("Retry-After", "3"), 503, 3 * time.Second},
		{"fractional", h("Retry-After", "0.25"), 429, 250 * time.Millisecond},
		{"date", h("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), 429, 90 * time.Second},
		{"past date", h("Retry-After", now.Add(-time.Minute).Format(http.TimeFormat)), 429, 0},
		{"ms wins", h("Retry-After-Ms", "20", "Retry-After", "3"), 429, 20 * time.Millisecond},
		{"absurd", h("Retry-After", "1e300"), 429, 0},
		{"garbage", h("Retry-After", "soon"), 429, 0},
		{"reset requests exhausted", h("X-Ratelimit-Reset-Requests", "6m0s", "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Tokens", "1s"), 429, 6 * time.Minute},
		{"reset tokens exhausted", h("X-Ratelimit-Reset-Requests", "6m0s", "X-Ratelimit-Reset-Tokens", "1s", "X-Ratelimit-Remaining-Tokens", "0"), 429, time.Second},
		{"reset, none exhausted: sooner", h("X-Ratelimit-Reset-Requests", "2s", "X-Ratelimit-Reset-Tokens", "20ms"), 429, 20 * time.Millisecond},
		{"reset ignored off 429", h("X-Ratelimit-Reset-Requests", "2s"), 500, 0},
	} {
		if got := RetryAfter(tc.h, tc.status, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTransport: error headers reach the slot, and bodies left unread are
// drained on Close, so one connection serves every request.
func TestTransport(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/limited" {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(429)
		}
		io.WriteString(w, strings.Repeat("x", 10_000))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := Wrap(nil)
	for i := range 10 {
		slot := &Slot{}
		path := "/ok"
		if i%2 == 1 {
			path = "/limited"
		}
		req, _ := http.NewRequestWithContext(WithSlot(context.Background(), slot), "GET", srv.URL+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Read(make([]byte, 10)) // read a little, then close
		resp.Body.Close()
		if slot.Status != resp.StatusCode {
			t.Fatalf("slot status %d, answer %d", slot.Status, resp.StatusCode)
		}
		if got := RetryAfter(slot.Header, slot.Status, time.Now()); (path == "/limited") != (got == 2*time.Second) {
			t.Fatalf("%s: retry after %v", path, got)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 10 sequential requests", n)
	}
}

// TestSlotBody: a Slot's Body is what the server receives, with its
// length, in place of the body the request was made with, which is closed.
func TestSlotBody(t *testing.T) {
	var got []byte
	var length int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		length = r.ContentLength
	}))
	defer srv.Close()
	c := Wrap(nil)
	for _, body := range []string{`{"input":["a","b"]}`, ""} {
		slot := &Slot{Body: []byte(body)}
		orig := &closeRecorder{Reader: strings.NewReader(`{"input":[]}`)}
		req, _ := http.NewRequestWithContext(WithSlot(context.Background(), slot), "POST", srv.URL, orig)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if string(got) != body || length != int64(len(body)) {
			t.Errorf("server got %q (length %d), want %q", got, length, body)
		}
		if !orig.closed.Load() {
			t.Error("the replaced body was not closed")
		}
	}
}

type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }
