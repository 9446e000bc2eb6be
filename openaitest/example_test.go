package openaitest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ragkit-go/rag/openaitest"
)

// A fake server answers any OpenAI client; here the first request is
// refused with a 429, as a rate-limited API would, and the second served.
func ExampleServer() {
	srv := openaitest.NewServer(openaitest.Options{
		APIKey:     "test-key",
		Dimensions: 256,
		Fault: func(r openaitest.Request) *openaitest.Fault {
			if r.Seq == 1 {
				return &openaitest.Fault{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 20 * time.Millisecond}
			}
			return nil
		},
	})
	defer srv.Close()

	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = srv.URL()
	c := openai.NewClientWithConfig(cfg)
	req := openai.EmbeddingRequestStrings{Model: openai.SmallEmbedding3, Input: []string{"hello", "world"}}

	_, err := c.CreateEmbeddings(context.Background(), req)
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("first:", apiErr.HTTPStatusCode, apiErr.Code)
	}
	resp, err := c.CreateEmbeddings(context.Background(), req)
	if err != nil {
		panic(err)
	}
	fmt.Println("second:", len(resp.Data), "vectors of", len(resp.Data[0].Embedding), "dimensions,", resp.Usage.TotalTokens, "tokens")

	st := srv.Stats()
	fmt.Println("requests:", st.Requests, "429s:", st.Status[429], "inputs embedded:", st.Inputs)
	// Output:
	// first: 429 rate_limit_exceeded
	// second: 2 vectors of 256 dimensions, 2 tokens
	// requests: 2 429s: 1 inputs embedded: 2
}

// Chat completions stream their reply in deltas, as the real API does.
func ExampleServer_chatStream() {
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"Go has goroutines."}})
	defer srv.Close()

	cfg := openai.DefaultConfig("any")
	cfg.BaseURL = srv.URL()
	stream, err := openai.NewClientWithConfig(cfg).CreateChatCompletionStream(context.Background(), openai.ChatCompletionRequest{
		Model:    openai.GPT4oMini,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Which language has goroutines?"}},
		Stream:   true,
	})
	if err != nil {
		panic(err)
	}
	defer stream.Close()
	for {
		chunk, err := stream.Recv()
		if err != nil {
			break // io.EOF after [DONE]
		}
		for _, ch := range chunk.Choices {
			if ch.Delta.Content != "" {
				fmt.Printf("%q\n", ch.Delta.Content)
			}
		}
	}
	// Output:
	// "Go "
	// "has "
	// "goroutines."
}
