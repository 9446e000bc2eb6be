package rerank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/provider"
)

// fakeScore is the relevance the fake servers give a document: a
// deterministic function of query and document.
func fakeScore(query, doc string) float64 {
	h := fnv.New32a()
	h.Write([]byte(query + "\x00" + doc))
	return float64(h.Sum32()%100000) / 100000
}

// fakeAPI describes one API for the table-driven tests: how to build the
// client, how its requests and answers look.
type fakeAPI struct {
	name string
	path string
	// build makes a reranker talking to baseURL.
	build func(baseURL string, o testOpts) (Reranker, *backoff.SleepFunc)
	// decode checks a request body in the provider's shape and returns
	// the query and documents.
	decode func(t *testing.T, body []byte) (query string, docs []string)
	// encode answers scores in the provider's shape.
	encode func(results []indexScore) any
	// errBody is the provider's error body with a message.
	errBody func(msg string) any
}

type testOpts struct {
	maxDocs, concurrency, maxRetries int
	apiKey                           string
}

var providers = []fakeAPI{
	{
		name: "cohere", path: "/v2/rerank",
		build: func(u string, o testOpts) (Reranker, *backoff.SleepFunc) {
			c := NewCohere(CohereOptions{APIKey: o.apiKey, BaseURL: u, MaxDocuments: o.maxDocs, Concurrency: o.concurrency, MaxRetries: o.maxRetries})
			return c, &c.ce.sleep
		},
		decode: func(t *testing.T, body []byte) (string, []string) {
			var r struct {
				Model     string   `json:"model"`
				Query     string   `json:"query"`
				Documents []string `json:"documents"`
				TopN      *int     `json:"top_n"`
			}
			mustJSON(t, body, &r)
			if r.Model != "rerank-v3.5" || r.TopN == nil || *r.TopN != len(r.Documents) {
				t.Errorf("cohere request: model %q top_n %v for %d documents", r.Model, r.TopN, len(r.Documents))
			}
			return r.Query, r.Documents
		},
		encode: func(res []indexScore) any {
			return map[string]any{"id": "abc", "results": res, "meta": map[string]any{"billed_units": map[string]int{"search_units": 1}}}
		},
		errBody: func(msg string) any { return map[string]string{"id": "x", "message": msg} },
	},
	{
		name: "voyage", path: "/v1/rerank",
		build: func(u string, o testOpts) (Reranker, *backoff.SleepFunc) {
			v := NewVoyage(VoyageOptions{APIKey: o.apiKey, BaseURL: u, MaxDocuments: o.maxDocs, Concurrency: o.concurrency, MaxRetries: o.maxRetries})
			return v, &v.ce.sleep
		},
		decode: func(t *testing.T, body []byte) (string, []string) {
			var r struct {
				Query      string   `json:"query"`
				Documents  []string `json:"documents"`
				Model      string   `json:"model"`
				TopK       *int     `json:"top_k"`
				Truncation *bool    `json:"truncation"`
			}
			mustJSON(t, body, &r)
			if r.Model != "rerank-2" || r.TopK == nil || *r.TopK != len(r.Documents) || r.Truncation == nil || !*r.Truncation {
				t.Errorf("voyage request: model %q top_k %v truncation %v", r.Model, r.TopK, r.Truncation)
			}
			return r.Query, r.Documents
		},
		encode: func(res []indexScore) any {
			return map[string]any{"object": "list", "data": res, "model": "rerank-2", "usage": map[string]int{"total_tokens": 42}}
		},
		errBody: func(msg string) any { return map[string]string{"detail": msg} },
	},
	{
		name: "jina", path: "/v1/rerank",
		build: func(u string, o testOpts) (Reranker, *backoff.SleepFunc) {
			j := NewJina(JinaOptions{APIKey: o.apiKey, BaseURL: u, MaxDocuments: o.maxDocs, Concurrency: o.concurrency, MaxRetries: o.maxRetries})
			return j, &j.ce.sleep
		},
		decode: func(t *testing.T, body []byte) (string, []string) {
			var r struct {
				Model           string   `json:"model"`
				Query           string   `json:"query"`
				Documents       []string `json:"documents"`
				TopN            *int     `json:"top_n"`
				ReturnDocuments *bool    `json:"return_documents"`
			}
			mustJSON(t, body, &r)
			if r.Model != "jina-reranker-v2-base-multilingual" || r.TopN == nil || *r.TopN != len(r.Documents) || r.ReturnDocuments == nil || *r.ReturnDocuments {
				t.Errorf("jina request: model %q top_n %v return_documents %v", r.Model, r.TopN, r.ReturnDocuments)
			}
			return r.Query, r.Documents
		},
		encode: func(res []indexScore) any {
			items := make([]map[string]any, len(res))
			for i, r := range res {
				items[i] = map[string]any{"index": r.Index, "relevance_score": r.Score, "document": map[string]string{"text": "…"}}
			}
			return map[string]any{"model": "jina-reranker-v2-base-multilingual", "usage": map[string]int{"total_tokens": 9}, "results": items}
		},
		errBody: func(msg string) any { return map[string]string{"detail": msg} },
	},
}

func mustJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Errorf("request body %s: %v", body, err)
	}
}

// fakeServer answers like p, scoring with fakeScore and ordering results
// best first as the real APIs do. hook, when set, runs first and may
// answer instead (returning true).
type fakeServer struct {
	*httptest.Server
	requests atomic.Int32
	sizes    chan int // documents per answered request
	newConns atomic.Int32
}

func newFakeServer(t *testing.T, p fakeAPI, hook func(w http.ResponseWriter, r *http.Request, n int32) bool) *fakeServer {
	fs := &fakeServer{sizes: make(chan int, 1000)}
	fs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fs.requests.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != p.path {
			t.Errorf("%s: request %s %s", p.name, r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer key-123" {
			t.Errorf("%s: Authorization %q", p.name, got)
		}
		if hook != nil && hook(w, r, n) {
			return
		}
		body, _ := io.ReadAll(r.Body)
		query, docs := p.decode(t, body)
		res := make([]indexScore, len(docs))
		for i, d := range docs {
			res[i] = indexScore{Index: i, Score: fakeScore(query, d)}
		}
		sort.Slice(res, func(i, j int) bool { return res[i].Score > res[j].Score })
		fs.sizes <- len(docs)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p.encode(res))
	}))
	fs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			fs.newConns.Add(1)
		}
	}
	fs.Start()
	t.Cleanup(fs.Close)
	return fs
}

func passages(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("passage number %d about topic %d", i, i%7)
	}
	return out
}

// sleeps records the waits of a reranker's retries instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) install(sleep *backoff.SleepFunc) {
	*sleep = func(ctx context.Context, d time.Duration) error {
		s.mu.Lock()
		s.d = append(s.d, d)
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func TestProvidersScoresInInputOrder(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := newFakeServer(t, p, nil)
			rr, _ := p.build(srv.URL, testOpts{apiKey: "key-123"})
			in := passages(7)
			snapshot := append([]string(nil), in...)
			got, err := rr.Rerank(context.Background(), "which topic?", in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(in) {
				t.Fatalf("%d scores for %d passages", len(got), len(in))
			}
			for i, d := range in {
				if want := fakeScore("which topic?", d); got[i] != want {
					t.Errorf("score %d = %v, want %v", i, got[i], want)
				}
			}
			if strings.Join(in, "|") != strings.Join(snapshot, "|") {
				t.Error("passages modified")
			}
			if srv.requests.Load() != 1 {
				t.Errorf("%d requests, want 1", srv.requests.Load())
			}
			// No passages: no request, empty result.
			got, err = rr.Rerank(context.Background(), "q", nil)
			if err != nil || len(got) != 0 || srv.requests.Load() != 1 {
				t.Errorf("empty input: %v, %v, %d requests", got, err, srv.requests.Load())
			}
		})
	}
}

