package embedtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/provider"
)

// A Fake fails the calls you choose, to test how code handles a provider
// refusing a request, and counts what it was given.
func ExampleFake() {
	f := &embedtest.Fake{
		Dims:   16,
		OnCall: embedtest.ErrorOn(&provider.Error{StatusCode: 503, Message: "overloaded"}, 1),
	}
	ctx := context.Background()
	texts := []string{"first text", "second text"}

	_, err := f.Embed(ctx, texts)
	var ae *provider.Error
	fmt.Println("call 1:", errors.As(err, &ae), ae.StatusCode, ae.Retryable())

	vecs, err := f.Embed(ctx, texts)
	fmt.Println("call 2:", len(vecs), len(vecs[0]), err)
	fmt.Println("calls:", f.Calls(), "texts:", f.Texts())
	// Output:
	// call 1: true 503 true
	// call 2: 2 16 <nil>
	// calls: 2 texts: 4
}

// Corrupt makes a Fake answer badly, to test that a caller validates what
// an embedder returns.
func ExampleFake_corrupt() {
	f := &embedtest.Fake{Dims: 4, Corrupt: embedtest.DropLast}
	texts := []string{"a", "b", "c"}
	vecs, _ := f.Embed(context.Background(), texts)
	_, err := embed.Check(vecs, len(texts), 4)
	fmt.Println(errors.Is(err, embed.ErrCountMismatch))
	// Output:
	// true
}
