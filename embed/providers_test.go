package embed_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/provider"
)

// Tests of the behaviour Voyage and Cohere share, run against each
// provider's fake server.

// numbered returns n distinct texts.
func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "passage number " + strconv.Itoa(i) + " about topic " + strconv.Itoa(i%7)
	}
	return out
}

// asAPIError returns err as a *provider.Error or fails t.
func asAPIError(t *testing.T, err error) *provider.Error {
	t.Helper()
	var ae *provider.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	return ae
}

func sameVectors(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool { return slices.Equal(x, y) })
}

func TestProviderConformance(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		for _, tt := range []struct {
			name string
			fake fakeOptions
			opts embedOpts
		}{
			{"defaults", fakeOptions{}, embedOpts{}},
			// The server refuses batches above the client's MaxInputs,
			// so the LargeBatch check proves the client splits them.
			{"split", fakeOptions{MaxInputs: 5}, embedOpts{MaxInputs: 5}},
			{"dimensions", fakeOptions{Shuffle: true}, embedOpts{Dimensions: 256}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := p.start(t, tt.fake)
				e := p.new(f, tt.opts)
				opts := embedtest.Options{Deterministic: true, Calls: f.calls}
				switch {
				case tt.opts.MaxInputs > 0:
					opts.LargeBatch = 3*tt.opts.MaxInputs + 2
				case tt.opts.Dimensions == 0:
					// Beyond the provider's limit, which the fake enforces.
					opts.LargeBatch = p.maxInputs + 2
				}
				t.Run("Embed", func(t *testing.T) { embedtest.Run(t, e, opts) })
				// EmbedQueries keeps the same contract.
				opts.Dimensions = e.Dimensions()
				t.Run("EmbedQueries", func(t *testing.T) { embedtest.Run(t, embed.Func(e.EmbedQueries), opts) })
				for _, r := range f.requests() {
					if r.InputType != p.docType && r.InputType != p.queryType {
						t.Fatalf("request %d had input_type %q", r.Seq, r.InputType)
					}
				}
			})
		}
	})
}

func TestProviderInputTypes(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{})
		e := p.new(f, embedOpts{})
		ctx := context.Background()
		in := []string{"What do mitochondria do?", "Mitochondria make most of the cell's ATP."}

		docs, err := e.Embed(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		queries, err := e.EmbedQueries(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d requests, want 2", len(reqs))
		}
		if reqs[0].InputType != p.docType {
			t.Errorf("Embed sent input_type %q, want %q", reqs[0].InputType, p.docType)
		}
		if reqs[1].InputType != p.queryType {
			t.Errorf("EmbedQueries sent input_type %q, want %q", reqs[1].InputType, p.queryType)
		}
		for i, text := range in {
			if !slices.Equal(docs[i], p.vector(p.dims, p.docType, text)) {
				t.Errorf("Embed: text %d has not its document vector", i)
			}
			if !slices.Equal(queries[i], p.vector(p.dims, p.queryType, text)) {
				t.Errorf("EmbedQueries: text %d has not its query vector", i)
			}
			if slices.Equal(docs[i], queries[i]) {
				t.Errorf("text %d: document and query vectors are equal", i)
			}
		}
		for _, r := range reqs {
			if !slices.Equal(r.Texts, in) {
				t.Errorf("request %d sent texts %q, want %q", r.Seq, r.Texts, in)
			}
			if r.OutputDimension != 0 || r.Truncation != nil || r.Truncate != "" {
				t.Errorf("request %d sent output_dimension %d, truncation %v, truncate %q; want none by default", r.Seq, r.OutputDimension, r.Truncation, r.Truncate)
			}
		}
	})
}

func TestProviderRequestOptions(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{})
		e := p.new(f, embedOpts{Dimensions: 512, NoTruncation: true, Model: "custom-model"})
		if e.Dimensions() != 512 || e.Name() != p.name+":custom-model:512" {
			t.Errorf("Dimensions() = %d, Name() = %q", e.Dimensions(), e.Name())
		}
		vecs, err := e.Embed(context.Background(), []string{"one", "two"})
		if err != nil {
			t.Fatal(err)
		}
		if len(vecs[0]) != 512 {
			t.Errorf("got %d dimensions, want 512", len(vecs[0]))
		}
		r := f.requests()[0]
		if r.Model != "custom-model" || r.OutputDimension != 512 {
			t.Errorf("sent model %q, output_dimension %d; want custom-model, 512", r.Model, r.OutputDimension)
		}
		switch p.name {
		case "voyage":
			if r.Truncation == nil || *r.Truncation {
				t.Errorf("NoTruncation sent truncation %v, want false", r.Truncation)
			}
		case "cohere":
			if r.Truncate != "NONE" {
				t.Errorf("NoTruncation sent truncate %q, want NONE", r.Truncate)
			}
			if !slices.Equal(r.EmbeddingTypes, []string{"float"}) {
				t.Errorf("sent embedding_types %q, want [float]", r.EmbeddingTypes)
			}
		}
	})
}