func TestProvidersSplitLargeSets(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := newFakeServer(t, p, nil)
			rr, _ := p.build(srv.URL, testOpts{apiKey: "key-123", maxDocs: 10})
			in := passages(25)
			got, err := rr.Rerank(context.Background(), "q", in)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range in {
				if got[i] != fakeScore("q", d) {
					t.Fatalf("score %d = %v, want %v", i, got[i], fakeScore("q", d))
				}
			}
			close(srv.sizes)
			var sizes []int
			for n := range srv.sizes {
				sizes = append(sizes, n)
			}
			sort.Ints(sizes)
			if fmt.Sprint(sizes) != "[5 10 10]" {
				t.Errorf("request sizes %v, want [5 10 10]", sizes)
			}
		})
	}
}

func TestProvidersConcurrencyBound(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			const bound = 2
			var inFlight, maxInFlight atomic.Int32
			arrived := make(chan struct{}, 100)
			release := make(chan struct{})
			srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
				n := inFlight.Add(1)
				for {
					m := maxInFlight.Load()
					if n <= m || maxInFlight.CompareAndSwap(m, n) {
						break
					}
				}
				arrived <- struct{}{}
				<-release
				inFlight.Add(-1)
				return false
			})
			rr, _ := p.build(srv.URL, testOpts{apiKey: "key-123", maxDocs: 3, concurrency: bound})
			done := make(chan error, 1)
			go func() {
				_, err := rr.Rerank(context.Background(), "q", passages(18)) // 6 requests
				done <- err
			}()
			for range bound { // the first `bound` requests are held
				<-arrived
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := maxInFlight.Load(); got != bound {
				t.Errorf("max requests in flight = %d, want %d", got, bound)
			}
			if srv.requests.Load() != 6 {
				t.Errorf("%d requests, want 6", srv.requests.Load())
			}
		})
	}
}

func TestProvidersRetryAfter(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			var firstBody, secondBody []byte
			srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, n int32) bool {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(strings.NewReader(string(body)))
				if n == 1 {
					firstBody = body
					w.Header().Set("Retry-After", "2")
					w.WriteHeader(http.StatusTooManyRequests)
					json.NewEncoder(w).Encode(p.errBody("rate limited"))
					return true
				}
				secondBody = body
				return false
			})
			rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123"})
			var s sleeps
			s.install(rt)
			got, err := rr.Rerank(context.Background(), "q", passages(3))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0] != fakeScore("q", passages(3)[0]) {
				t.Errorf("scores %v", got)
			}
			if d := s.get(); len(d) != 1 || d[0] != 2*time.Second {
				t.Errorf("waits %v, want [2s] from Retry-After", d)
			}
			if string(firstBody) != string(secondBody) || len(secondBody) == 0 {
				t.Errorf("retried body differs:\n%s\n%s", firstBody, secondBody)
			}
			// The 429's body was drained: the retry reused the connection.
			if n := srv.newConns.Load(); n != 1 {
				t.Errorf("%d connections opened, want 1 (reuse after drain)", n)
			}
		})
	}
}

