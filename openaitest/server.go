// Package openaitest provides a fake OpenAI-compatible HTTP server for unit
// tests: it speaks the real /v1/embeddings and /v1/chat/completions
// protocols on a local httptest.Server, answers deterministic vectors and
// scripted chat replies, injects faults and limits (latency, 400s, 401,
// 429 with Retry-After, 500s, hangs, malformed bodies, broken streams, and
// the quirks of real servers: errors sent inside a 200 stream, streams
// without a finish reason or a usage chunk, float vectors answered to
// base64 requests), and
// keeps an account of what it received: requests, inputs, tokens, status
// codes, the most requests in flight at once and the TCP connections
// opened.
//
//	srv := openaitest.NewServer(openaitest.Options{MaxConcurrent: 4})
//	defer srv.Close()
//	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "test"}})
//	vecs, err := e.Embed(ctx, texts)
//	st := srv.Stats() // st.Requests, st.MaxInFlight, st.Connections...
//
// Every method of a Server may be called concurrently, also while requests
// are being served.
package openaitest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/tokenizer"
)

// DefaultDimensions is the vector size the server answers when a request
// does not ask for one: 1536, that of text-embedding-3-small, the default
// model of embed.OpenAI, so a client with default options gets the
// dimension it expects.
const DefaultDimensions = 1536

// Default limits, OpenAI's own for its embedding models.
const (
	DefaultMaxInputs        = 2048
	DefaultMaxInputTokens   = 8192
	DefaultMaxRequestTokens = 300_000
)