func TestProviderHeaders(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{APIKey: "sk-right"})
		ctx := context.Background()
		if _, err := p.new(f, embedOpts{APIKey: "sk-right"}).Embed(ctx, []string{"hello"}); err != nil {
			t.Fatal(err)
		}
		r := f.requests()[0]
		if r.Method != http.MethodPost || r.Auth != "Bearer sk-right" || r.ContentType != "application/json" {
			t.Errorf("request: %s, Authorization %q, Content-Type %q", r.Method, r.Auth, r.ContentType)
		}

		for _, key := range []string{"sk-wrong", ""} {
			_, err := p.new(f, embedOpts{APIKey: key, NoKey: key == ""}).Embed(ctx, []string{"hello"})
			ae := asAPIError(t, err)
			if ae.StatusCode != http.StatusUnauthorized || ae.Retryable() || ae.Message == "" {
				t.Errorf("key %q: status %d, retryable %v, message %q; want a permanent 401 with the provider's message", key, ae.StatusCode, ae.Retryable(), ae.Message)
			}
		}
		// The empty key is not sent at all.
		if reqs := f.requests(); reqs[len(reqs)-1].Auth != "" {
			t.Errorf("empty API key sent Authorization %q", reqs[len(reqs)-1].Auth)
		}
	})
}

func TestProviderSplitsBatches(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{MaxInputs: 3})
		e := p.new(f, embedOpts{MaxInputs: 3})
		in := numbered(10)
		for _, call := range []struct {
			name      string
			embed     func(context.Context, []string) ([][]float32, error)
			inputType string
		}{{"Embed", e.Embed, p.docType}, {"EmbedQueries", e.EmbedQueries, p.queryType}} {
			t.Run(call.name, func(t *testing.T) {
				before := f.calls()
				vecs, err := call.embed(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				reqs := f.requests()[before:]
				var sent []string
				var sizes []int
				for _, r := range reqs {
					sizes = append(sizes, len(r.Texts))
					sent = append(sent, r.Texts...)
					if r.InputType != call.inputType {
						t.Errorf("request %d: input_type %q, want %q", r.Seq, r.InputType, call.inputType)
					}
				}
				if !slices.Equal(sizes, []int{3, 3, 3, 1}) || !slices.Equal(sent, in) {
					t.Errorf("requests of %v texts sending %q; want 3, 3, 3, 1 texts in order", sizes, sent)
				}
				want := make([][]float32, len(in))
				for i, text := range in {
					want[i] = p.vector(p.dims, call.inputType, text)
				}
				if !sameVectors(vecs, want) {
					t.Error("vectors of a split batch are not those of its texts, in order")
				}
			})
		}
	})
}

func TestProviderSplitFailure(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{MaxInputs: 3, Answer: func(w http.ResponseWriter, _ *http.Request, fr *fakeRequest) bool {
			if fr.Seq != 3 {
				return false
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, p.errorBody("overloaded"))
			return true
		}})
		e := p.new(f, embedOpts{MaxInputs: 3})
		vecs, err := e.Embed(context.Background(), numbered(10))
		if vecs != nil {
			t.Errorf("got %d vectors with an error", len(vecs))
		}
		ae := asAPIError(t, err)
		if ae.StatusCode != http.StatusServiceUnavailable || !ae.Retryable() || ae.Message != "overloaded" {
			t.Errorf("got status %d, retryable %v, message %q", ae.StatusCode, ae.Retryable(), ae.Message)
		}
		if !strings.Contains(err.Error(), "texts 6 to 8") {
			t.Errorf("error %q does not say which texts failed", err)
		}
		if n := f.calls(); n != 3 {
			t.Errorf("%d requests; want 3: none after the failed one", n)
		}
	})
}

