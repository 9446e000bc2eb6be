// Package httpx holds the HTTP plumbing shared by the provider clients of
// the module (embed, llm, rerank): a transport that keeps connections
// alive, a wrapper that captures what go-openai does not expose (status and
// rate-limit headers of error answers), and the parsing of how long a
// provider asks to wait.
package httpx

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ragkit-go/rag/internal/redact"
)

// SharedTransport is the transport of the module's default HTTP clients:
// it keeps up to 100 idle connections per host (http.DefaultTransport keeps
// 2, so concurrent callers would keep opening new ones).
var SharedTransport = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 100
	return t
})

// DrainLimit bounds what closing a body reads before the connection goes
// back to the pool: past it, dropping the connection is cheaper.
const DrainLimit = 256 << 10

// Drain reads what is left of a body, up to DrainLimit, and closes it.
func Drain(body io.ReadCloser) error {
	_, _ = io.CopyN(io.Discard, body, DrainLimit)
	return body.Close()
}

// A Slot receives, from Transport, the status and the headers of the
// answer to one request. It is written and read by the goroutine making
// the request only.
type Slot struct {
	Status int
	Header http.Header // of error answers (status >= 400) only
	// Secrets are the credentials the request carried (see
	// redact.Secrets), for the client to remove from what it reports.
	Secrets []string
	// OnSuccess, if set, is called with a 2xx answer and may replace it
	// (to decode its body another way, say).
	OnSuccess func(*http.Response) (*http.Response, error)
	// Body, if set, is sent as the request's body in place of the one
	// the client built: a caller that encodes a large request more
	// cheaply than its client library does (embed.OpenAI's inputs,
	// which go-openai marshals, decodes into a map and marshals again)
	// gives the library a short stand-in and the real body here. Neither
	// the Transport nor the caller may modify it once the request is made:
	// net/http may still be reading it after the call returns.
	Body []byte
}

type slotKey struct{}

// WithSlot returns a context whose requests report to s.
func WithSlot(ctx context.Context, s *Slot) context.Context {
	return context.WithValue(ctx, slotKey{}, s)
}

type observerKey struct{}

// WithHeaderObserver returns a context whose requests, sent through a
// Transport, pass the headers of every answer (2xx and errors alike) to
// f before the answer is read. Observers chain: one set on a context that
// already has one runs after it. f is called on the goroutine sending the
// request, so concurrent requests call it concurrently; it must not
// modify the header nor keep it after returning.
func WithHeaderObserver(ctx context.Context, f func(http.Header)) context.Context {
	if f == nil {
		return ctx
	}
	if prev := headerObserver(ctx); prev != nil {
		next := f
		f = func(h http.Header) { prev(h); next(h) }
	}
	return context.WithValue(ctx, observerKey{}, f)
}

func headerObserver(ctx context.Context) func(http.Header) {
	f, _ := ctx.Value(observerKey{}).(func(http.Header))
	return f
}

// Transport passes the headers of each answer to the request's header
// observer (see WithHeaderObserver), removes the request's credentials
// (and any bearer token) from the body of an error answer, since a proxy
// may echo the request's headers there and clients quote it, reports a request to a server that
// has never answered and cannot be reached as an *Unreachable, records the status and error headers
// in the request's Slot, if it has one, and makes closing a body drain it
// first, so a connection goes back to the pool even when a JSON decoder
// stopped short of the body's end.
type Transport struct {
	Base http.RoundTripper
}

// Wrap returns a copy of c (a default client if c is nil) whose transport
// is wrapped by Transport. c itself is not modified.
func Wrap(c *http.Client) *http.Client {
	var hc http.Client
	base := SharedTransport()
	if c != nil {
		hc = *c
		base = http.DefaultTransport
		if c.Transport != nil {
			base = c.Transport
		}
	}
	hc.Transport = &Transport{Base: base}
	return &hc
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	slot, _ := req.Context().Value(slotKey{}).(*Slot)
	if slot != nil && slot.Body != nil {
		req = withBody(req, slot.Body)
	}
	resp, err := t.Base.RoundTrip(req)
	if err != nil {
		return resp, unreachable(req.URL, err)
	}
	if resp == nil {
		return resp, err
	}
	markAnswered(req.URL)
	if observe := headerObserver(req.Context()); observe != nil {
		observe(resp.Header)
	}
	secrets := redact.Secrets(req.Header)
	if resp.StatusCode >= 400 && resp.Body != nil && resp.Body != http.NoBody {
		redactBody(resp, secrets)
	}
	if slot != nil {
		slot.Status = resp.StatusCode
		slot.Secrets = secrets
		if resp.StatusCode >= 400 {
			slot.Header = resp.Header.Clone()
		}
		if slot.OnSuccess != nil && resp.StatusCode/100 == 2 && resp.Body != nil {
			return slot.OnSuccess(resp)
		}
	}
	if resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &drainingBody{ReadCloser: resp.Body}
	}
	return resp, nil
}

// withBody returns a shallow copy of req sending body instead of its own
// body, which it closes (a RoundTripper closes the body it is given).
func withBody(req *http.Request, body []byte) *http.Request {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	r := *req
	r.GetBody = func() (io.ReadCloser, error) {
		if len(body) == 0 {
			return http.NoBody, nil // a length 0 with a body would mean unknown
		}
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	r.Body, _ = r.GetBody()
	r.ContentLength = int64(len(body))
	return &r
}

// redactBody replaces the body of an error answer, up to DrainLimit of
// it, with its text less secrets and bearer tokens (see redact.String).
func redactBody(resp *http.Response, secrets []string) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, DrainLimit))
	_ = Drain(resp.Body)
	clean := redact.String(string(data), secrets...)
	var body io.Reader = strings.NewReader(clean)
	if err != nil {
		body = io.MultiReader(body, errReader{err})
	}
	resp.Body = io.NopCloser(body)
	resp.ContentLength = int64(len(clean))
	if err != nil {
		resp.ContentLength = -1
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type drainingBody struct{ io.ReadCloser }

func (b *drainingBody) Close() error { return Drain(b.ReadCloser) }

// RetryAfter reads how long a provider asks to wait from the headers of an
// error answer: retry-after-ms, else Retry-After (seconds or an HTTP date),
// else for a 429 the x-ratelimit-reset-requests / -tokens of the exhausted
// limit (the sooner when neither says it is exhausted). 0 when absent or
// absurd (a million seconds or more).
func RetryAfter(h http.Header, status int, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e6 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if status != http.StatusTooManyRequests {
		return 0
	}
	req, reqOK := ParseReset(h.Get("X-Ratelimit-Reset-Requests"))
	tok, tokOK := ParseReset(h.Get("X-Ratelimit-Reset-Tokens"))
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

// ParseReset parses an x-ratelimit-reset-* value: a Go duration ("20ms",
// "1s", "6m0s") or a number of seconds; false when absent or invalid.
func ParseReset(v string) (time.Duration, bool) {
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
