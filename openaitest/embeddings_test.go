package openaitest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/tokenizer"
)

// client returns a go-openai client for srv with the given key.
func client(srv *openaitest.Server, key string) *openai.Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = srv.URL()
	cfg.HTTPClient = srv.Client()
	return openai.NewClientWithConfig(cfg)
}

// post sends body to path under the server's base URL and returns the
// status, headers and body of the answer.
func post(t *testing.T, srv *openaitest.Server, path string, body any, header ...string) (int, http.Header, []byte) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// errorBody is OpenAI's error body, with every field kept raw to check
// that it is present.
type errorBody struct {
	Error map[string]json.RawMessage `json:"error"`
}

// checkError checks an error answer: its status and an OpenAI error body
// with message, type, param and code, and returns the decoded fields.
func checkError(t *testing.T, status int, body []byte, wantStatus int, wantType, wantCode string) (msg, param string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d; body %s", status, wantStatus, body)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	for _, field := range []string{"message", "type", "param", "code"} {
		if _, ok := eb.Error[field]; !ok {
			t.Errorf("error body %s lacks %q", body, field)
		}
	}
	var typ string
	_ = json.Unmarshal(eb.Error["type"], &typ)
	_ = json.Unmarshal(eb.Error["message"], &msg)
	var code, p *string
	_ = json.Unmarshal(eb.Error["code"], &code)
	_ = json.Unmarshal(eb.Error["param"], &p)
	if typ != wantType {
		t.Errorf("error type %q, want %q", typ, wantType)
	}
	if got := deref(code); got != wantCode {
		t.Errorf("error code %q, want %q", got, wantCode)
	}
	if msg == "" {
		t.Error("error message is empty")
	}
	return msg, deref(p)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func hashVectors(t *testing.T, dims int, texts ...string) [][]float32 {
	t.Helper()
	vs, err := embed.NewHashing(embed.HashingOptions{Dimensions: dims}).Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestEmbeddingsWithGoOpenAI(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	c := client(srv, "k")
	texts := []string{"The quick brown fox", "jumps over the lazy dog", "東京"}
	want := hashVectors(t, openaitest.DefaultDimensions, texts...)
	for _, format := range []openai.EmbeddingEncodingFormat{"", openai.EmbeddingEncodingFormatFloat, openai.EmbeddingEncodingFormatBase64} {
		resp, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{
			Input: texts, Model: openai.SmallEmbedding3, EncodingFormat: format,
		})
		if err != nil {
			t.Fatalf("format %q: %v", format, err)
		}
		if resp.Object != "list" || resp.Model != openai.SmallEmbedding3 || len(resp.Data) != len(texts) {
			t.Fatalf("format %q: response %+v", format, resp)
		}
		tokens := 0
		for _, text := range texts {
			tokens += tokenizer.CL100K().Count(text)
		}
		if resp.Usage.PromptTokens != tokens || resp.Usage.TotalTokens != tokens {
			t.Errorf("format %q: usage %+v, want %d prompt and total tokens", format, resp.Usage, tokens)
		}
		for i, d := range resp.Data {
			if d.Index != i || d.Object != "embedding" {
				t.Errorf("format %q: item %d has index %d object %q", format, i, d.Index, d.Object)
			}
			if !slices.Equal(d.Embedding, want[i]) {
				t.Errorf("format %q: vector %d differs from Hashing's", format, i)
			}
		}
	}
}

