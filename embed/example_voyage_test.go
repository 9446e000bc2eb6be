package embed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ragkit-go/rag/embed"
)

// Voyage embeds documents and search queries with different input types;
// here a stand-in for Voyage's API prints what it receives.
func ExampleVoyage() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input           []string `json:"input"`
			Model           string   `json:"model"`
			InputType       string   `json:"input_type"`
			OutputDimension int      `json:"output_dimension"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"detail":"Request body is not a valid JSON"}`, http.StatusBadRequest)
			return
		}
		fmt.Printf("%s %s %s: %d texts, input_type %s\n", r.Method, r.URL.Path, r.Header.Get("Authorization"), len(req.Input), req.InputType)

		type item struct {
			Object    string    `json:"object"`
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		}
		resp := struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}{Object: "list", Model: req.Model}
		for i := range req.Input {
			v := make([]float32, req.OutputDimension)
			if req.InputType == "query" {
				v[1] = 1
			} else {
				v[0] = 1
			}
			resp.Data = append(resp.Data, item{"embedding", v, i})
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	defer srv.Close()

	v := embed.NewVoyage(embed.VoyageOptions{APIKey: "test-key", BaseURL: srv.URL + "/v1", Dimensions: 256})
	ctx := context.Background()
	docs, err := v.Embed(ctx, []string{"Mitochondria make ATP.", "Ribosomes make proteins."})
	if err != nil {
		panic(err)
	}
	// A rag.Pipeline calls EmbedQueries for queries, as v is an
	// embed.QueryEmbedder.
	queries, err := v.EmbedQueries(ctx, []string{"What makes ATP?"})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Name(), len(docs), "documents", len(queries), "query")
	fmt.Printf("%+v\n", v.Limits())
	// Output:
	// POST /v1/embeddings Bearer test-key: 2 texts, input_type document
	// POST /v1/embeddings Bearer test-key: 1 texts, input_type query
	// voyage:voyage-3.5:256 2 documents 1 query
	// {MaxInputs:1000 MaxRequestTokens:320000 MaxInputTokens:32000}
}
