package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "text number " + strconv.Itoa(i)
	}
	return out
}

func hashing(t *testing.T, dims int, in []string) [][]float32 {
	t.Helper()
	vs, err := embed.NewHashing(embed.HashingOptions{Dimensions: dims}).Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func equalVectors(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool { return slices.Equal(x, y) })
}

// apiError returns err as a *provider.Error or fails t.
func apiError(t *testing.T, err error) *provider.Error {
	t.Helper()
	var ae *provider.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	return ae
}

func TestOpenAIDefaults(t *testing.T) {
	tests := []struct {
		opts   embed.OpenAIOptions
		name   string
		dims   int
		limits embed.Limits
	}{
		{embed.OpenAIOptions{}, "openai:text-embedding-3-small:1536", 1536, embed.Limits{MaxInputs: 2048, MaxRequestTokens: 300000, MaxInputTokens: 8192}},
		{embed.OpenAIOptions{Model: "text-embedding-3-large"}, "openai:text-embedding-3-large:3072", 3072, embed.Limits{MaxInputs: 2048, MaxRequestTokens: 300000, MaxInputTokens: 8192}},
		{embed.OpenAIOptions{Model: "text-embedding-3-large", Dimensions: 256}, "openai:text-embedding-3-large:256", 256, embed.Limits{MaxInputs: 2048, MaxRequestTokens: 300000, MaxInputTokens: 8192}},
		{embed.OpenAIOptions{Model: "nomic-embed-text", MaxInputs: 16, MaxInputTokens: -1, MaxRequestTokens: 1000}, "openai:nomic-embed-text", 0, embed.Limits{MaxInputs: 16, MaxRequestTokens: 1000}},
	}
	for _, tt := range tests {
		e := embed.NewOpenAI(tt.opts)
		if e.Name() != tt.name || e.Dimensions() != tt.dims || e.Limits() != tt.limits {
			t.Errorf("NewOpenAI(%+v): Name %q Dimensions %d Limits %+v; want %q %d %+v",
				tt.opts, e.Name(), e.Dimensions(), e.Limits(), tt.name, tt.dims, tt.limits)
		}
	}
}

func TestOpenAIEmbed(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "key", Models: []string{"text-embedding-3-small"}})
	defer srv.Close()
	in := []string{"The quick brown fox", "jumps over", "the lazy dog", "東京"}

	for _, tt := range []struct {
		opts     embed.OpenAIOptions
		dims     int
		encoding string
	}{
		{embed.OpenAIOptions{}, 1536, "base64"},
		{embed.OpenAIOptions{Dimensions: 64}, 64, "base64"},
		{embed.OpenAIOptions{FloatEncoding: true}, 1536, "float"},
	} {
		tt.opts.BaseURL, tt.opts.APIKey, tt.opts.Organization = srv.URL(), "key", "org-1"
		e := embed.NewOpenAI(tt.opts)
		got, err := e.Embed(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !equalVectors(got, hashing(t, tt.dims, in)) {
			t.Errorf("%+v: vectors differ from the server's", tt.opts)
		}
		reqs := srv.Requests()
		r := reqs[len(reqs)-1]
		wantDims := tt.opts.Dimensions
		if r.Encoding != tt.encoding || r.Dimensions != wantDims || r.Model != "text-embedding-3-small" || !slices.Equal(r.Inputs, in) {
			t.Errorf("%+v: request %+v", tt.opts, r)
		}
		if r.Header.Get("OpenAI-Organization") != "org-1" || r.Header.Get("Authorization") != "Bearer key" {
			t.Errorf("headers %v", r.Header)
		}
	}
}

func TestOpenAIEmptyBatchMakesNoRequest(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}})
	for _, in := range [][]string{nil, {}} {
		got, err := e.Embed(context.Background(), in)
		if err != nil || len(got) != 0 {
			t.Errorf("Embed(%v) = %v, %v; want empty, nil", in, got, err)
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests for empty batches", n)
	}
}

