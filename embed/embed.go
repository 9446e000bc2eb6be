// Package embed defines the Embedder contract that turns texts into
// vectors, and ships implementations: OpenAI (and every OpenAI-compatible
// server: Ollama, vLLM, LM Studio, Azure), Voyage and Cohere (which embed
// queries and documents differently: see QueryEmbedder), and Hashing, a
// deterministic local embedder for tests, demos and offline use.
//
// Batching, concurrency, retries and validation live in the rag pipeline, so
// an Embedder only has to make one call for one batch.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/ragkit-go/rag/internal/vecmath"
)

// Embedder turns a batch of texts into vectors.
//
// Embed returns exactly one vector per text, in the order of texts, all of
// the same dimension. It makes as few provider calls as it can (usually one)
// and does not retry: the pipeline batches, retries and checks the result.
//
// Concurrency: Embed may be called concurrently from many goroutines.
//
// Ownership: Embed must not modify texts nor keep it after returning. The
// returned vectors belong to the caller, who may modify them (the pipeline
// hands them to stores that keep them and scale them in place), so the
// embedder must not keep them or return them again.
//
// Errors: a provider's refusal is reported as a *provider.Error, so the
// caller can tell a retryable failure (429, 5xx) from a permanent one
// (400); see provider.Retryable. A call
// with a cancelled context returns an error matching ctx.Err().
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Func adapts an ordinary function to the Embedder interface.
type Func func(ctx context.Context, texts []string) ([][]float32, error)

// Embed calls f(ctx, texts).
func (f Func) Embed(ctx context.Context, texts []string) ([][]float32, error) { return f(ctx, texts) }

// Dimensioner is implemented by embedders that know the dimension of their
// vectors before the first call. Dimensions returns 0 when it is unknown.
// Like Namer and Limiter, it must be cheap, must not block, and may be
// called concurrently; its answer must not change.
type Dimensioner interface {
	Dimensions() int
}

// Namer is implemented by embedders that can name the model and settings
// their vectors come from, e.g. "openai:text-embedding-3-small:1536". Two
// embedders with the same name must produce the same vectors; embedding
// caches key on it.
type Namer interface {
	Name() string
}

// QueryEmbedder is implemented by embedders whose provider embeds search
// queries differently from documents (Voyage's input_type, Cohere's
// search_query). The pipeline calls EmbedQueries for queries when it is
// present, and Embed otherwise. Its contract is Embed's.
type QueryEmbedder interface {
	EmbedQueries(ctx context.Context, queries []string) ([][]float32, error)
}

// Limits are the request limits of an embedding provider. Zero means no
// limit.
type Limits struct {
	MaxInputs        int // texts per request (OpenAI: 2048)
	MaxRequestTokens int // tokens per request, all inputs together (OpenAI: 300,000)
	MaxInputTokens   int // tokens per input (OpenAI: 8,192)
}

// Limiter is implemented by embedders that know their provider's request
// limits; the pipeline packs batches within them.
type Limiter interface {
	Limits() Limits
}

// Sentinel errors, wrapped with %w; test them with errors.Is.
var (
	// ErrCountMismatch: an embedder returned a different number of vectors
	// than it was given texts.
	ErrCountMismatch = errors.New("embed: number of vectors differs from number of texts")
	// ErrDimensionMismatch: vectors of different dimensions, or not of the
	// dimension expected.
	ErrDimensionMismatch = errors.New("embed: vector dimension mismatch")
	// ErrInvalidVector: a vector is empty or holds NaN or Inf.
	ErrInvalidVector = errors.New("embed: invalid vector")
	// ErrInputTooLong: a text is longer than the model accepts.
	ErrInputTooLong = errors.New("embed: input too long for the model")
)

// Check validates an embedder's answer for n texts: exactly n vectors, all
// of one dimension (equal to dim when dim > 0), none holding NaN or Inf. It
// returns the dimension.
func Check(vecs [][]float32, n, dim int) (int, error) {
	if len(vecs) != n {
		return 0, fmt.Errorf("%w: %d texts, %d vectors", ErrCountMismatch, n, len(vecs))
	}
	for i, v := range vecs {
		if len(v) == 0 {
			return 0, fmt.Errorf("%w: vector %d is empty", ErrInvalidVector, i)
		}
		if dim > 0 && len(v) != dim {
			return 0, fmt.Errorf("%w: vector %d has %d dimensions, want %d", ErrDimensionMismatch, i, len(v), dim)
		}
		dim = len(v)
		if !vecmath.Finite(v) {
			for j, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return 0, fmt.Errorf("%w: vector %d component %d is %v", ErrInvalidVector, i, j, x)
				}
			}
		}
	}
	return dim, nil
}
