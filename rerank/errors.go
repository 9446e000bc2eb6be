package rerank

import "errors"

// Sentinel errors, wrapped with %w; test them with errors.Is. A
// provider's refusal, or a request that got no answer, is a
// *provider.Error (its Provider "cohere", "voyage", "jina", or "openai"
// for the LLM reranker).
var (
	// ErrBadResponse: a provider answered 2xx with a body that does not
	// hold one valid score for each passage (unparsable JSON, an index out
	// of range or repeated, a missing passage, a non-finite score, or an
	// LLM answer that is not the JSON asked for).
	ErrBadResponse = errors.New("rerank: malformed provider response")
)
