package embed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag/embed"
)

// This file holds fake Voyage and Cohere servers that speak each
// provider's JSON (requests, answers and error bodies as documented), and
// a table of the two providers so that tests of shared behaviour run
// against both.

// fakeKey is the API key the fake servers accept by default.
const fakeKey = "test-key"

// fakeRequest is what a fake server received in one request.
type fakeRequest struct {
	Seq         int // 1-based
	Method      string
	Path        string
	Auth        string
	ContentType string

	Model           string
	Texts           []string
	InputType       string
	OutputDimension int
	Truncation      *bool    // Voyage
	Truncate        string   // Cohere
	EmbeddingTypes  []string // Cohere
}

// fakeOptions configures a fake server.
type fakeOptions struct {
	APIKey    string // default fakeKey
	MaxInputs int    // larger batches are refused with 400; default the provider's limit
	Dims      int    // vector size without output_dimension; default the model's

	// Shuffle answers Voyage's data in a random order (each item keeps
	// its index), as a client must not assume the order.
	Shuffle bool

	// Answer, when set and returning true, has answered the request fr
	// itself (r's body is already read).
	Answer func(w http.ResponseWriter, r *http.Request, fr *fakeRequest) bool
}

// fake is a fake provider server.
type fake struct {
	*httptest.Server
	opts  fakeOptions
	seq   atomic.Int64
	conns atomic.Int64

	mu   sync.Mutex
	reqs []fakeRequest
}

// requests returns a copy of the requests received so far.
func (f *fake) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// calls returns the number of requests received so far.
func (f *fake) calls() int { return int(f.seq.Load()) }

// fakeVector is the vector the fake servers give text embedded with
// inputType: Hashing's vector of the text behind a prefix naming the input
// type, so that documents and queries get different vectors, as they do
// from the real providers.
func fakeVector(dims int, inputType, text string) []float32 {
	if inputType != "" {
		text = inputType + ": " + text
	}
	vs, err := embed.NewHashing(embed.HashingOptions{Dimensions: dims}).Embed(context.Background(), []string{text})
	if err != nil {
		panic(err)
	}
	return vs[0]
}

// fakeVectors is fakeVector for each text.
func fakeVectors(dims int, inputType string, texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = fakeVector(dims, inputType, t)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// start starts the fake server: handle decodes a request into a
// fakeRequest (or answers an error itself and returns false) and answers
// it.
func startFake(t *testing.T, opts fakeOptions, decode func(w http.ResponseWriter, r *http.Request, fr *fakeRequest) bool, answer func(w http.ResponseWriter, fr *fakeRequest)) *fake {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = fakeKey
	}
	f := &fake{opts: opts}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fr := fakeRequest{
			Seq:         int(f.seq.Add(1)),
			Method:      r.Method,
			Path:        r.URL.Path,
			Auth:        r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"),
		}
		ok := decode(w, r, &fr)
		f.mu.Lock()
		f.reqs = append(f.reqs, fr)
		f.mu.Unlock()
		if !ok {
			return
		}
		if opts.Answer != nil && opts.Answer(w, r, &fr) {
			return
		}
		answer(w, &fr)
	}))
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// Voyage's prompts for its input types; the fake uses them as prefixes.
var voyagePrompts = map[string]string{
	"query":    "Represent the query for retrieving supporting documents",
	"document": "Represent the document for retrieval",
}

// voyageError is Voyage's error body.
func voyageError(detail string) string {
	b, _ := json.Marshal(map[string]string{"detail": detail})
	return string(b)
}

