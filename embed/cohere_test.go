package embed_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

func TestCohereDefaults(t *testing.T) {
	rec := okRecorder(`{"id":"x","embeddings":{"float":[[0.25,0.75]]},"texts":["hello"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":1}},"response_type":"embeddings_by_type"}`)
	c := embed.NewCohere(embed.CohereOptions{APIKey: "k", HTTPClient: &http.Client{Transport: rec}, Model: "unknown-model"})
	vecs, err := c.EmbedQueries(context.Background(), []string{"hello"})
	if err != nil || len(vecs) != 1 || vecs[0][1] != 0.75 {
		t.Fatalf("got %v, %v", vecs, err)
	}
	req := rec.reqs[0]
	if got := req.URL.String(); got != "https://api.cohere.com/v2/embed" {
		t.Errorf("default URL %q", got)
	}
	if req.Header.Get("Authorization") != "Bearer k" {
		t.Errorf("Authorization %q", req.Header.Get("Authorization"))
	}
	sent := sentJSON(t, req)
	if sent["model"] != "unknown-model" || sent["input_type"] != "search_query" ||
		fmt.Sprint(sent["texts"]) != "[hello]" || fmt.Sprint(sent["embedding_types"]) != "[float]" {
		t.Errorf("sent %v", sent)
	}
	for _, absent := range []string{"output_dimension", "truncate"} {
		if _, ok := sent[absent]; ok {
			t.Errorf("sent %s by default", absent)
		}
	}

	for _, tt := range []struct {
		opts   embed.CohereOptions
		name   string
		dims   int
		limits embed.Limits
	}{
		{embed.CohereOptions{}, "cohere:embed-v4.0:1536", 1536, embed.Limits{MaxInputs: 96, MaxInputTokens: 128_000}},
		{embed.CohereOptions{Dimensions: 256}, "cohere:embed-v4.0:256", 256, embed.Limits{MaxInputs: 96, MaxInputTokens: 128_000}},
		{embed.CohereOptions{Model: "embed-english-v3.0"}, "cohere:embed-english-v3.0:1024", 1024, embed.Limits{MaxInputs: 96, MaxInputTokens: 512}},
		{embed.CohereOptions{Model: "embed-multilingual-light-v3.0", MaxInputs: 10}, "cohere:embed-multilingual-light-v3.0:384", 384, embed.Limits{MaxInputs: 10, MaxInputTokens: 512}},
		{embed.CohereOptions{MaxInputTokens: -1, MaxRequestTokens: 100_000}, "cohere:embed-v4.0:1536", 1536, embed.Limits{MaxInputs: 96, MaxRequestTokens: 100_000}},
		{embed.CohereOptions{Model: "my-model"}, "cohere:my-model", 0, embed.Limits{MaxInputs: 96}},
	} {
		c := embed.NewCohere(tt.opts)
		if c.Name() != tt.name || c.Dimensions() != tt.dims || c.Limits() != tt.limits {
			t.Errorf("NewCohere(%+v): Name %q, Dimensions %d, Limits %+v; want %q, %d, %+v", tt.opts, c.Name(), c.Dimensions(), c.Limits(), tt.name, tt.dims, tt.limits)
		}
	}
}

func TestCohereRejectsBadAnswers(t *testing.T) {
	for _, tt := range []struct {
		name       string
		model      string // default embed-v4.0 (1536 dimensions)
		embeddings string // for 2 texts
		want       error
	}{
		{"too few", "m", `{"float":[[1,2]]}`, embed.ErrCountMismatch},
		{"too many", "m", `{"float":[[1,2],[1,2],[1,2]]}`, embed.ErrCountMismatch},
		{"no float vectors", "m", `{"int8":[[1,2],[1,2]]}`, embed.ErrCountMismatch},
		{"null", "m", `null`, embed.ErrCountMismatch},
		{"mixed dimensions", "m", `{"float":[[1,2],[1,2,3]]}`, embed.ErrDimensionMismatch},
		{"not the model's dimension", "", `{"float":[[1,2],[1,2]]}`, embed.ErrDimensionMismatch},
		{"empty vector", "m", `{"float":[[1,2],[]]}`, embed.ErrInvalidVector},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCohere(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, fr *fakeRequest) bool {
				fmt.Fprintf(w, `{"id":"x","embeddings":%s,"texts":["a","b"],"meta":{"api_version":{"version":"2"}},"response_type":"embeddings_by_type"}`, tt.embeddings)
				return true
			}})
			c := embed.NewCohere(embed.CohereOptions{APIKey: fakeKey, BaseURL: f.URL, Model: tt.model})
			vecs, err := c.Embed(context.Background(), []string{"a", "b"})
			if !errors.Is(err, tt.want) || vecs != nil {
				t.Errorf("got %d vectors, error %v; want %v", len(vecs), err, tt.want)
			}
		})
	}
}

func TestCohereLegacyShapeIsMalformed(t *testing.T) {
	// Without embedding_types, Cohere answers a bare list of float lists
	// ("embeddings_floats"); Cohere always asks for types, so this shape
	// is a malformed answer.
	f := newFakeCohere(t, fakeOptions{Answer: func(w http.ResponseWriter, _ *http.Request, _ *fakeRequest) bool {
		fmt.Fprint(w, `{"id":"x","embeddings":[[1,2]],"texts":["a"],"response_type":"embeddings_floats"}`)
		return true
	}})
	_, err := embed.NewCohere(embed.CohereOptions{APIKey: fakeKey, BaseURL: f.URL, Model: "m"}).Embed(context.Background(), []string{"a"})
	if ae := asAPIError(t, err); ae.Code != "invalid_response" || ae.StatusCode != 0 {
		t.Errorf("legacy shape gave %v", err)
	}
}