func TestOpenAISplitsBatches(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{MaxInputs: 3, Dimensions: 16, ShuffleData: true, Seed: 9})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}, MaxInputs: 3, Dimensions: 16})
	in := texts(8)
	got, err := e.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !equalVectors(got, hashing(t, 16, in)) {
		t.Error("vectors out of order or wrong")
	}
	var sizes []int
	for _, r := range srv.Requests() {
		sizes = append(sizes, len(r.Inputs))
	}
	if !slices.Equal(sizes, []int{3, 3, 2}) {
		t.Errorf("request sizes %v, want [3 3 2]", sizes)
	}

	// A failure of a later request fails the whole call.
	failing := openaitest.NewServer(openaitest.Options{Dimensions: 16, Fault: func(r openaitest.Request) *openaitest.Fault {
		if r.Seq == 2 {
			return &openaitest.Fault{Status: 503}
		}
		return nil
	}})
	defer failing.Close()
	e = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: failing.URL()}, MaxInputs: 3, Dimensions: 16})
	got, err = e.Embed(context.Background(), in)
	if ae := apiError(t, err); ae.StatusCode != 503 || got != nil || !strings.Contains(err.Error(), "texts 3 to 5") {
		t.Errorf("second request failing: %v, %d vectors", err, len(got))
	}
}

func TestOpenAIErrors(t *testing.T) {
	tests := []struct {
		name      string
		opts      openaitest.Options
		status    int
		code      string
		retryable bool
		retry     time.Duration
		tooLong   bool
	}{
		{"401", openaitest.Options{APIKey: "other"}, 401, "invalid_api_key", false, 0, false},
		{"404 model", openaitest.Options{Models: []string{"x"}}, 404, "model_not_found", false, 0, false},
		{"429 scripted", openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault {
			return &openaitest.Fault{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 1500 * time.Millisecond}
		}}, 429, "rate_limit_exceeded", true, 1500 * time.Millisecond, false},
		{"429 without code", openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault {
			return &openaitest.Fault{Status: 429}
		}}, 429, "requests", true, 0, false},
		{"500", openaitest.Options{ErrorRate: 1, RequestsPerMinute: 1000}, 500, "server_error", true, 0, false},
		{"503 with Retry-After", openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault {
			return &openaitest.Fault{Status: 503, RetryAfter: 3 * time.Second}
		}}, 503, "server_error", true, 3 * time.Second, false},
		{"input too long", openaitest.Options{MaxInputTokens: 2}, 400, "context_length_exceeded", false, 0, true},
		{"too many inputs", openaitest.Options{MaxInputs: 1}, 400, "invalid_request_error", false, 0, false},
		{"malformed", openaitest.Options{MalformedRate: 1}, 0, "invalid_response", true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(tt.opts)
			defer srv.Close()
			e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "key"}})
			got, err := e.Embed(context.Background(), []string{"several words in this text", "and more"})
			if got != nil {
				t.Errorf("%d vectors with an error", len(got))
			}
			ae := apiError(t, err)
			if ae.StatusCode != tt.status || ae.Code != tt.code || ae.Retryable() != tt.retryable || ae.RetryAfter != tt.retry {
				t.Errorf("provider.Error{StatusCode %d Code %q Retryable %v RetryAfter %v}, want %d %q %v %v (%v)",
					ae.StatusCode, ae.Code, ae.Retryable(), ae.RetryAfter, tt.status, tt.code, tt.retryable, tt.retry, err)
			}
			if ae.Message == "" || ae.Err == nil {
				t.Errorf("provider.Error without message or cause: %+v", ae)
			}
			if errors.Is(err, embed.ErrInputTooLong) != tt.tooLong {
				t.Errorf("errors.Is(err, ErrInputTooLong) = %v, want %v", !tt.tooLong, tt.tooLong)
			}
		})
	}
}