func TestEmbeddingsWireFormat(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 8})
	defer srv.Close()

	// A single string input, floats.
	status, h, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "hello world"})
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || h.Get("Content-Length") == "" {
		t.Fatalf("status %d, Content-Type %q, Content-Length %q", status, h.Get("Content-Type"), h.Get("Content-Length"))
	}
	var resp struct {
		Object string `json:"object"`
		Data   []struct {
			Object    string          `json:"object"`
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Model string `json:"model"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Object != "list" || resp.Model != "m" || len(resp.Data) != 1 || resp.Data[0].Object != "embedding" {
		t.Fatalf("response %s", body)
	}
	if resp.Usage.PromptTokens != 2 || resp.Usage.TotalTokens != 2 {
		t.Errorf("usage %+v, want 2 tokens for %q", resp.Usage, "hello world")
	}
	var floats []float32
	if err := json.Unmarshal(resp.Data[0].Embedding, &floats); err != nil {
		t.Fatalf("float embedding %s: %v", resp.Data[0].Embedding, err)
	}
	want := hashVectors(t, 8, "hello world")[0]
	if !slices.Equal(floats, want) {
		t.Errorf("float embedding %v, want %v", floats, want)
	}

	// base64: little-endian float32 bytes.
	_, _, body = post(t, srv, "/embeddings", map[string]any{"model": "m", "input": []string{"hello world"}, "encoding_format": "base64"})
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	var b64 string
	if err := json.Unmarshal(resp.Data[0].Embedding, &b64); err != nil {
		t.Fatalf("base64 embedding %s: %v", resp.Data[0].Embedding, err)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 4*8 {
		t.Fatalf("base64 embedding decodes to %d bytes, %v", len(raw), err)
	}
	for i := range want {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != want[i] {
			t.Errorf("base64 component %d = %v, want %v", i, got, want[i])
		}
	}

	// Token arrays count one token an id.
	_, _, body = post(t, srv, "/embeddings", map[string]any{"model": "m", "input": [][]int{{1, 2, 3}, {4}}})
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 2 || resp.Usage.PromptTokens != 4 {
		t.Errorf("token arrays: %d items, %d tokens; want 2, 4", len(resp.Data), resp.Usage.PromptTokens)
	}
}

func TestEmbeddingsDimensions(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	c := client(srv, "k")
	resp, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{
		Input: []string{"a b c"}, Model: openai.SmallEmbedding3, Dimensions: 256,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.Data[0].Embedding, hashVectors(t, 256, "a b c")[0]) {
		t.Error("dimensions=256: vector differs from Hashing at 256 dimensions")
	}
	for _, dims := range []int{0, -1, openaitest.DefaultDimensions + 1} {
		status, _, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x", "dimensions": dims})
		if _, param := checkError(t, status, body, 400, "invalid_request_error", ""); param != "dimensions" {
			t.Errorf("dimensions=%d: param %q, want dimensions", dims, param)
		}
	}
}

func TestEmbeddingsInjectedEmbedderTruncates(t *testing.T) {
	e := embed.Func(func(_ context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i := range texts {
			out[i] = []float32{3, 4, 12, 0, 0, 0, 0, 84} // norm 85
		}
		return out, nil
	})
	srv := openaitest.NewServer(openaitest.Options{Embedder: e, Dimensions: 8})
	defer srv.Close()
	c := client(srv, "k")
	resp, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: []string{"x"}, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Data[0].Embedding; !slices.Equal(got, []float32{3, 4, 12, 0, 0, 0, 0, 84}) {
		t.Errorf("no dimensions requested: got %v, want the embedder's vector", got)
	}
	resp, err = c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: []string{"x"}, Model: "m", Dimensions: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Data[0].Embedding; len(got) != 2 || math.Abs(float64(got[0])-0.6) > 1e-6 || math.Abs(float64(got[1])-0.8) > 1e-6 {
		t.Errorf("dimensions=2: got %v, want [0.6 0.8], truncated and normalised", got)
	}

	failing := openaitest.NewServer(openaitest.Options{Embedder: embed.Func(func(context.Context, []string) ([][]float32, error) {
		return nil, errors.New("boom")
	})})
	defer failing.Close()
	status, _, body := post(t, failing, "/embeddings", map[string]any{"model": "m", "input": "x"})
	checkError(t, status, body, 500, "server_error", "")
}

func TestEmbeddingsValidation(t *testing.T) {
	count := func(s string) int { return len(strings.Fields(s)) } // a token a word
	srv := openaitest.NewServer(openaitest.Options{
		Models: []string{"m"}, MaxInputs: 3, MaxInputTokens: 4, MaxRequestTokens: 6, CountTokens: count,
	})
	defer srv.Close()
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		param  string
	}{
		{"bad JSON", `{"model": "m", "input": [`, 400, "", ""},
		{"no model", map[string]any{"input": "x"}, 400, "", "model"},
		{"unknown model", map[string]any{"model": "other", "input": "x"}, 404, "model_not_found", ""},
		{"no input", map[string]any{"model": "m"}, 400, "", "input"},
		{"input of numbers", map[string]any{"model": "m", "input": []any{1.5, "x"}}, 400, "", "input"},
		{"empty input array", map[string]any{"model": "m", "input": []string{}}, 400, "", "input"},
		{"empty string", map[string]any{"model": "m", "input": []string{"a", ""}}, 400, "", "input"},
		{"bad encoding", map[string]any{"model": "m", "input": "x", "encoding_format": "int8"}, 400, "", "encoding_format"},
		{"too many inputs", map[string]any{"model": "m", "input": []string{"a", "b", "c", "d"}}, 400, "", "input"},
		{"input too long", map[string]any{"model": "m", "input": []string{"a b c d e"}}, 400, "context_length_exceeded", "input"},
		{"request too long", map[string]any{"model": "m", "input": []string{"a b c", "d e f", "g"}}, 400, "max_tokens_per_request", "input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := post(t, srv, "/embeddings", tt.body)
			typ := "invalid_request_error"
			if _, param := checkError(t, status, body, tt.status, typ, tt.code); param != tt.param {
				t.Errorf("param %q, want %q", param, tt.param)
			}
		})
	}
	// Within every limit.
	if status, _, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": []string{"a b c d", "e f"}}); status != 200 {
		t.Errorf("request at the limits: status %d %s", status, body)
	}
	st := srv.Stats()
	if st.Status[400] != 10 || st.Status[404] != 1 || st.Status[200] != 1 {
		t.Errorf("status counts %v, want 10 400s, 1 404, 1 200", st.Status)
	}
	if st.Inputs != 2 || st.Tokens != 6 {
		t.Errorf("Inputs %d Tokens %d, want 2 and 6 (only answered requests count)", st.Inputs, st.Tokens)
	}
	for _, r := range srv.Requests()[:len(tests)] {
		if r.Fault != "invalid" {
			t.Errorf("request %d: fault %q, want invalid", r.Seq, r.Fault)
		}
	}
}

func TestRoutesAndMethods(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	status, _, body := post(t, srv, "/nowhere", map[string]any{})
	checkError(t, status, body, 404, "invalid_request_error", "")
	resp, err := srv.Client().Get(srv.URL() + "/embeddings")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	checkError(t, resp.StatusCode, body, 405, "invalid_request_error", "")
	if resp.Header.Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST")
	}
}

func TestAPIKey(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "sk-right"})
	defer srv.Close()
	_, err := client(srv, "sk-wrong").CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: []string{"x"}, Model: "m"})
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 || apiErr.Code != "invalid_api_key" {
		t.Fatalf("wrong key: %v, want a 401 invalid_api_key provider.Error", err)
	}
	status, _, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"})
	checkError(t, status, body, 401, "invalid_request_error", "invalid_api_key")

	if _, err := client(srv, "sk-right").CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: []string{"x"}, Model: "m"}); err != nil {
		t.Fatalf("right key: %v", err)
	}
	if status, _, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"}, "Api-Key", "sk-right"); status != 200 {
		t.Fatalf("Azure api-key header: %d %s", status, body)
	}
	if got := srv.Stats().Status; got[401] != 2 || got[200] != 2 {
		t.Errorf("status counts %v, want 2 401s and 2 200s", got)
	}
}

// TestAzureDeploymentPath checks that go-openai's Azure configuration,
// which posts to /openai/deployments/<name>/embeddings?api-version=...,
// reaches the embeddings endpoint.
func TestAzureDeploymentPath(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "azure-key"})
	defer srv.Close()
	cfg := openai.DefaultAzureConfig("azure-key", strings.TrimSuffix(srv.URL(), "/v1"))
	cfg.HTTPClient = srv.Client()
	resp, err := openai.NewClientWithConfig(cfg).CreateEmbeddings(context.Background(),
		openai.EmbeddingRequestStrings{Input: []string{"x"}, Model: openai.SmallEmbedding3})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 1 {
		t.Fatalf("%d items", len(resp.Data))
	}
	if p := srv.Requests()[0].Path; p != "/openai/deployments/text-embedding-3-small/embeddings" {
		t.Errorf("path %q", p)
	}
}

func TestShuffleData(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ShuffleData: true, Dimensions: 16, Seed: 3})
	defer srv.Close()
	texts := []string{"zero", "one", "two", "three", "four", "five", "six", "seven"}
	want := hashVectors(t, 16, texts...)
	resp, err := client(srv, "k").CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: texts, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	inOrder := true
	seen := map[int]bool{}
	for pos, d := range resp.Data {
		inOrder = inOrder && d.Index == pos
		seen[d.Index] = true
		if !slices.Equal(d.Embedding, want[d.Index]) {
			t.Errorf("item with index %d holds another input's vector", d.Index)
		}
	}
	if inOrder || len(seen) != len(texts) {
		t.Errorf("indices %v: want a permutation out of order", seen)
	}
}

func TestConnectionsReused(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "k"})
	defer srv.Close()
	c := client(srv, "k")
	bad := client(srv, "wrong")
	for i := range 10 {
		if _, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: []string{"x " + strconv.Itoa(i)}, Model: "m"}); err != nil {
			t.Fatal(err)
		}
		// Error answers keep the connection too.
		if _, err := bad.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: []string{"x"}, Model: "m"}); err == nil {
			t.Fatal("wrong key accepted")
		}
	}
	if st := srv.Stats(); st.Connections != 1 || st.Requests != 20 {
		t.Errorf("20 sequential requests: %d connections, %d requests; want 1 and 20", st.Connections, st.Requests)
	}
}

func TestConcurrentAccounting(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 32})
	defer srv.Close()
	const workers, each = 6, 15
	// MaxConnsPerHost: without it net/http may dial a spare connection
	// when a request starts just before another's connection turns idle.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer hc.CloseIdleConnections()
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL, cfg.HTTPClient = srv.URL(), hc
	c := openai.NewClientWithConfig(cfg)
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				in := []string{"w" + strconv.Itoa(w) + " i" + strconv.Itoa(i), "shared text"}
				if _, err := c.CreateEmbeddings(context.Background(), openai.EmbeddingRequestStrings{Input: in, Model: "m"}); err != nil {
					errs <- err
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
	if st.Requests != workers*each || st.EmbedRequests != workers*each || st.Status[200] != workers*each {
		t.Errorf("stats %+v, want %d requests answered 200", st, workers*each)
	}
	if st.Inputs != 2*workers*each || st.InputsReceived != 2*workers*each {
		t.Errorf("Inputs %d InputsReceived %d, want %d", st.Inputs, st.InputsReceived, 2*workers*each)
	}
	if st.MaxInFlight < 1 || st.MaxInFlight > workers || st.InFlight != 0 {
		t.Errorf("MaxInFlight %d InFlight %d, want 1..%d and 0", st.MaxInFlight, st.InFlight, workers)
	}
	if st.Connections < 1 || st.Connections > workers {
		t.Errorf("%d connections for %d workers", st.Connections, workers)
	}
	times := srv.InputTimes("shared text")
	if len(times) != workers*each {
		t.Fatalf("InputTimes(shared) has %d entries, want %d", len(times), workers*each)
	}
	for i := 1; i < len(times); i++ {
		if times[i].Before(times[i-1]) {
			t.Fatal("InputTimes not in arrival order")
		}
	}
	if got := srv.InputTimes("w2 i3"); len(got) != 1 {
		t.Errorf("InputTimes of a unique input: %d entries, want 1", len(got))
	}
	reqs := srv.Requests()
	for i, r := range reqs {
		if r.Seq != i+1 || r.Status != 200 || r.Model != "m" || len(r.Inputs) != 2 || r.Path != "/v1/embeddings" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	// Records are copies.
	reqs[0].Inputs[0] = "changed"
	if srv.Requests()[0].Inputs[0] == "changed" {
		t.Error("Requests returned the server's own slices")
	}
}