// newFakeVoyage starts a fake of Voyage's POST /v1/embeddings; the
// embedder's BaseURL is f.URL + "/v1".
func newFakeVoyage(t *testing.T, opts fakeOptions) *fake {
	if opts.APIKey == "" {
		opts.APIKey = fakeKey
	}
	if opts.MaxInputs <= 0 {
		opts.MaxInputs = 1000
	}
	if opts.Dims <= 0 {
		opts.Dims = 1024
	}
	refuse := func(w http.ResponseWriter, status int, detail string) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintln(w, voyageError(detail))
		return false
	}
	decode := func(w http.ResponseWriter, r *http.Request, fr *fakeRequest) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
			return refuse(w, http.StatusNotFound, "Not Found")
		}
		if fr.Auth != "Bearer "+opts.APIKey {
			return refuse(w, http.StatusUnauthorized, "Provided API key is invalid.")
		}
		var body struct {
			Input           json.RawMessage `json:"input"`
			Model           string          `json:"model"`
			InputType       *string         `json:"input_type"`
			OutputDimension *int            `json:"output_dimension"`
			Truncation      *bool           `json:"truncation"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return refuse(w, http.StatusBadRequest, "Request body is not a valid JSON: "+err.Error())
		}
		if err := json.Unmarshal(body.Input, &fr.Texts); err != nil {
			return refuse(w, http.StatusBadRequest, "input must be a string or a list of strings")
		}
		fr.Model, fr.Truncation = body.Model, body.Truncation
		if body.InputType != nil {
			fr.InputType = *body.InputType
		}
		if body.OutputDimension != nil {
			fr.OutputDimension = *body.OutputDimension
		}
		switch {
		case fr.Model == "":
			return refuse(w, http.StatusBadRequest, "model is required")
		case len(fr.Texts) == 0:
			return refuse(w, http.StatusBadRequest, "input must not be empty")
		case len(fr.Texts) > opts.MaxInputs:
			return refuse(w, http.StatusBadRequest, fmt.Sprintf("The batch size limit is %d. Your batch size is %d.", opts.MaxInputs, len(fr.Texts)))
		case fr.InputType != "" && voyagePrompts[fr.InputType] == "":
			return refuse(w, http.StatusBadRequest, "input_type must be one of null, query, document")
		case body.OutputDimension != nil && !slices.Contains([]int{256, 512, 1024, 2048}, fr.OutputDimension):
			return refuse(w, http.StatusBadRequest, "output_dimension must be one of 256, 512, 1024, 2048")
		}
		return true
	}
	answer := func(w http.ResponseWriter, fr *fakeRequest) {
		dims := opts.Dims
		if fr.OutputDimension > 0 {
			dims = fr.OutputDimension
		}
		type item struct {
			Object    string    `json:"object"`
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		}
		data := make([]item, len(fr.Texts))
		tokens := 0
		for i, text := range fr.Texts {
			data[i] = item{"embedding", fakeVector(dims, voyagePrompts[fr.InputType], text), i}
			tokens += len(strings.Fields(text))
		}
		if opts.Shuffle {
			rand.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"object": "list",
			"data":   data,
			"model":  fr.Model,
			"usage":  map[string]int{"total_tokens": tokens},
		})
	}
	return startFake(t, opts, decode, answer)
}

// cohereError is Cohere's error body.
func cohereError(message string) string {
	b, _ := json.Marshal(map[string]string{"id": "9f2b1c3e-0000-4000-8000-000000000000", "message": message})
	return string(b)
}

// newFakeCohere starts a fake of Cohere's POST /v2/embed; the embedder's
// BaseURL is f.URL.
func newFakeCohere(t *testing.T, opts fakeOptions) *fake {
	if opts.APIKey == "" {
		opts.APIKey = fakeKey
	}
	if opts.MaxInputs <= 0 {
		opts.MaxInputs = 96
	}
	if opts.Dims <= 0 {
		opts.Dims = 1536
	}
	refuse := func(w http.ResponseWriter, status int, msg string) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintln(w, cohereError(msg))
		return false
	}
	decode := func(w http.ResponseWriter, r *http.Request, fr *fakeRequest) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/v2/embed" {
			return refuse(w, http.StatusNotFound, "not found")
		}
		if fr.Auth != "Bearer "+opts.APIKey {
			return refuse(w, http.StatusUnauthorized, "invalid api token")
		}
		var body struct {
			Model           string   `json:"model"`
			Texts           []string `json:"texts"`
			InputType       string   `json:"input_type"`
			EmbeddingTypes  []string `json:"embedding_types"`
			OutputDimension *int     `json:"output_dimension"`
			Truncate        string   `json:"truncate"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return refuse(w, http.StatusBadRequest, "invalid request: "+err.Error())
		}
		fr.Model, fr.Texts, fr.InputType, fr.EmbeddingTypes, fr.Truncate = body.Model, body.Texts, body.InputType, body.EmbeddingTypes, body.Truncate
		if body.OutputDimension != nil {
			fr.OutputDimension = *body.OutputDimension
		}
		switch {
		case fr.Model == "":
			return refuse(w, http.StatusBadRequest, "invalid request: a model parameter is required for this endpoint.")
		case !slices.Contains([]string{"search_document", "search_query", "classification", "clustering"}, fr.InputType):
			return refuse(w, http.StatusBadRequest, "invalid request: valid input_type must be provided with the provided model")
		case len(fr.Texts) == 0:
			return refuse(w, http.StatusBadRequest, "invalid request: texts must not be empty")
		case len(fr.Texts) > opts.MaxInputs:
			return refuse(w, http.StatusBadRequest, fmt.Sprintf("invalid request: total number of texts must be at most %d - received %d", opts.MaxInputs, len(fr.Texts)))
		case body.OutputDimension != nil && !slices.Contains([]int{256, 512, 1024, 1536}, fr.OutputDimension):
			return refuse(w, http.StatusBadRequest, "invalid request: output_dimension must be one of [256, 512, 1024, 1536]")
		case fr.Truncate != "" && !slices.Contains([]string{"NONE", "START", "END"}, fr.Truncate):
			return refuse(w, http.StatusBadRequest, "invalid request: truncate must be one of NONE, START, END")
		}
		return true
	}
	answer := func(w http.ResponseWriter, fr *fakeRequest) {
		dims := opts.Dims
		if fr.OutputDimension > 0 {
			dims = fr.OutputDimension
		}
		embeddings := map[string]any{}
		tokens := 0
		for _, typ := range fr.EmbeddingTypes {
			if typ == "float" {
				embeddings["float"] = fakeVectors(dims, fr.InputType, fr.Texts)
			}
		}
		for _, text := range fr.Texts {
			tokens += len(strings.Fields(text))
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id":            "5e9c7b52-0000-4000-8000-000000000000",
			"embeddings":    embeddings,
			"texts":         fr.Texts,
			"response_type": "embeddings_by_type",
			"meta": map[string]any{
				"api_version":  map[string]any{"version": "2"},
				"billed_units": map[string]int{"input_tokens": tokens},
			},
		})
	}
	return startFake(t, opts, decode, answer)
}