func TestProvidersErrors(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Run("400 not retried", func(t *testing.T) {
				srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
					w.WriteHeader(http.StatusBadRequest)
					json.NewEncoder(w).Encode(p.errBody("invalid request: documents must not be empty"))
					return true
				})
				rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123"})
				var s sleeps
				s.install(rt)
				_, err := rr.Rerank(context.Background(), "q", passages(2))
				var apiErr *provider.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Provider != p.name ||
					apiErr.Message != "invalid request: documents must not be empty" || apiErr.Retryable() {
					t.Fatalf("err = %#v", err)
				}
				if srv.requests.Load() != 1 || len(s.get()) != 0 {
					t.Errorf("%d requests, waits %v: a 400 must not be retried", srv.requests.Load(), s.get())
				}
			})
			t.Run("5xx retried then given up", func(t *testing.T) {
				srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
					http.Error(w, "upstream exploded", http.StatusBadGateway)
					return true
				})
				rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123", maxRetries: 2})
				var s sleeps
				s.install(rt)
				_, err := rr.Rerank(context.Background(), "q", passages(2))
				var apiErr *provider.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || !apiErr.Retryable() || apiErr.Message != "upstream exploded" {
					t.Fatalf("err = %v", err)
				}
				if srv.requests.Load() != 3 {
					t.Errorf("%d requests, want 1 + 2 retries", srv.requests.Load())
				}
				// Exponential backoff with full jitter: the k-th wait is
				// in [base/2, base·2^k].
				waits := s.get()
				if len(waits) != 2 {
					t.Errorf("waits %v, want 2", waits)
				}
				for k, d := range waits {
					lo, hi := provider.DefaultMinBackoff/2, provider.DefaultMinBackoff<<k
					if d < lo || d > hi {
						t.Errorf("wait %d = %v, want in [%v, %v]", k, d, lo, hi)
					}
				}
			})
			t.Run("408 retried", func(t *testing.T) {
				srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, n int32) bool {
					if n == 1 {
						w.WriteHeader(http.StatusRequestTimeout)
						return true
					}
					return false
				})
				rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123"})
				(&sleeps{}).install(rt)
				if _, err := rr.Rerank(context.Background(), "q", passages(2)); err != nil || srv.requests.Load() != 2 {
					t.Errorf("err %v after %d requests", err, srv.requests.Load())
				}
			})
			t.Run("no retries when negative", func(t *testing.T) {
				srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
					w.WriteHeader(http.StatusServiceUnavailable)
					return true
				})
				rr, _ := p.build(srv.URL, testOpts{apiKey: "key-123", maxRetries: -1})
				_, err := rr.Rerank(context.Background(), "q", passages(2))
				var apiErr *provider.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || srv.requests.Load() != 1 {
					t.Errorf("err %v after %d requests", err, srv.requests.Load())
				}
			})
			t.Run("long Retry-After not waited", func(t *testing.T) {
				srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
					w.Header().Set("Retry-After", "3600")
					w.WriteHeader(http.StatusTooManyRequests)
					json.NewEncoder(w).Encode(p.errBody("quota exhausted"))
					return true
				})
				rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123"})
				var s sleeps
				s.install(rt)
				_, err := rr.Rerank(context.Background(), "q", passages(2))
				var apiErr *provider.Error
				if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Hour || apiErr.Message != "quota exhausted" {
					t.Fatalf("err = %v", err)
				}
				if len(s.get()) != 0 || srv.requests.Load() != 1 {
					t.Errorf("waited %v", s.get())
				}
			})
			t.Run("Retry-After past the deadline not waited", func(t *testing.T) {
				srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
					w.Header().Set("Retry-After", "30")
					w.WriteHeader(http.StatusTooManyRequests)
					return true
				})
				rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123"})
				var s sleeps
				s.install(rt)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, err := rr.Rerank(ctx, "q", passages(2))
				var apiErr *provider.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || len(s.get()) != 0 {
					t.Errorf("err %v, waits %v", err, s.get())
				}
			})
			t.Run("malformed answers", func(t *testing.T) {
				bodies := []string{
					`not json`,
					string(mustMarshal(p.encode([]indexScore{{0, 0.5}}))),           // one result for two documents
					string(mustMarshal(p.encode([]indexScore{{0, 0.5}, {0, 0.4}}))), // repeated index
					string(mustMarshal(p.encode([]indexScore{{0, 0.5}, {2, 0.4}}))), // index out of range
				}
				for _, body := range bodies {
					srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
						io.WriteString(w, body)
						return true
					})
					rr, _ := p.build(srv.URL, testOpts{apiKey: "key-123"})
					if _, err := rr.Rerank(context.Background(), "q", passages(2)); !errors.Is(err, ErrBadResponse) {
						t.Errorf("answer %s: err = %v, want ErrBadResponse", body, err)
					}
				}
			})
		})
	}
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestProvidersConnectionErrorsRetried(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, n int32) bool {
				if n <= 2 { // drop the connection without answering
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						conn.Close()
					}
					return true
				}
				return false
			})
			rr, rt := p.build(srv.URL, testOpts{apiKey: "key-123"})
			var s sleeps
			s.install(rt)
			got, err := rr.Rerank(context.Background(), "q", passages(2))
			if err != nil || len(got) != 2 {
				t.Fatalf("%v, %v", got, err)
			}
			if srv.requests.Load() != 3 || len(s.get()) != 2 {
				t.Errorf("%d requests, waits %v; want 3 and 2", srv.requests.Load(), s.get())
			}
			// Given up: a *provider.Error with no status, wrapping the cause.
			rr, rt = p.build(srv.URL, testOpts{apiKey: "key-123", maxRetries: -1})
			srv.requests.Store(0)
			_, err = rr.Rerank(context.Background(), "q", passages(2))
			var apiErr *provider.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 0 || apiErr.Err == nil || !apiErr.Retryable() {
				t.Errorf("err = %v", err)
			}
			_ = rt
		})
	}
}