func TestProviderErrors(t *testing.T) {
	future := time.Now().Add(time.Minute).UTC()
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		for _, tt := range []struct {
			name       string
			status     int
			header     map[string]string
			body       string
			message    string
			retryable  bool
			retryAfter func(time.Duration) bool
			tooLong    bool
		}{
			{
				name: "429 Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "2"},
				body: p.errorBody("You have exceeded the rate limit."), message: "You have exceeded the rate limit.", retryable: true,
				retryAfter: func(d time.Duration) bool { return d == 2*time.Second },
			},
			{
				name: "429 Retry-After date", status: 429, header: map[string]string{"Retry-After": future.Format(http.TimeFormat)},
				body: p.errorBody("slow down"), message: "slow down", retryable: true,
				// The date has a resolution of a second.
				retryAfter: func(d time.Duration) bool { return d > 50*time.Second && d <= time.Minute },
			},
			{
				name: "429 without Retry-After", status: 429, body: p.errorBody("slow down"), message: "slow down", retryable: true,
				retryAfter: func(d time.Duration) bool { return d == 0 },
			},
			{
				name: "400 too long", status: 400,
				body:    p.errorBody("Input text at index 0 has 40000 tokens, which exceeds the context length of 32000 tokens."),
				message: "Input text at index 0 has 40000 tokens, which exceeds the context length of 32000 tokens.", tooLong: true,
			},
			{name: "400", status: 400, body: p.errorBody("invalid model"), message: "invalid model"},
			{name: "403", status: 403, body: p.errorBody("forbidden"), message: "forbidden"},
			{name: "500 empty body", status: 500, message: "Internal Server Error", retryable: true},
			{
				name: "502 HTML", status: 502, body: "<html><body>Bad gateway</body></html>",
				message: "<html><body>Bad gateway</body></html>", retryable: true,
			},
			{
				name: "504 OpenAI-style gateway", status: 504, body: `{"error":{"message":"upstream timed out","type":"timeout"}}`,
				message: "upstream timed out", retryable: true,
			},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := p.start(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, _ *fakeRequest) bool {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					fmt.Fprint(w, tt.body)
					return true
				}})
				for _, embedFunc := range []func(context.Context, []string) ([][]float32, error){p.new(f, embedOpts{}).Embed, p.new(f, embedOpts{}).EmbedQueries} {
					vecs, err := embedFunc(context.Background(), []string{"a", "b"})
					if vecs != nil {
						t.Errorf("got vectors with an error")
					}
					ae := asAPIError(t, err)
					if ae.StatusCode != tt.status || ae.Message != tt.message || ae.Retryable() != tt.retryable {
						t.Errorf("got status %d, message %q, retryable %v; want %d, %q, %v", ae.StatusCode, ae.Message, ae.Retryable(), tt.status, tt.message, tt.retryable)
					}
					if tt.retryAfter != nil && !tt.retryAfter(ae.RetryAfter) {
						t.Errorf("RetryAfter = %v", ae.RetryAfter)
					}
					if errors.Is(err, embed.ErrInputTooLong) != tt.tooLong {
						t.Errorf("errors.Is(err, ErrInputTooLong) = %v, want %v", !tt.tooLong, tt.tooLong)
					}
					if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("provider error %v matches a context error", err)
					}
				}
			})
		}
	})
}

func TestProviderMalformedAnswers(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		for _, body := range []string{"{not json", `{"data": [`, "", `"a string"`} {
			t.Run(strconv.Quote(body), func(t *testing.T) {
				f := p.start(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, _ *fakeRequest) bool {
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, body)
					return true
				}})
				vecs, err := p.new(f, embedOpts{}).Embed(context.Background(), []string{"a"})
				if vecs != nil {
					t.Errorf("got vectors from a malformed answer")
				}
				ae := asAPIError(t, err)
				if ae.StatusCode != 0 || ae.Code != "invalid_response" || !ae.Retryable() {
					t.Errorf("got status %d, code %q, retryable %v; want a retryable invalid_response with status 0", ae.StatusCode, ae.Code, ae.Retryable())
				}
			})
		}
	})
}

