package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

// okRecorder answers every request with body and status 200.
func okRecorder(body string) *recorder {
	return &recorder{answer: func(req *http.Request) *http.Response {
		return &http.Response{
			StatusCode: http.StatusOK,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(body)),
			Request:    req,
		}
	}}
}

// sentJSON decodes the JSON body of a recorded request.
func sentJSON(t *testing.T, req *http.Request) map[string]any {
	t.Helper()
	body, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.NewDecoder(body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVoyageDefaults(t *testing.T) {
	rec := okRecorder(`{"object":"list","data":[{"object":"embedding","embedding":[0.5,-0.5],"index":0}],"model":"voyage-3.5","usage":{"total_tokens":1}}`)
	v := embed.NewVoyage(embed.VoyageOptions{APIKey: "k", HTTPClient: &http.Client{Transport: rec}, Model: "unknown-model"})
	if _, err := v.Embed(context.Background(), []string{"hello"}); err != nil {
		t.Fatal(err)
	}
	req := rec.reqs[0]
	if got := req.URL.String(); got != "https://api.voyageai.com/v1/embeddings" {
		t.Errorf("default URL %q", got)
	}
	if req.Header.Get("Authorization") != "Bearer k" {
		t.Errorf("Authorization %q", req.Header.Get("Authorization"))
	}
	sent := sentJSON(t, req)
	if sent["model"] != "unknown-model" || sent["input_type"] != "document" || fmt.Sprint(sent["input"]) != "[hello]" {
		t.Errorf("sent %v", sent)
	}
	for _, absent := range []string{"output_dimension", "truncation"} {
		if _, ok := sent[absent]; ok {
			t.Errorf("sent %s by default", absent)
		}
	}

	for _, tt := range []struct {
		opts   embed.VoyageOptions
		name   string
		dims   int
		limits embed.Limits
	}{
		{embed.VoyageOptions{}, "voyage:voyage-3.5:1024", 1024, embed.Limits{MaxInputs: 1000, MaxRequestTokens: 320_000, MaxInputTokens: 32_000}},
		{embed.VoyageOptions{Model: "voyage-3-large", Dimensions: 2048}, "voyage:voyage-3-large:2048", 2048, embed.Limits{MaxInputs: 1000, MaxRequestTokens: 120_000, MaxInputTokens: 32_000}},
		{embed.VoyageOptions{Model: "voyage-3.5-lite", MaxInputs: 64}, "voyage:voyage-3.5-lite:1024", 1024, embed.Limits{MaxInputs: 64, MaxRequestTokens: 1_000_000, MaxInputTokens: 32_000}},
		{embed.VoyageOptions{Model: "voyage-code-2"}, "voyage:voyage-code-2:1536", 1536, embed.Limits{MaxInputs: 1000, MaxRequestTokens: 120_000, MaxInputTokens: 16_000}},
		{embed.VoyageOptions{MaxInputs: -1, MaxInputTokens: -1, MaxRequestTokens: 5000}, "voyage:voyage-3.5:1024", 1024, embed.Limits{MaxInputs: 1000, MaxRequestTokens: 5000}},
		{embed.VoyageOptions{Model: "my-finetune"}, "voyage:my-finetune", 0, embed.Limits{MaxInputs: 1000}},
	} {
		v := embed.NewVoyage(tt.opts)
		if v.Name() != tt.name || v.Dimensions() != tt.dims || v.Limits() != tt.limits {
			t.Errorf("NewVoyage(%+v): Name %q, Dimensions %d, Limits %+v; want %q, %d, %+v", tt.opts, v.Name(), v.Dimensions(), v.Limits(), tt.name, tt.dims, tt.limits)
		}
	}

	// A base URL with a trailing slash.
	rec = okRecorder(`{"data":[{"embedding":[1],"index":0}]}`)
	v = embed.NewVoyage(embed.VoyageOptions{BaseURL: "http://proxy.internal/voyage/v1/", HTTPClient: &http.Client{Transport: rec}, Model: "m"})
	if _, err := v.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if got := rec.reqs[0].URL.String(); got != "http://proxy.internal/voyage/v1/embeddings" {
		t.Errorf("URL %q", got)
	}
}

func TestVoyageUsesIndexes(t *testing.T) {
	f := newFakeVoyage(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, fr *fakeRequest) bool {
		// Answer in reverse order; each item keeps its index.
		var items []string
		for i := len(fr.Texts) - 1; i >= 0; i-- {
			items = append(items, fmt.Sprintf(`{"object":"embedding","embedding":[%d,1],"index":%d}`, i+1, i))
		}
		fmt.Fprintf(w, `{"object":"list","data":[%s],"model":"voyage-3.5","usage":{"total_tokens":3}}`, strings.Join(items, ","))
		return true
	}})
	v := embed.NewVoyage(embed.VoyageOptions{APIKey: fakeKey, BaseURL: f.URL + "/v1", Model: "m"})
	vecs, err := v.Embed(context.Background(), []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	for i, vec := range vecs {
		if vec[0] != float32(i+1) {
			t.Errorf("vector %d is that of index %v", i, vec[0]-1)
		}
	}
}

func TestVoyageRejectsBadAnswers(t *testing.T) {
	for _, tt := range []struct {
		name  string
		model string // default voyage-3.5 (1024 dimensions)
		data  string // the data list, for 2 texts
		want  error
	}{
		{"too few", "m", `[{"embedding":[1,2],"index":0}]`, embed.ErrCountMismatch},
		{"too many", "m", `[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":1},{"embedding":[1,2],"index":2}]`, embed.ErrCountMismatch},
		{"repeated index", "m", `[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":0}]`, embed.ErrCountMismatch},
		{"index out of range", "m", `[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":2}]`, embed.ErrCountMismatch},
		{"negative index", "m", `[{"embedding":[1,2],"index":-1},{"embedding":[1,2],"index":1}]`, embed.ErrCountMismatch},
		{"no data", "m", `null`, embed.ErrCountMismatch},
		{"mixed dimensions", "m", `[{"embedding":[1,2],"index":0},{"embedding":[1,2,3],"index":1}]`, embed.ErrDimensionMismatch},
		{"not the model's dimension", "", `[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":1}]`, embed.ErrDimensionMismatch},
		{"empty vector", "m", `[{"embedding":[],"index":0},{"embedding":[1,2],"index":1}]`, embed.ErrInvalidVector},
		{"no vector", "m", `[{"index":0},{"embedding":[1,2],"index":1}]`, embed.ErrInvalidVector},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeVoyage(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, _ *fakeRequest) bool {
				fmt.Fprintf(w, `{"object":"list","data":%s,"model":"voyage-3.5","usage":{"total_tokens":2}}`, tt.data)
				return true
			}})
			v := embed.NewVoyage(embed.VoyageOptions{APIKey: fakeKey, BaseURL: f.URL + "/v1", Model: tt.model})
			vecs, err := v.Embed(context.Background(), []string{"a", "b"})
			if !errors.Is(err, tt.want) || vecs != nil {
				t.Errorf("got %d vectors, error %v; want %v", len(vecs), err, tt.want)
			}
		})
	}
}

