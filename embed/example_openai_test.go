package embed_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

// OpenAI works with any OpenAI-compatible server; here openaitest's fake,
// as in a unit test.
func ExampleOpenAI() {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "test-key"})
	defer srv.Close()

	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "test-key"}})
	vecs, err := e.Embed(context.Background(), []string{"hello", "world", "hello world"})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Name())
	fmt.Println(len(vecs), "vectors of", len(vecs[0]), "dimensions")
	fmt.Printf("%+v\n", e.Limits())
	// Output:
	// openai:text-embedding-3-small:1536
	// 3 vectors of 1536 dimensions
	// {MaxInputs:2048 MaxRequestTokens:300000 MaxInputTokens:8192}
}

// A refusal is a *provider.Error that says whether to retry, and when.
func ExampleOpenAI_errors() {
	srv := openaitest.NewServer(openaitest.Options{
		APIKey: "test-key",
		Fault: func(r openaitest.Request) *openaitest.Fault {
			if r.Seq == 1 {
				return &openaitest.Fault{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 1500 * time.Millisecond}
			}
			return nil
		},
	})
	defer srv.Close()

	ctx := context.Background()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "test-key"}})
	_, err := e.Embed(ctx, []string{"hello"})
	var ae *provider.Error
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, ae.Code, "retryable:", ae.Retryable(), "after", ae.RetryAfter)
	}

	wrongKey := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "wrong"}})
	_, err = wrongKey.Embed(ctx, []string{"hello"})
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, ae.Code, "retryable:", ae.Retryable())
	}
	// Output:
	// 429 rate_limit_exceeded retryable: true after 1.5s
	// 401 invalid_api_key retryable: false
}
