package llm

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// sharedTransport is the transport of the default HTTP client: it keeps
// up to 100 idle connections per host (http.DefaultTransport keeps 2).
var sharedTransport = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 100
	return t
})

// retryAfter reads how long to wait from the headers of an error answer:
// retry-after-ms, else Retry-After (seconds or an HTTP date), else for a
// 429 the x-ratelimit-reset-requests / -tokens of the exhausted limit (or
// the sooner when neither says it is exhausted). 0 when absent.
func retryAfter(h http.Header, status int, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if status != http.StatusTooManyRequests {
		return 0
	}
	req, reqOK := parseReset(h.Get("X-Ratelimit-Reset-Requests"))
	tok, tokOK := parseReset(h.Get("X-Ratelimit-Reset-Tokens"))
	reqOut := reqOK && h.Get("X-Ratelimit-Remaining-Requests") == "0"
	tokOut := tokOK && h.Get("X-Ratelimit-Remaining-Tokens") == "0"
	switch {
	case reqOut && tokOut:
		return max(req, tok)
	case reqOut:
		return req
	case tokOut:
		return tok
	case reqOK && tokOK:
		return min(req, tok)
	case reqOK:
		return req
	case tokOK:
		return tok
	}
	return 0
}

// parseReset parses an x-ratelimit-reset-* value: a Go-style duration
// ("20ms", "1s", "6m0s") or a number of seconds.
func parseReset(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, true
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	return 0, false
}

// slotKey keys the responseSlot of a request in its context.
type slotKey struct{}

// responseSlot receives, from captureTransport, the status and the
// headers of the answer to one request. It is written and read by the
// goroutine making the request only.
type responseSlot struct {
	status int
	header http.Header // of error answers only
}

// captureTransport records the status and error headers of each answer in
// the request's responseSlot, and makes closing a body drain a little of it
// first, so a connection whose answer was read to its end goes back to the
// pool.
type captureTransport struct {
	base http.RoundTripper
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	if slot, ok := req.Context().Value(slotKey{}).(*responseSlot); ok {
		slot.status = resp.StatusCode
		if resp.StatusCode >= 400 {
			slot.header = resp.Header.Clone()
		}
	}
	if resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &drainingBody{ReadCloser: resp.Body}
	}
	return resp, nil
}

// drainLimit bounds what closing a body reads: past it, dropping the
// connection is cheaper than reading on.
const drainLimit = 64 << 10

type drainingBody struct{ io.ReadCloser }

func (b *drainingBody) Close() error {
	_, _ = io.CopyN(io.Discard, b.ReadCloser, drainLimit)
	return b.ReadCloser.Close()
}