// Options configures a Server. The zero value is a well-behaved server
// without faults, limits beyond OpenAI's own, or API key check.
//
// Functions in Options are called from the server's handler goroutines and
// must be safe for concurrent use.
type Options struct {
	// APIKey, when set, is the only key accepted: a request without
	// "Authorization: Bearer <APIKey>" (or Azure's "api-key: <APIKey>") is
	// answered 401 invalid_api_key.
	APIKey string

	// Dimensions is the vector size of embeddings when a request does not
	// set "dimensions", and the largest size a request may ask for;
	// <= 0 means DefaultDimensions.
	Dimensions int

	// Embedder computes the vectors. Nil means embed.Hashing at the
	// requested dimension, so vectors are deterministic and texts sharing
	// words are close. When a request asks for fewer dimensions than
	// Embedder gives, vectors are truncated and L2-normalised again, as
	// OpenAI does for text-embedding-3 models. An error from Embedder is
	// answered 500.
	Embedder embed.Embedder

	// Models, when not empty, lists the models accepted; any other is
	// answered 404 model_not_found. Empty accepts every model.
	Models []string

	// MaxInputs is the largest number of inputs in an embedding request;
	// more are answered 400. 0 means DefaultMaxInputs, < 0 no limit.
	MaxInputs int
	// MaxInputTokens is the largest number of tokens of one input; a
	// longer input is answered 400 context_length_exceeded. 0 means
	// DefaultMaxInputTokens, < 0 no limit.
	MaxInputTokens int
	// MaxRequestTokens is the largest number of tokens of all the inputs
	// of a request together; more are answered 400
	// max_tokens_per_request. 0 means DefaultMaxRequestTokens, < 0 no
	// limit.
	MaxRequestTokens int
	// CountTokens counts the tokens of a text, for limits and usage. Nil
	// means tokenizer.CL100K().Count, the tokenizer of OpenAI's embedding
	// models, so counts match the real API.
	CountTokens func(text string) int

	// MaxConcurrent > 0 answers 429 to a request that arrives while
	// MaxConcurrent requests are already in flight.
	MaxConcurrent int
	// RequestsPerMinute > 0 and TokensPerMinute > 0 rate-limit requests
	// with token buckets that hold a minute's allowance and refill
	// continuously, as OpenAI's limits do. A request over either limit is
	// answered 429 with the time until it would fit. Responses carry
	// x-ratelimit-limit-*, x-ratelimit-remaining-* and x-ratelimit-reset-*
	// headers for the configured limits.
	RequestsPerMinute int
	TokensPerMinute   int
	// RetryAfter is the wait advertised by 429s for MaxConcurrent (the
	// buckets compute their own); 0 means one second. It is sent as
	// Retry-After (whole seconds, rounded up), retry-after-ms and
	// x-ratelimit-reset-requests ("20ms", "1s", "6m0s").
	RetryAfter time.Duration

	// Latency delays every answer. The wait ends early when the client
	// gives up or the server is closed.
	Latency time.Duration

	// Seed seeds the random generator that draws the faults below, so a
	// test gets the same sequence of faults on every run (in the order
	// requests arrive).
	Seed uint64
	// ErrorRate is the fraction of requests answered 500 server_error.
	ErrorRate float64
	// TimeoutRate is the fraction of requests never answered: the handler
	// waits until the client gives up (its context or timeout) or the
	// server is closed.
	TimeoutRate float64
	// MalformedRate is the fraction of requests answered 200 with a
	// truncated JSON body.
	MalformedRate float64
	// SlowRate is the fraction of requests delayed by SlowLatency (1s when
	// zero) on top of Latency.
	SlowRate    float64
	SlowLatency time.Duration

	// Fault, when set, is asked about every request once its body is
	// decoded, before it is validated, limited or delayed: a non-nil
	// Fault is the answer. It scripts precise failures ("the 2nd request
	// gets a 429"). The Request it is given is a copy.
	Fault func(Request) *Fault

	// ShuffleData answers the items of an embedding response in a random
	// order; the API does not promise their order, clients must use each
	// item's index.
	ShuffleData bool

	// ChatReply computes the reply to a chat completion request. When nil,
	// replies are taken in turn from ChatReplies, and once those run out
	// the reply echoes the last user message: "echo: <message>".
	ChatReply   func(ChatRequest) string
	ChatReplies []string
	// StreamFailAfter > 0 breaks every streamed chat completion right
	// after that many content deltas: the connection is closed without
	// the final chunk and [DONE]. A reply of fewer deltas streams whole.
	StreamFailAfter int
	// StreamDelay is the pause before each streamed content delta.
	StreamDelay time.Duration
	// NoFinishReason leaves finish_reason null everywhere, as some
	// servers do: a stream then ends with [DONE] after its content and
	// never says why it stopped.
	NoFinishReason bool
	// NoUsageChunk ignores stream_options.include_usage: streams end
	// without the usage chunk, as servers that do not know the option do.
	NoUsageChunk bool

	// FloatOnly answers embeddings as arrays of floats whatever the
	// request's encoding_format, as servers that do not know "base64" do.
	FloatOnly bool
}

// A Fault is a scripted answer to a request, returned by Options.Fault.
type Fault struct {
	// Status > 0 answers this HTTP status with an OpenAI error body made
	// of Type, Code and Message (defaults derive from the status).
	Status  int
	Type    string
	Code    string
	Message string
	// RetryAfter, when > 0, is sent as Retry-After, retry-after-ms and
	// x-ratelimit-reset-requests.
	RetryAfter time.Duration
	// Hang never answers: the handler waits until the client gives up or
	// the server is closed.
	Hang bool
	// Malformed answers 200 with a truncated JSON body.
	Malformed bool
	// Delay waits before the answer (the error, or the normal answer when
	// Status is 0 and neither Hang nor Malformed is set).
	Delay time.Duration
	// InBand sends the error inside a 200 answer, as several servers do:
	// a streamed chat completion streams InBandAfter content deltas, then
	// an event `data: {"error": {...}}` made of Type, Code and Message
	// (with Status as "status" when > 0) and ends there; any other
	// request is answered 200 with the error body. Status is not sent as
	// the HTTP status.
	InBand      bool
	InBandAfter int
}