func TestProvidersCancellation(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			arrived := make(chan struct{}, 10)
			srv := newFakeServer(t, p, func(w http.ResponseWriter, r *http.Request, _ int32) bool {
				io.ReadAll(r.Body) // lets the server notice the client leaving
				arrived <- struct{}{}
				<-r.Context().Done() // hold the request until the client goes away
				return true
			})
			rr, _ := p.build(srv.URL, testOpts{apiKey: "key-123", maxDocs: 2, concurrency: 2})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := rr.Rerank(ctx, "q", passages(8))
				done <- err
			}()
			<-arrived
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			// Already cancelled: no request at all.
			before := srv.requests.Load()
			if _, err := rr.Rerank(ctx, "q", passages(2)); !errors.Is(err, context.Canceled) || srv.requests.Load() != before {
				t.Errorf("cancelled call: %v, %d new requests", err, srv.requests.Load()-before)
			}
		})
	}
}

func TestDefaultsAndBaseURL(t *testing.T) {
	if got := NewCohere(CohereOptions{}).ce.api.URL(); got != "https://api.cohere.com/v2/rerank" {
		t.Errorf("cohere endpoint %q", got)
	}
	if got := NewVoyage(VoyageOptions{}).ce.api.URL(); got != "https://api.voyageai.com/v1/rerank" {
		t.Errorf("voyage endpoint %q", got)
	}
	if got := NewJina(JinaOptions{BaseURL: "http://proxy.local/jina/"}).ce.api.URL(); got != "http://proxy.local/jina/v1/rerank" {
		t.Errorf("jina endpoint %q", got)
	}
	c := NewCohere(CohereOptions{})
	if c.ce.maxDocs != 1000 || c.ce.concurrency != DefaultConcurrency || c.ce.retry.MaxRetries != DefaultMaxRetries {
		t.Errorf("cohere defaults: %+v", c.ce)
	}
	// Voyage with NoTruncation sends truncation false.
	v := NewVoyage(VoyageOptions{NoTruncation: true})
	body := mustMarshal(v.ce.body("q", []string{"a"}))
	if !strings.Contains(string(body), `"truncation":false`) {
		t.Errorf("voyage body %s", body)
	}
	// Cohere's max_tokens_per_doc only when set.
	if b := mustMarshal(NewCohere(CohereOptions{}).ce.body("q", []string{"a"})); strings.Contains(string(b), "max_tokens_per_doc") {
		t.Errorf("cohere body %s", b)
	}
	if b := mustMarshal(NewCohere(CohereOptions{MaxTokensPerDoc: 512}).ce.body("q", []string{"a"})); !strings.Contains(string(b), `"max_tokens_per_doc":512`) {
		t.Errorf("cohere body %s", b)
	}
}