// embedOpts are the options common to both providers' embedders.
type embedOpts struct {
	APIKey       string // default fakeKey
	NoKey        bool   // send no API key
	Model        string
	Dimensions   int
	MaxInputs    int
	Timeout      time.Duration
	HTTPClient   *http.Client
	NoTruncation bool
}

// queryEmbedder is what both providers' embedders are.
type queryEmbedder interface {
	embed.Embedder
	embed.QueryEmbedder
	embed.Dimensioner
	embed.Namer
	embed.Limiter
}

// fakeAPI describes one provider to the shared tests.
type fakeAPI struct {
	name               string
	docType, queryType string // input types the fake receives
	prompts            map[string]string
	errorBody          func(msg string) string
	maxInputs          int
	dims               int // default model's
	start              func(t *testing.T, o fakeOptions) *fake
	new                func(f *fake, o embedOpts) queryEmbedder
}

// vector is the fake's vector for text embedded with inputType.
func (p fakeAPI) vector(dims int, inputType, text string) []float32 {
	prefix := inputType
	if p.prompts != nil {
		prefix = p.prompts[inputType]
	}
	return fakeVector(dims, prefix, text)
}

var providers = []fakeAPI{
	{
		name: "voyage", docType: "document", queryType: "query", prompts: voyagePrompts,
		errorBody: voyageError, maxInputs: 1000, dims: 1024,
		start: newFakeVoyage,
		new: func(f *fake, o embedOpts) queryEmbedder {
			if o.APIKey == "" && !o.NoKey {
				o.APIKey = fakeKey
			}
			return embed.NewVoyage(embed.VoyageOptions{
				APIKey: o.APIKey, Model: o.Model, BaseURL: f.URL + "/v1", Dimensions: o.Dimensions,
				MaxInputs: o.MaxInputs, Timeout: o.Timeout, HTTPClient: o.HTTPClient, NoTruncation: o.NoTruncation,
			})
		},
	},
	{
		name: "cohere", docType: "search_document", queryType: "search_query",
		errorBody: cohereError, maxInputs: 96, dims: 1536,
		start: newFakeCohere,
		new: func(f *fake, o embedOpts) queryEmbedder {
			if o.APIKey == "" && !o.NoKey {
				o.APIKey = fakeKey
			}
			return embed.NewCohere(embed.CohereOptions{
				APIKey: o.APIKey, Model: o.Model, BaseURL: f.URL, Dimensions: o.Dimensions,
				MaxInputs: o.MaxInputs, Timeout: o.Timeout, HTTPClient: o.HTTPClient, NoTruncation: o.NoTruncation,
			})
		},
	},
}

// forEachProvider runs test as a subtest for each provider.
func forEachProvider(t *testing.T, test func(t *testing.T, p fakeAPI)) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) { test(t, p) })
	}
}
