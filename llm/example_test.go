package llm_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
)

// Stream a reply from any OpenAI-compatible server; here the fake one of
// package openaitest.
func ExampleOpenAI_Stream() {
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"Goroutines are cheap threads."}})
	defer srv.Close()

	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}, Model: "llama3.2"})
	req := llm.Request{Messages: []llm.Message{
		{Role: llm.System, Content: "Answer in one sentence."},
		{Role: llm.User, Content: "What is a goroutine?"},
	}}
	for c, err := range m.Stream(context.Background(), req) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if c.Text != "" {
			fmt.Printf("%q\n", c.Text)
		}
		if c.FinishReason != "" {
			fmt.Println("finish:", c.FinishReason, "completion tokens:", c.Usage.CompletionTokens)
		}
	}
	// Output:
	// "Goroutines "
	// "are "
	// "cheap "
	// "threads."
	// finish: stop completion tokens: 7
}

// Retry makes a failed call again on 429s and 5xx, waiting the provider's
// Retry-After.
func ExampleRetry() {
	var calls atomic.Int64
	srv := openaitest.NewServer(openaitest.Options{
		ChatReplies: []string{"Hello!"},
		Fault: func(openaitest.Request) *openaitest.Fault {
			if calls.Add(1) == 1 {
				return &openaitest.Fault{Status: 429, RetryAfter: 10e6}
			}
			return nil
		},
	})
	defer srv.Close()

	m := llm.Retry(llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL()}}), llm.RetryOptions{})
	resp, err := m.Generate(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.User, Content: "Hi"}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Text, "after", srv.Stats().ChatRequests, "requests")
	// Output:
	// Hello! after 2 requests
}
