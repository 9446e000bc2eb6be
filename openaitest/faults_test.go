package openaitest_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
)

func embedReq(inputs ...string) openai.EmbeddingRequestStrings {
	return openai.EmbeddingRequestStrings{Input: inputs, Model: openai.SmallEmbedding3}
}

// gate is an embedder that blocks every call until released, announcing
// each call on entered.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})} }

func (g *gate) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return embed.NewHashing(embed.HashingOptions{Dimensions: 4}).Embed(ctx, texts)
}

func TestMaxConcurrent(t *testing.T) {
	g := newGate()
	srv := openaitest.NewServer(openaitest.Options{Embedder: g, MaxConcurrent: 2, RetryAfter: 20 * time.Millisecond})
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer hc.CloseIdleConnections()
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL, cfg.HTTPClient = srv.URL(), hc
	c := openai.NewClientWithConfig(cfg)

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i := range 2 {
		wg.Go(func() {
			_, err := c.CreateEmbeddings(context.Background(), embedReq("held "+strconv.Itoa(i)))
			errs <- err
		})
	}
	<-g.entered
	<-g.entered
	// Two requests are held in the embedder: a third is refused.
	status, h, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "third"})
	checkError(t, status, body, 429, "requests", "rate_limit_exceeded")
	if h.Get("Retry-After") != "1" || h.Get("Retry-After-Ms") != "20" || h.Get("X-Ratelimit-Reset-Requests") != "20ms" {
		t.Errorf("429 headers Retry-After %q retry-after-ms %q x-ratelimit-reset-requests %q; want 1, 20, 20ms",
			h.Get("Retry-After"), h.Get("Retry-After-Ms"), h.Get("X-Ratelimit-Reset-Requests"))
	}
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := srv.Stats()
	if st.MaxInFlight != 3 || st.Status[200] != 2 || st.Status[429] != 1 {
		t.Errorf("MaxInFlight %d, status %v; want 3, two 200s and one 429", st.MaxInFlight, st.Status)
	}
}

func TestRequestsPerMinute(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{RequestsPerMinute: 2})
	defer srv.Close()
	for i := range 2 {
		status, h, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"})
		if status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
		if h.Get("X-Ratelimit-Limit-Requests") != "2" || h.Get("X-Ratelimit-Remaining-Requests") != strconv.Itoa(1-i) {
			t.Errorf("request %d: limit %q remaining %q", i, h.Get("X-Ratelimit-Limit-Requests"), h.Get("X-Ratelimit-Remaining-Requests"))
		}
	}
	status, h, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"})
	checkError(t, status, body, 429, "requests", "rate_limit_exceeded")
	// A request a minute refills every 30 s; barely any time has passed.
	secs, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || secs < 29 || secs > 30 {
		t.Errorf("Retry-After %q, want about 30 seconds", h.Get("Retry-After"))
	}
	reset, err := time.ParseDuration(h.Get("X-Ratelimit-Reset-Requests"))
	if err != nil || reset < 59*time.Second || reset > time.Minute {
		t.Errorf("x-ratelimit-reset-requests %q, want about 1m0s", h.Get("X-Ratelimit-Reset-Requests"))
	}
	if h.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Errorf("remaining %q, want 0", h.Get("X-Ratelimit-Remaining-Requests"))
	}
}

func TestTokensPerMinute(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{TokensPerMinute: 10, CountTokens: func(s string) int { return len(s) }})
	defer srv.Close()
	if status, h, _ := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "12345678"}); status != 200 || h.Get("X-Ratelimit-Remaining-Tokens") != "2" {
		t.Fatalf("8 of 10 tokens: status %d, remaining %q", status, h.Get("X-Ratelimit-Remaining-Tokens"))
	}
	status, h, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "12345"})
	checkError(t, status, body, 429, "tokens", "rate_limit_exceeded")
	if h.Get("X-Ratelimit-Reset-Tokens") == "" || h.Get("Retry-After") == "" {
		t.Errorf("429 for tokens without reset headers: %v", h)
	}
	status, _, body = post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "0123456789abc"})
	if msg, _ := checkError(t, status, body, 429, "tokens", "rate_limit_exceeded"); !strings.HasPrefix(msg, "Request too large") {
		t.Errorf("a request above the whole limit: message %q", msg)
	}
}

// statuses sends n sequential embedding requests and returns the statuses
// answered.
func statuses(t *testing.T, opts openaitest.Options, n int) []int {
	srv := openaitest.NewServer(opts)
	defer srv.Close()
	var out []int
	for i := range n {
		status, _, _ := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x" + strconv.Itoa(i)})
		out = append(out, status)
	}
	return out
}