// Request is the server's record of one HTTP request.
type Request struct {
	Seq    int       // arrival order, from 1
	Time   time.Time // arrival time
	Method string
	Path   string
	Query  string // raw query, e.g. Azure's "api-version=2024-02-01"
	Header http.Header

	// Status is the status answered: 0 while in flight and for a request
	// never answered (a hang the client gave up on). A broken stream keeps
	// the 200 it started with.
	Status int
	// Chat is the decoded chat request, for chat completions; shared by
	// every copy of the record, read it only.
	Chat *ChatRequest
	// Fault names the fault applied, if any: "auth", "invalid",
	// "rate_limit", "scripted", "error", "timeout", "malformed",
	// "slow", "stream_break" (a scripted in-band error is "scripted").
	Fault string

	Model      string
	Inputs     []string // embedding inputs
	Tokens     int      // prompt tokens, as counted by CountTokens
	Dimensions int      // requested "dimensions", 0 if absent
	Encoding   string   // requested "encoding_format"
}

// Stats sums up what a server received.
type Stats struct {
	Requests       int         // HTTP requests, any path
	EmbedRequests  int         // requests to the embeddings endpoint
	ChatRequests   int         // requests to the chat completions endpoint
	InputsReceived int         // inputs in embedding requests that could be read
	Inputs         int         // inputs in embedding requests answered 200
	Tokens         int         // prompt tokens of requests answered 200
	Status         map[int]int // requests by status answered; 0 for never answered
	InFlight       int         // requests being served now
	MaxInFlight    int         // most requests being served at one time
	Connections    int         // TCP connections accepted
}

// Server is a fake OpenAI-compatible API server on a local address.
type Server struct {
	opts      Options
	srv       *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once
	count     func(string) int

	conns atomic.Int64

	mu       sync.Mutex
	rng      *rand.Rand
	reqs     []*Request
	stats    Stats
	inFlight int
	rpm, tpm *bucket
	replies  []string
	hashers  map[int]*embed.Hashing
	chatSeq  int
}

// NewServer starts a server configured by opts. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Dimensions <= 0 {
		opts.Dimensions = DefaultDimensions
	}
	if opts.MaxInputs == 0 {
		opts.MaxInputs = DefaultMaxInputs
	}
	if opts.MaxInputTokens == 0 {
		opts.MaxInputTokens = DefaultMaxInputTokens
	}
	if opts.MaxRequestTokens == 0 {
		opts.MaxRequestTokens = DefaultMaxRequestTokens
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.SlowLatency <= 0 {
		opts.SlowLatency = time.Second
	}
	s := &Server{
		opts:    opts,
		closing: make(chan struct{}),
		count:   opts.CountTokens,
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x6f70656e61697465)),
		replies: slices.Clone(opts.ChatReplies),
		hashers: map[int]*embed.Hashing{},
		stats:   Stats{Status: map[int]int{}},
	}
	if s.count == nil {
		s.count = func(text string) int { return tokenizer.CL100K().Count(text) }
	}
	now := time.Now()
	if opts.RequestsPerMinute > 0 {
		s.rpm = newBucket(opts.RequestsPerMinute, now)
	}
	if opts.TokensPerMinute > 0 {
		s.tpm = newBucket(opts.TokensPerMinute, now)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	return s
}

// URL returns the base URL of the API, ending in "/v1", to give clients as
// their base URL.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Client returns an HTTP client for the server, whose idle connections are
// closed with the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server: it ends requests that hang or wait, closes the
// connections and blocks until every handler has returned. Close may be
// called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Stats returns a snapshot of the server's accounting.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Status = make(map[int]int, len(s.stats.Status))
	for k, v := range s.stats.Status {
		st.Status[k] = v
	}
	st.InFlight = s.inFlight
	st.Connections = int(s.conns.Load())
	return st
}

// Requests returns the records of every request received so far, in
// arrival order. The records are copies.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = *r
		out[i].Inputs = slices.Clone(r.Inputs)
		out[i].Header = r.Header.Clone()
	}
	return out
}

// InputTimes returns the arrival times of the embedding requests that
// held input, in order: one per attempt to embed it, so a test can check
// that retries were spaced by a backoff.
func (s *Server) InputTimes(input string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, r := range s.reqs {
		if slices.Contains(r.Inputs, input) {
			out = append(out, r.Time)
		}
	}
	return out
}

