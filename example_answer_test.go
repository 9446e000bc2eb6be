package rag_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
)

var exampleDocs = []rag.Document{
	{ID: "go", Title: "Go", Source: "go.dev", Content: "Goroutines communicate over channels."},
	{ID: "tides", Title: "Tides", Source: "noaa.gov", Content: "The Moon's gravity raises the tides of the oceans."},
}

func ExamplePipeline_Answer() {
	ctx := context.Background()
	// A scripted model stands in for a real one, such as
	// llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: key}}).
	model := llmtest.New("The Moon's gravity raises the tides [1]. Goroutines do not [7].")
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: model})
	if err != nil {
		panic(err)
	}
	if _, err := p.Ingest(ctx, exampleDocs...); err != nil {
		panic(err)
	}

	a, err := p.Answer(ctx, "What causes ocean tides?", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Text)
	for _, c := range a.Citations {
		fmt.Printf("[%d] %s (%s): %s\n", c.N, c.Title, c.Source, c.Text)
	}
	fmt.Println("passages given:", len(a.Passages), "invalid citations:", a.InvalidCitations)
	// Output:
	// The Moon's gravity raises the tides [1]. Goroutines do not.
	// [1] Tides (noaa.gov): The Moon's gravity raises the tides of the oceans.
	// passages given: 2 invalid citations: [7]
}

func ExamplePipeline_AnswerStream() {
	ctx := context.Background()
	model := llmtest.New("Goroutines talk over channels [1].")
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: model})
	p.Ingest(ctx, exampleDocs...)

	for c, err := range p.AnswerStream(ctx, "How do goroutines communicate?", nil) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if c.Answer == nil {
			fmt.Printf("%q\n", c.Text) // a piece of text, as the model writes it
			continue
		}
		for _, s := range c.Answer.Citations {
			fmt.Printf("[%d] %s, %s\n", s.N, s.Title, s.Source)
		}
	}
	// Output:
	// "Goroutines"
	// " talk"
	// " over"
	// " channels"
	// " [1]."
	// [1] Go, go.dev
}

// A conversation is a value the caller keeps: each answer adds a turn, and
// with RewriteQuery a follow-up is made standalone before the search.
func ExampleConversation() {
	ctx := context.Background()
	model := llmtest.New()
	model.Reply = func(req llm.Request) string {
		if strings.Contains(req.Messages[0].Content, "rewrite follow-up questions") {
			return "What raises the tides of the oceans?"
		}
		return "The Moon's gravity [1]."
	}
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: model})
	p.Ingest(ctx, exampleDocs...)

	var conv rag.Conversation
	conv.Add("Tell me about the oceans.", "They cover most of the Earth.")
	a, err := p.Answer(ctx, "What raises their tides?", &rag.AnswerOptions{Conversation: &conv, RewriteQuery: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("searched:", a.Query)
	fmt.Println("answer:", a.Text, "from", a.Citations[0].DocID)
	fmt.Println("turns:", len(conv.Turns))
	// Output:
	// searched: What raises the tides of the oceans?
	// answer: The Moon's gravity [1]. from tides
	// turns: 2
}

func ExamplePipeline_Purge() {
	ctx := context.Background()
	p, _ := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	p.Ingest(ctx,
		rag.Document{ID: "sale", Content: "Winter sale: boots half price.", ExpiresAt: time.Now().Add(-time.Hour)},
		rag.Document{ID: "boots", Content: "Our boots are waterproof."},
	)
	hits, _ := p.Search(ctx, "boots", nil)
	fmt.Println("found:", len(hits), hits[0].DocID)
	n, err := p.Purge(ctx)
	fmt.Println("purged:", n, err)
	// Output:
	// found: 1 boots
	// purged: 1 <nil>
}