func TestSeededErrorRate(t *testing.T) {
	opts := openaitest.Options{ErrorRate: 0.5, MalformedRate: 0.2, Seed: 42, Dimensions: 4}
	a, b := statuses(t, opts, 40), statuses(t, opts, 40)
	count := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults: %v vs %v", a, b)
		}
		count[a[i]]++
	}
	if count[500] == 0 || count[200] == 0 || len(count) != 2 {
		t.Errorf("statuses %v: want a mix of 200 and 500", count)
	}
	opts.Seed = 43
	if c := statuses(t, opts, 40); slicesEqual(a, c) {
		t.Errorf("seeds 42 and 43 gave the same faults %v", a)
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMalformedBody(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{MalformedRate: 1})
	defer srv.Close()
	_, err := client(srv, "k").CreateEmbeddings(context.Background(), embedReq("x"))
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	if err == nil || errors.As(err, &apiErr) || errors.As(err, &reqErr) {
		t.Fatalf("malformed body: %v, want a decoding error", err)
	}
	if r := srv.Requests()[0]; r.Status != 200 || r.Fault != "malformed" {
		t.Errorf("record %+v", r)
	}
}

func TestTimeoutRateHangsUntilClientGivesUp(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{TimeoutRate: 1})
	hc := srv.Client()
	hc.Timeout = 50 * time.Millisecond
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL, cfg.HTTPClient = srv.URL(), hc
	_, err := openai.NewClientWithConfig(cfg).CreateEmbeddings(context.Background(), embedReq("x"))
	var netErr interface{ Timeout() bool }
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("hung request: %v, want a client timeout", err)
	}
	srv.Close() // waits for the handler
	st := srv.Stats()
	if st.Status[0] != 1 || st.InFlight != 0 {
		t.Errorf("status %v in flight %d: want one request never answered, none in flight", st.Status, st.InFlight)
	}
	if r := srv.Requests()[0]; r.Fault != "timeout" || r.Status != 0 {
		t.Errorf("record %+v", r)
	}
}

func TestCloseEndsWaitingRequests(t *testing.T) {
	// Latency of an hour and a hang: Close must end both rather than wait.
	arrived := make(chan int, 2)
	srv := openaitest.NewServer(openaitest.Options{
		Latency: time.Hour,
		Fault: func(r openaitest.Request) *openaitest.Fault {
			arrived <- r.Seq
			if r.Seq == 2 {
				return &openaitest.Fault{Hang: true}
			}
			return nil
		},
	})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_, _ = client(srv, "k").CreateEmbeddings(context.Background(), embedReq("x"))
		})
	}
	<-arrived
	<-arrived
	srv.Close()
	wg.Wait()
	srv.Close() // idempotent
	if st := srv.Stats(); st.Status[0] != 2 || st.InFlight != 0 {
		t.Errorf("status %v, in flight %d: want two requests never answered, none in flight", st.Status, st.InFlight)
	}
}

func TestScriptedFaults(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{
		Fault: func(r openaitest.Request) *openaitest.Fault {
			switch r.Seq {
			case 1:
				return &openaitest.Fault{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 1500 * time.Millisecond}
			case 2:
				return &openaitest.Fault{Status: 503}
			case 3:
				return &openaitest.Fault{Status: 400, Code: "custom", Message: "scripted failure"}
			case 4:
				return &openaitest.Fault{Delay: time.Millisecond} // then a normal answer
			}
			return nil
		},
	})
	defer srv.Close()
	status, h, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"})
	checkError(t, status, body, 429, "requests", "rate_limit_exceeded")
	if h.Get("Retry-After") != "2" || h.Get("Retry-After-Ms") != "1500" || h.Get("X-Ratelimit-Reset-Requests") != "1.5s" {
		t.Errorf("headers %v", h)
	}
	status, _, body = post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"})
	checkError(t, status, body, 503, "server_error", "")
	_, err := client(srv, "k").CreateEmbeddings(context.Background(), embedReq("x"))
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 400 || apiErr.Code != "custom" || apiErr.Message != "scripted failure" {
		t.Fatalf("scripted 400: %v", err)
	}
	for range 2 {
		if _, err := client(srv, "k").CreateEmbeddings(context.Background(), embedReq("x")); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.Requests()
	for i, want := range []string{"scripted", "scripted", "scripted", "scripted", ""} {
		if reqs[i].Fault != want {
			t.Errorf("request %d: fault %q, want %q", i+1, reqs[i].Fault, want)
		}
	}
}

func TestSlowRate(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{SlowRate: 1, SlowLatency: time.Millisecond})
	defer srv.Close()
	if _, err := client(srv, "k").CreateEmbeddings(context.Background(), embedReq("x")); err != nil {
		t.Fatal(err)
	}
	if r := srv.Requests()[0]; r.Fault != "slow" || r.Status != 200 {
		t.Errorf("record %+v", r)
	}
}

func TestClientCancelDuringLatency(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := openaitest.NewServer(openaitest.Options{
		Latency: time.Hour,
		Fault:   func(openaitest.Request) *openaitest.Fault { arrived <- struct{}{}; return nil },
	})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := client(srv, "k").CreateEmbeddings(ctx, embedReq("x"))
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