func TestVoyageNumberOutOfRange(t *testing.T) {
	f := newFakeVoyage(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, _ *fakeRequest) bool {
		fmt.Fprint(w, `{"object":"list","data":[{"embedding":[1e39,0],"index":0}]}`)
		return true
	}})
	_, err := embed.NewVoyage(embed.VoyageOptions{APIKey: fakeKey, BaseURL: f.URL + "/v1", Model: "m"}).Embed(context.Background(), []string{"a"})
	if ae := asAPIError(t, err); ae.Code != "invalid_response" || ae.StatusCode != 0 {
		t.Errorf("a component beyond float32 gave %v", err)
	}
}

func TestVoyageValidationDetail(t *testing.T) {
	// FastAPI's shape for invalid requests.
	f := newFakeVoyage(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, _ *fakeRequest) bool {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"detail":[{"loc":["body","input"],"msg":"field required","type":"value_error.missing"},{"loc":["body","model"],"msg":"str type expected","type":"type_error.str"}]}`)
		return true
	}})
	_, err := embed.NewVoyage(embed.VoyageOptions{APIKey: fakeKey, BaseURL: f.URL + "/v1"}).Embed(context.Background(), []string{"a"})
	ae := asAPIError(t, err)
	if ae.StatusCode != 422 || ae.Message != "field required; str type expected" || ae.Retryable() {
		t.Errorf("got status %d, message %q, retryable %v", ae.StatusCode, ae.Message, ae.Retryable())
	}
}
