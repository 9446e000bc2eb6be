package provider

import (
	"context"
	"net/http"

	"github.com/ragkit-go/rag/internal/httpx"
)

// WithHeaderObserver returns a context under which the module's provider
// clients (embed, llm and rerank) pass the headers of every answer they
// get, successful or not, to f: (*Budget).Observe, say. f may be called
// concurrently, must be quick, and must not modify nor keep the header.
func WithHeaderObserver(ctx context.Context, f func(http.Header)) context.Context {
	return httpx.WithHeaderObserver(ctx, f)
}