// TestOpenAIRetryAfterHeaders checks which header sets RetryAfter, against
// a server that sends only the headers under test.
func TestOpenAIRetryAfterHeaders(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		min     time.Duration
		max     time.Duration
	}{
		{"retry-after-ms wins", 429, map[string]string{"Retry-After-Ms": "250", "Retry-After": "7", "X-Ratelimit-Reset-Requests": "6m0s"}, 250 * time.Millisecond, 250 * time.Millisecond},
		{"Retry-After seconds", 429, map[string]string{"Retry-After": "7", "X-Ratelimit-Reset-Requests": "6m0s"}, 7 * time.Second, 7 * time.Second},
		{"Retry-After date", 503, map[string]string{"Retry-After": date}, 80 * time.Second, 90 * time.Second},
		{"exhausted requests", 429, map[string]string{"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "20ms", "X-Ratelimit-Remaining-Tokens": "5000", "X-Ratelimit-Reset-Tokens": "6m0s"}, 20 * time.Millisecond, 20 * time.Millisecond},
		{"exhausted tokens", 429, map[string]string{"X-Ratelimit-Remaining-Requests": "10", "X-Ratelimit-Reset-Requests": "20ms", "X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "1m30s"}, 90 * time.Second, 90 * time.Second},
		{"both exhausted", 429, map[string]string{"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "1s", "X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "2.5s"}, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{"neither said exhausted: the sooner", 429, map[string]string{"X-Ratelimit-Reset-Requests": "1s", "X-Ratelimit-Reset-Tokens": "6m0s"}, time.Second, time.Second},
		{"reset in seconds", 429, map[string]string{"X-Ratelimit-Reset-Tokens": "2"}, 2 * time.Second, 2 * time.Second},
		{"reset headers ignored on 500", 500, map[string]string{"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "20ms"}, 0, 0},
		{"garbage", 429, map[string]string{"Retry-After": "soon", "X-Ratelimit-Reset-Requests": "later"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"error":{"message":"nope","type":"requests","param":null,"code":null}}`)
			}))
			defer srv.Close()
			_, err := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL}}).Embed(context.Background(), []string{"x"})
			ae := apiError(t, err)
			if ae.StatusCode != tt.status || ae.RetryAfter < tt.min || ae.RetryAfter > tt.max {
				t.Errorf("status %d RetryAfter %v, want %d and %v..%v", ae.StatusCode, ae.RetryAfter, tt.status, tt.min, tt.max)
			}
		})
	}
}

// badServer answers every embedding request with body(n), n the number of
// inputs.
func badServer(t *testing.T, body func(n int) any) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body(len(req.Input)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func item(index int, v []float32) map[string]any {
	return map[string]any{"object": "embedding", "index": index, "embedding": v}
}

func TestOpenAIRejectsBadAnswers(t *testing.T) {
	list := func(items ...any) map[string]any { return map[string]any{"object": "list", "data": items} }
	tests := []struct {
		name string
		body func(n int) any
		dims int
		want error
	}{
		{"too few vectors", func(int) any { return list(item(0, []float32{1, 0})) }, 2, embed.ErrCountMismatch},
		{"duplicate index", func(int) any { return list(item(0, []float32{1, 0}), item(0, []float32{0, 1})) }, 2, embed.ErrCountMismatch},
		{"index out of range", func(int) any { return list(item(0, []float32{1, 0}), item(2, []float32{0, 1})) }, 2, embed.ErrCountMismatch},
		{"wrong dimension", func(int) any { return list(item(0, []float32{1, 0}), item(1, []float32{0, 1})) }, 3, embed.ErrDimensionMismatch},
		{"mixed dimensions", func(int) any { return list(item(0, []float32{1, 0}), item(1, []float32{0, 1, 0})) }, 0, embed.ErrDimensionMismatch},
		{"empty vector", func(int) any { return list(item(0, []float32{}), item(1, []float32{0, 1})) }, 0, embed.ErrInvalidVector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := badServer(t, tt.body)
			e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: url}, Model: "local-model", Dimensions: tt.dims, FloatEncoding: true})
			got, err := e.Embed(context.Background(), []string{"a", "b"})
			if !errors.Is(err, tt.want) || got != nil {
				t.Errorf("Embed = %d vectors, %v; want %v", len(got), err, tt.want)
			}
		})
	}

	// NaN from the server's embedder, through base64.
	nan := embed.Func(func(_ context.Context, in []string) ([][]float32, error) {
		out := make([][]float32, len(in))
		for i := range out {
			out[i] = []float32{1, float32(math.NaN()), 0}
		}
		return out, nil
	})
	srv := openaitest.NewServer(openaitest.Options{Embedder: nan, Dimensions: 3})
	defer srv.Close()
	_, err := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}, Dimensions: 3}).Embed(context.Background(), []string{"a"})
	if !errors.Is(err, embed.ErrInvalidVector) {
		t.Errorf("NaN vector: %v, want ErrInvalidVector", err)
	}
	// A server of another dimension than the model's.
	small := openaitest.NewServer(openaitest.Options{Dimensions: 8})
	defer small.Close()
	_, err = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: small.URL()}}).Embed(context.Background(), []string{"a"})
	if !errors.Is(err, embed.ErrDimensionMismatch) {
		t.Errorf("8-dimension vectors from text-embedding-3-small: %v, want ErrDimensionMismatch", err)
	}
}

func TestOpenAIContext(t *testing.T) {
	arrived := make(chan struct{}, 10)
	srv := openaitest.NewServer(openaitest.Options{TimeoutRate: 1, Fault: func(openaitest.Request) *openaitest.Fault {
		arrived <- struct{}{}
		return nil
	}})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Fatalf("%d requests with a cancelled context", n)
	}

	// Cancelled while the server hangs.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := e.Embed(ctx, []string{"x"})
		done <- err
	}()
	<-arrived
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled during the request: %v, want context.Canceled", err)
	}
	var ae *provider.Error
	if errors.As(err, &ae) {
		t.Errorf("cancellation reported as a provider.Error: %v", err)
	}

	// The caller's deadline.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v, want context.DeadlineExceeded", err)
	}
	<-arrived
}

func TestOpenAIRequestTimeout(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{TimeoutRate: 1})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}, Timeout: 30 * time.Millisecond})
	_, err := e.Embed(context.Background(), []string{"x"})
	ae := apiError(t, err)
	if ae.StatusCode != 0 || !ae.Retryable() || !strings.Contains(ae.Message, "timed out") {
		t.Errorf("request timeout: %+v", ae)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("a request timeout matches a context error: %v", err)
	}

	// The same from an http.Client.Timeout.
	e = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: &http.Client{Timeout: 30 * time.Millisecond}}})
	_, err = e.Embed(context.Background(), []string{"x"})
	if ae := apiError(t, err); ae.StatusCode != 0 || !ae.Retryable() || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("client timeout: %v", err)
	}
}

// TestOpenAINetworkError: a refused connection to a server that has
// never answered is a misconfiguration (not retried); once the server
// has answered, it is transient (retryable).
func TestOpenAINetworkError(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	url := srv.URL()
	srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: url}})
	_, err := e.Embed(context.Background(), []string{"x"})
	if ae := apiError(t, err); ae.StatusCode != 0 || ae.Retryable() || !ae.Misconfigured() || ae.Err == nil {
		t.Errorf("refused connection, never answered: %+v", ae)
	}

	srv = openaitest.NewServer(openaitest.Options{})
	e = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}})
	if _, err := e.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err = e.Embed(context.Background(), []string{"x"})
	if ae := apiError(t, err); ae.StatusCode != 0 || !ae.Retryable() || ae.Misconfigured() || ae.Err == nil {
		t.Errorf("refused connection after an answer: %+v", ae)
	}
}

func TestOpenAIConnectionReuse(t *testing.T) {
	// Every other request is refused with a 429: error answers must not
	// cost a connection either.
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 1536, Fault: func(r openaitest.Request) *openaitest.Fault {
		if r.Seq%2 == 0 {
			return &openaitest.Fault{Status: 429, RetryAfter: time.Millisecond}
		}
		return nil
	}})
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	// The first two share the default client's pool, the third has its
	// own.
	for i, opts := range []embed.OpenAIOptions{{}, {FloatEncoding: true}, {OpenAIConfig: provider.OpenAIConfig{HTTPClient: hc}}} {
		opts.BaseURL = srv.URL()
		e := embed.NewOpenAI(opts)
		for j := range 20 {
			_, err := e.Embed(context.Background(), texts(10))
			if (err != nil) != (srv.Stats().Requests%2 == 0) {
				t.Fatalf("request %d: %v", j, err)
			}
		}
		if got, want := srv.Stats().Connections, []int{1, 1, 2}[i]; got != want {
			t.Errorf("%+v: %d connections after 20 more sequential requests, want %d", opts, got, want)
		}
	}
	if hc.Transport.(*http.Transport).MaxIdleConnsPerHost != 0 {
		t.Error("NewOpenAI modified the given HTTP client's transport")
	}
}

func TestOpenAIConcurrentConnections(t *testing.T) {
	const workers = 4
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	// MaxConnsPerHost: net/http may otherwise dial a spare connection when
	// a request starts just before another's connection turns idle.
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: workers, MaxIdleConnsPerHost: workers}}
	defer hc.CloseIdleConnections()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: hc}})
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range 15 {
				in := []string{fmt.Sprintf("worker %d request %d", w, i)}
				got, err := e.Embed(context.Background(), in)
				if err != nil {
					errs <- err
					return
				}
				if !equalVectors(got, hashing(t, 1536, in)) {
					errs <- errors.New("wrong vector")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Requests != workers*15 || st.Connections > workers || st.MaxInFlight > workers {
		t.Errorf("%d requests, %d connections, %d most in flight; want %d, at most %d, at most %d",
			st.Requests, st.Connections, st.MaxInFlight, workers*15, workers, workers)
	}
}

func TestOpenAIAzure(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "azure-key"})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{Azure: true, BaseURL: strings.TrimSuffix(srv.URL(), "/v1"), APIKey: "azure-key"}, Model: "my-deployment", Dimensions: 256})
	got, err := e.Embed(context.Background(), []string{"x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	if !equalVectors(got, hashing(t, 256, []string{"x", "y"})) {
		t.Error("vectors differ")
	}
	r := srv.Requests()[0]
	if r.Path != "/openai/deployments/my-deployment/embeddings" || r.Query != "api-version="+embed.DefaultAzureAPIVersion || r.Header.Get("Api-Key") != "azure-key" {
		t.Errorf("Azure request: path %q query %q api-key %q", r.Path, r.Query, r.Header.Get("Api-Key"))
	}
}

func TestOpenAIFromEnv(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "env-key"})
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "env-key")
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	t.Setenv("OPENAI_ORG_ID", "env-org")
	e, err := embed.OpenAIFromEnv(embed.OpenAIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if org := srv.Requests()[0].Header.Get("OpenAI-Organization"); org != "env-org" {
		t.Errorf("organization %q", org)
	}
	// Options win over the environment.
	e, err = embed.OpenAIFromEnv(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: "explicit"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), []string{"x"}); apiError(t, err).StatusCode != 401 {
		t.Errorf("explicit key: %v, want 401", err)
	}
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	if _, err := embed.OpenAIFromEnv(embed.OpenAIOptions{}); !errors.Is(err, embed.ErrMissingAPIKey) {
		t.Errorf("no key: %v, want ErrMissingAPIKey", err)
	}
	// A local server needs no key.
	if _, err := embed.OpenAIFromEnv(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: "http://localhost:11434/v1"}}); err != nil {
		t.Errorf("local server without key: %v", err)
	}
}

// TestOpenAIDrainsBodies checks connection reuse when the JSON decoder
// stops before the end of a body: a chunked answer with whitespace after
// the JSON value, sent in a later chunk.
func TestOpenAIDrainsBodies(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		items := make([]any, len(req.Input))
		for i := range items {
			items[i] = item(i, []float32{1, 0})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": items})
		w.(http.Flusher).Flush()
		_, _ = w.Write([]byte(strings.Repeat(" ", 4096) + "\n"))
	}))
	var (
		mu sync.Mutex
		n  int // connections accepted
	)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL}, Model: "m", FloatEncoding: true})
	for range 10 {
		if _, err := e.Embed(context.Background(), []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Errorf("10 sequential requests opened %d connections, want 1", n)
	}
}