// apiError is the error object of OpenAI's error bodies.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// exchange is one request being served.
type exchange struct {
	s   *Server
	w   http.ResponseWriter
	r   *http.Request
	rec *Request
	ctx context.Context

	answered bool   // a status was written
	inBand   *Fault // an error to send inside the answer
}

func (x *exchange) setFault(name string) {
	x.s.mu.Lock()
	if x.rec.Fault == "" {
		x.rec.Fault = name
	}
	x.s.mu.Unlock()
}

func (x *exchange) setStatus(status int) {
	x.answered = true
	x.s.mu.Lock()
	x.rec.Status = status
	x.s.stats.Status[status]++
	x.s.mu.Unlock()
}

// writeJSON answers status with v as a JSON body of known length.
func (x *exchange) writeJSON(status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body = []byte(`{"error":{"message":"openaitest: encoding the answer failed","type":"server_error","param":null,"code":null}}`)
		status = http.StatusInternalServerError
	}
	x.writeBody(status, append(body, '\n'))
}

// writeBody answers status with a JSON body.
func (x *exchange) writeBody(status int, body []byte) {
	x.w.Header().Set("Content-Type", "application/json")
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.setStatus(status)
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}

// writeError answers an OpenAI error body.
func (x *exchange) writeError(status int, typ, code, param, msg string) {
	if typ == "" {
		typ = defaultErrorType(status)
	}
	x.writeJSON(status, map[string]any{"error": apiError{Message: msg, Type: typ, Param: strPtr(param), Code: strPtr(code)}})
}

func defaultErrorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "requests"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// setRetryAfter sets the headers that tell a client how long to wait.
func (x *exchange) setRetryAfter(d time.Duration) {
	h := x.w.Header()
	secs := int64(math.Ceil(d.Seconds()))
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("Retry-After-Ms", strconv.FormatInt(max(d.Milliseconds(), 1), 10))
	if h.Get("X-Ratelimit-Reset-Requests") == "" {
		h.Set("X-Ratelimit-Reset-Requests", formatReset(d))
	}
}

// formatReset formats a duration the way OpenAI's x-ratelimit-reset-*
// headers do: "20ms", "1s", "6m0s".
func formatReset(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(max(d.Milliseconds(), 1), 10) + "ms"
	}
	return d.Round(time.Millisecond).String()
}

// wait pauses for d, and reports false when the client went away or the
// server is closing first.
func (x *exchange) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.ctx.Done():
	case <-x.s.closing:
	}
	return false
}

// hang waits until the client gives up or the server closes.
func (x *exchange) hang() {
	select {
	case <-x.ctx.Done():
	case <-x.s.closing:
	}
}

const maxBody = 64 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := time.Now() // under the lock, so that times follow Seq
	s.stats.Requests++
	s.inFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.inFlight)
	inFlight := s.inFlight
	rec := &Request{Seq: len(s.reqs) + 1, Time: now, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	x := &exchange{s: s, w: w, r: r, rec: rec, ctx: r.Context()}
	// Read the whole body first, whatever the answer, so the connection
	// stays reusable.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			x.setFault("invalid")
			x.writeError(http.StatusRequestEntityTooLarge, "", "", "", "openaitest: request body too large")
			return
		}
		return // the client went away
	}

	var endpoint func(*exchange, []byte, int)
	switch {
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		s.mu.Lock()
		s.stats.EmbedRequests++
		s.mu.Unlock()
		endpoint = (*exchange).embeddings
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		s.mu.Lock()
		s.stats.ChatRequests++
		s.mu.Unlock()
		endpoint = (*exchange).chat
	default:
		x.writeError(http.StatusNotFound, "", "", "", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
		return
	}
	if r.Method != http.MethodPost {
		x.w.Header().Set("Allow", http.MethodPost)
		x.writeError(http.StatusMethodNotAllowed, "", "", "", "Method "+r.Method+" not allowed; use POST")
		return
	}
	if !x.authorized() {
		x.setFault("auth")
		x.writeError(http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "",
			"Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.")
		return
	}
	endpoint(x, body, inFlight)
	if !x.answered {
		// The client gave up, or the server closed, before an answer.
		s.mu.Lock()
		s.stats.Status[0]++
		s.mu.Unlock()
	}
}

