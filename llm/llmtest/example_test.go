package llmtest_test

import (
	"context"
	"fmt"

	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
)

func ExampleModel() {
	m := llmtest.New("Tides follow the Moon [1].")
	req := llm.Request{Messages: []llm.Message{{Role: llm.User, Content: "Why are there tides?"}}}
	for c, err := range m.Stream(context.Background(), req) {
		if err != nil {
			panic(err)
		}
		if c.FinishReason != "" {
			fmt.Println("finish:", c.FinishReason)
			continue
		}
		fmt.Printf("%q\n", c.Text)
	}
	fmt.Println("asked:", m.Requests()[0].Messages[0].Content)
	// Output:
	// "Tides "
	// "follow "
	// "the "
	// "Moon "
	// "[1]."
	// finish: stop
	// asked: Why are there tides?
}