func TestProviderContext(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		started := make(chan struct{}, 1)
		f := p.start(t, fakeOptions{Answer: func(_ http.ResponseWriter, r *http.Request, fr *fakeRequest) bool {
			started <- struct{}{}
			<-r.Context().Done() // until the client gives up
			return true
		}})
		e := p.new(f, embedOpts{})

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled before: error %v, want context.Canceled", err)
		}
		if n := f.calls(); n != 0 {
			t.Errorf("a cancelled context made %d requests", n)
		}

		during, cancelDuring := context.WithCancel(context.Background())
		go func() {
			select {
			case <-started:
				cancelDuring()
			case <-time.After(time.Minute): // the request never came: the test fails below
				cancelDuring()
			}
		}()
		if _, err := e.EmbedQueries(during, []string{"a"}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled during the request: error %v, want context.Canceled", err)
		}

		// A deadline that expires, most likely while the server holds the
		// request (if before it gets there, the error must match it too).
		expiring, cancelExpiring := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancelExpiring()
		if _, err := e.Embed(expiring, []string{"a"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("deadline during the request: error %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestProviderRequestTimeout(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{Answer: func(_ http.ResponseWriter, r *http.Request, _ *fakeRequest) bool {
			<-r.Context().Done()
			return true
		}})
		_, err := p.new(f, embedOpts{Timeout: 50 * time.Millisecond}).Embed(context.Background(), []string{"a"})
		ae := asAPIError(t, err)
		if ae.StatusCode != 0 || !ae.Retryable() || !strings.Contains(ae.Message, "timed out") {
			t.Errorf("got status %d, retryable %v, message %q; want a retryable timeout with status 0", ae.StatusCode, ae.Retryable(), ae.Message)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Error("the embedder's own timeout matches context.DeadlineExceeded: the pipeline would take it for the caller's")
		}
	})
}

func TestProviderNetworkError(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{})
		e := p.new(f, embedOpts{})
		if _, err := e.Embed(context.Background(), []string{"a"}); err != nil {
			t.Fatal(err)
		}
		f.Close() // the server has answered: a refusal is transient
		_, err := e.Embed(context.Background(), []string{"a"})
		ae := asAPIError(t, err)
		if ae.StatusCode != 0 || !ae.Retryable() || ae.Err == nil {
			t.Errorf("got status %d, retryable %v, cause %v; want a retryable error with status 0 and its cause", ae.StatusCode, ae.Retryable(), ae.Err)
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("network error %v matches a context error", err)
		}
	})
}

func TestProviderConnectionReuse(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		// A large error body: beyond what is read for the message, within
		// what is drained.
		big := p.errorBody(strings.Repeat("x", 200<<10))
		f := p.start(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, fr *fakeRequest) bool {
			switch fr.Seq % 4 {
			case 1:
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, big)
				return true
			case 2:
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, p.errorBody("bad"))
				return true
			}
			return false
		}})
		client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		defer client.CloseIdleConnections()
		e := p.new(f, embedOpts{HTTPClient: client})
		okCalls := 0
		for range 12 {
			if _, err := e.Embed(context.Background(), []string{"a", "b"}); err == nil {
				okCalls++
			}
		}
		if okCalls != 6 {
			t.Errorf("%d calls succeeded, want 6", okCalls)
		}
		if n := f.conns.Load(); n != 1 {
			t.Errorf("12 sequential requests opened %d connections, want 1", n)
		}
		if ae := asAPIError(t, func() error { _, err := e.Embed(context.Background(), []string{"a"}); return err }()); len(ae.Message) > 300 {
			t.Errorf("message of a large error body is %d bytes long", len(ae.Message))
		}
	})
}

func TestProviderDefaultsForUnknownModels(t *testing.T) {
	forEachProvider(t, func(t *testing.T, p fakeAPI) {
		f := p.start(t, fakeOptions{Dims: 24})
		e := p.new(f, embedOpts{Model: "not-a-known-model"})
		if e.Dimensions() != 0 || e.Name() != p.name+":not-a-known-model" {
			t.Errorf("Dimensions() = %d, Name() = %q; want 0 and no dimension in the name", e.Dimensions(), e.Name())
		}
		if l := e.Limits(); l.MaxInputs != p.maxInputs || l.MaxInputTokens != 0 || l.MaxRequestTokens != 0 {
			t.Errorf("Limits() = %+v; want only MaxInputs %d", l, p.maxInputs)
		}
		vecs, err := e.Embed(context.Background(), []string{"a", "b"})
		if err != nil || len(vecs) != 2 || len(vecs[0]) != 24 {
			t.Fatalf("got %d vectors, error %v; want 2 of the server's 24 dimensions", len(vecs), err)
		}
	})
}

// recorder is a RoundTripper that records requests and answers from a
// function, for tests that must not reach the network.
type recorder struct {
	reqs   []*http.Request
	answer func(*http.Request) *http.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	return r.answer(req), nil
}