func (x *exchange) authorized() bool {
	key := x.s.opts.APIKey
	if key == "" {
		return true
	}
	if auth, ok := strings.CutPrefix(x.r.Header.Get("Authorization"), "Bearer "); ok && auth == key {
		return true
	}
	return x.r.Header.Get("Api-Key") == key
}

// scripted applies the fault Options.Fault scripts for a decoded request,
// and reports whether the request should go on.
func (x *exchange) scripted() bool {
	s := x.s
	if s.opts.Fault == nil {
		return true
	}
	s.mu.Lock()
	rec := *x.rec
	rec.Inputs = slices.Clone(rec.Inputs)
	rec.Header = rec.Header.Clone()
	s.mu.Unlock()
	f := s.opts.Fault(rec)
	if f == nil {
		return true
	}
	x.setFault("scripted")
	return x.applyFault(f)
}

// faults applies to a valid request the limits, the random faults and
// the latency. It reports whether the request should be answered
// normally.
func (x *exchange) faults(inFlight, tokens int) bool {
	s := x.s
	if s.opts.MaxConcurrent > 0 && inFlight > s.opts.MaxConcurrent {
		x.setFault("rate_limit")
		x.setRetryAfter(s.opts.RetryAfter)
		x.writeError(http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "",
			"Too many concurrent requests: limit "+strconv.Itoa(s.opts.MaxConcurrent)+". Please try again in "+formatReset(s.opts.RetryAfter)+".")
		return false
	}
	if !x.rateLimit(tokens) {
		return false
	}

	var timeout, fail, malformed, slow bool
	if s.opts.TimeoutRate > 0 || s.opts.ErrorRate > 0 || s.opts.MalformedRate > 0 || s.opts.SlowRate > 0 {
		s.mu.Lock()
		p := s.rng.Float64()
		slow = s.rng.Float64() < s.opts.SlowRate
		s.mu.Unlock()
		switch {
		case p < s.opts.TimeoutRate:
			timeout = true
		case p < s.opts.TimeoutRate+s.opts.ErrorRate:
			fail = true
		case p < s.opts.TimeoutRate+s.opts.ErrorRate+s.opts.MalformedRate:
			malformed = true
		}
	}
	delay := s.opts.Latency
	if slow {
		x.setFault("slow")
		delay += s.opts.SlowLatency
	}
	switch {
	case timeout:
		x.setFault("timeout")
		x.hang()
		return false
	case fail:
		x.setFault("error")
		if x.wait(delay) {
			x.writeError(http.StatusInternalServerError, "server_error", "", "",
				"The server had an error while processing your request. Sorry about that!")
		}
		return false
	case malformed:
		x.setFault("malformed")
		if x.wait(delay) {
			x.writeMalformed()
		}
		return false
	}
	return x.wait(delay)
}

func (x *exchange) applyFault(f *Fault) bool {
	if f.Hang {
		x.hang()
		return false
	}
	if !x.wait(f.Delay) {
		return false
	}
	if f.Malformed {
		x.writeMalformed()
		return false
	}
	if f.InBand {
		if x.rec.Chat != nil && x.rec.Chat.Stream {
			x.inBand = f
			return true
		}
		x.writeJSON(http.StatusOK, map[string]any{"error": f.inBandError()})
		return false
	}
	if f.Status <= 0 {
		return true
	}
	if f.RetryAfter > 0 {
		x.setRetryAfter(f.RetryAfter)
	}
	msg := f.Message
	if msg == "" {
		msg = "openaitest: scripted " + strconv.Itoa(f.Status) + " " + http.StatusText(f.Status)
	}
	x.writeError(f.Status, f.Type, f.Code, "", msg)
	return false
}

