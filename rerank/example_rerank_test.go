package rerank_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/ragkit-go/rag/rerank"
)

// A stand-in for Cohere's API, so the example runs offline: it scores a
// document by how many of the query's words it contains.
func fakeCohere() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string   `json:"query"`
			Documents []string `json:"documents"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		type result struct {
			Index int     `json:"index"`
			Score float64 `json:"relevance_score"`
		}
		var results []result
		for i, d := range req.Documents {
			n := 0
			for _, w := range strings.Fields(req.Query) {
				if strings.Contains(d, w) {
					n++
				}
			}
			results = append(results, result{i, float64(n) / 10})
		}
		json.NewEncoder(w).Encode(map[string]any{"results": results})
	}))
}

func ExampleNewCohere() {
	srv := fakeCohere()
	defer srv.Close()

	rr := rerank.NewCohere(rerank.CohereOptions{APIKey: "…", BaseURL: srv.URL})
	passages := []string{
		"Paris is the capital of France.",
		"The capital of Germany is Berlin.",
		"France borders Spain.",
	}
	scores, err := rr.Rerank(context.Background(), "capital of France", passages)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Scores come in the passages' order; present the best first.
	order := []int{0, 1, 2}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	for _, i := range order {
		fmt.Printf("%.1f %s\n", scores[i], passages[i])
	}
	// Output:
	// 0.3 Paris is the capital of France.
	// 0.2 The capital of Germany is Berlin.
	// 0.1 France borders Spain.
}
