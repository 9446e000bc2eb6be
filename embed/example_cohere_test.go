package embed_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
)

// A refusal of Cohere's API is a *provider.Error that says whether to
// retry, and when; here a stand-in for the API that is rate limited.
func ExampleCohere() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer test-key" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"id":"a1","message":"invalid api token"}`)
			return
		}
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"id":"a2","message":"You are past the per minute request limit, please wait and try again later."}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	c := embed.NewCohere(embed.CohereOptions{APIKey: "test-key", BaseURL: srv.URL})
	fmt.Println(c.Name(), c.Limits().MaxInputs, "texts per request")

	var ae *provider.Error
	_, err := c.Embed(ctx, []string{"hello"})
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, "retryable:", ae.Retryable(), "after", ae.RetryAfter)
		fmt.Println(ae.Message)
	}
	wrongKey := embed.NewCohere(embed.CohereOptions{APIKey: "wrong", BaseURL: srv.URL})
	_, err = wrongKey.EmbedQueries(ctx, []string{"hello"})
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, "retryable:", ae.Retryable())
	}
	// Output:
	// cohere:embed-v4.0:1536 96 texts per request
	// 429 retryable: true after 3s
	// You are past the per minute request limit, please wait and try again later.
	// 401 retryable: false
}
