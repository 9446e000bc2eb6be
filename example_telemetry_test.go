package rag_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm/llmtest"
)

// The pipeline's spans go to the TracerProvider it is given (here the
// SDK's, recording in memory; an application would export them). Without
// one it uses the global provider, which records nothing until an SDK is
// installed.
func ExampleOptions_tracerProvider() {
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	p, err := rag.New(rag.Options{
		Embedder:       embed.NewHashing(embed.HashingOptions{}),
		Model:          llmtest.New("The Moon's gravity raises the tides [1]."),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
	})
	if err != nil {
		panic(err)
	}
	if _, err := p.Ingest(ctx, exampleDocs...); err != nil {
		panic(err)
	}
	for c, err := range p.AnswerStream(ctx, "What causes ocean tides?", nil) {
		if err != nil {
			panic(err)
		}
		_ = c
	}
	// Spans in the order they ended, children first.
	for _, s := range spans.Ended() {
		fmt.Println(s.Name())
	}
	// Output:
	// embeddings hashing
	// ingest hashing
	// embeddings hashing
	// retrieval
	// chat llmtest
	// answer llmtest
}