// inBandError is the error object of an in-band fault.
func (f *Fault) inBandError() map[string]any {
	msg := f.Message
	if msg == "" {
		msg = "openaitest: scripted in-band error"
	}
	typ := f.Type
	if typ == "" && f.Status > 0 {
		typ = defaultErrorType(f.Status)
	}
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": strPtr(f.Code)}
	if f.Status > 0 {
		e["status"] = f.Status
	}
	return e
}

func (x *exchange) writeMalformed() {
	body := []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0123,-0.`)
	x.w.Header().Set("Content-Type", "application/json")
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.setStatus(http.StatusOK)
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(body)
}

// bucket is a token bucket holding a minute's allowance.
type bucket struct {
	capacity float64
	level    float64
	perSec   float64
	last     time.Time
}

func newBucket(perMinute int, now time.Time) *bucket {
	return &bucket{capacity: float64(perMinute), level: float64(perMinute), perSec: float64(perMinute) / 60, last: now}
}

func (b *bucket) refill(now time.Time) {
	b.level = min(b.capacity, b.level+now.Sub(b.last).Seconds()*b.perSec)
	b.last = now
}

func (b *bucket) seconds(n float64) time.Duration {
	return time.Duration(n / b.perSec * float64(time.Second))
}

// wait returns how long until n fit; it is only called after refill.
func (b *bucket) wait(n float64) time.Duration { return b.seconds(n - b.level) }

// reset returns how long until the bucket is full.
func (b *bucket) reset() time.Duration { return b.seconds(b.capacity - b.level) }

// rateLimit takes one request and tokens from the buckets, or answers 429.
func (x *exchange) rateLimit(tokens int) bool {
	s := x.s
	if s.rpm == nil && s.tpm == nil {
		return true
	}
	now := time.Now()
	s.mu.Lock()
	var (
		kind  string
		limit int
		wait  time.Duration
	)
	if s.rpm != nil {
		s.rpm.refill(now)
		if s.rpm.level < 1 {
			kind, limit, wait = "requests", s.opts.RequestsPerMinute, s.rpm.wait(1)
		}
	}
	if s.tpm != nil && kind == "" {
		s.tpm.refill(now)
		if float64(tokens) > s.tpm.level {
			kind, limit, wait = "tokens", s.opts.TokensPerMinute, s.tpm.wait(float64(tokens))
		}
	}
	if kind == "" {
		if s.rpm != nil {
			s.rpm.level--
		}
		if s.tpm != nil {
			s.tpm.level -= float64(tokens)
		}
	}
	h := x.w.Header()
	if s.rpm != nil {
		h.Set("X-Ratelimit-Limit-Requests", strconv.Itoa(s.opts.RequestsPerMinute))
		h.Set("X-Ratelimit-Remaining-Requests", strconv.Itoa(int(s.rpm.level)))
		h.Set("X-Ratelimit-Reset-Requests", formatReset(s.rpm.reset()))
	}
	if s.tpm != nil {
		h.Set("X-Ratelimit-Limit-Tokens", strconv.Itoa(s.opts.TokensPerMinute))
		h.Set("X-Ratelimit-Remaining-Tokens", strconv.Itoa(int(s.tpm.level)))
		h.Set("X-Ratelimit-Reset-Tokens", formatReset(s.tpm.reset()))
	}
	s.mu.Unlock()
	if kind == "" {
		return true
	}
	x.setFault("rate_limit")
	x.setRetryAfter(wait)
	unit := map[string]string{"requests": "requests per min (RPM)", "tokens": "tokens per min (TPM)"}[kind]
	model := x.rec.Model
	msg := "Rate limit reached for " + model + " in organization org-openaitest on " + unit +
		": Limit " + strconv.Itoa(limit) + ". Please try again in " + formatReset(wait) + "."
	if kind == "tokens" && tokens > limit {
		msg = "Request too large for " + model + " in organization org-openaitest on " + unit +
			": Limit " + strconv.Itoa(limit) + ", Requested " + strconv.Itoa(tokens) + "."
	}
	x.writeError(http.StatusTooManyRequests, kind, "rate_limit_exceeded", "", msg)
	return false
}
