package embed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ragkit-go/rag/internal/jsonapi"

	"github.com/ragkit-go/rag/provider"
)

// This file holds what the provider embedders (OpenAI, Voyage, Cohere)
// share beyond the HTTP plumbing of internal/jsonapi and internal/openaix:
// the recognition of inputs too long, the splitting of large batches, and
// the description each gives of itself.

// inputTooLong marks err, a provider's refusal, as matching
// ErrInputTooLong when it is a 400 whose message says an input is longer
// than the model's context.
func inputTooLong(err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.StatusCode == http.StatusBadRequest && tooLong(pe.Message) {
		pe.Err = ErrInputTooLong
	}
	return err
}

// tooLong reports whether the message of a 400 answer says an input is
// longer than the model's context ("... exceeds the context length ...").
func tooLong(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "context length") || strings.Contains(msg, "context window") || strings.Contains(msg, "too long")
}

// newEndpoint returns the JSON endpoint baseURL (or defaultBase when
// empty) + path of a provider's model. timeout 0 means defaultTimeout,
// negative none.
func newEndpoint(prov, model, baseURL, defaultBase, path, apiKey string, client *http.Client, timeout, defaultTimeout time.Duration) *jsonapi.Endpoint {
	if baseURL == "" {
		baseURL = defaultBase
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	return jsonapi.New(jsonapi.Options{
		Provider: prov,
		Label:    "embed: " + prov + " " + model,
		URL:      strings.TrimRight(baseURL, "/") + path,
		APIKey:   apiKey,
		Client:   client,
		Timeout:  timeout,
	})
}

// inBatches embeds texts in consecutive parts of at most size texts, one
// request after the other, and returns the vectors of all parts in order.
// An error of a later part says which texts it concerned; no vectors are
// returned with an error.
func inBatches(ctx context.Context, texts []string, size int, embed func(context.Context, []string) ([][]float32, error)) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	if len(texts) <= size {
		return embed(ctx, texts)
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += size {
		part := texts[start:min(start+size, len(texts))]
		vecs, err := embed(ctx, part)
		if err != nil {
			if start > 0 {
				return nil, fmt.Errorf("embed: texts %d to %d: %w", start, start+len(part)-1, err)
			}
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// tokenLimit is a token limit option: 0 means def, negative no limit.
func tokenLimit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// description is what a provider embedder tells of itself through
// Dimensioner, Namer and Limiter, worked out once by its constructor.
type description struct {
	knownDims int    // Dimensions(): asked for, else the model's; 0 unknown
	name      string // Name()
	limits    Limits // Limits()
}

// describe works out a provider embedder's description: the dimension
// asked for (dims > 0), else the model's documented one; the name
// "provider:model[:dims]"; asked's limits, where a MaxInputs <= 0 and
// token limits of 0 take def's and negative token limits mean none.
func describe(provider, model string, dims, modelDims int, asked, def Limits) description {
	d := description{knownDims: dims}
	if d.knownDims <= 0 {
		d.knownDims = modelDims
	}
	d.name = provider + ":" + model
	if d.knownDims > 0 {
		d.name += ":" + strconv.Itoa(d.knownDims)
	}
	d.limits = Limits{
		MaxInputs:        asked.MaxInputs,
		MaxInputTokens:   tokenLimit(asked.MaxInputTokens, def.MaxInputTokens),
		MaxRequestTokens: tokenLimit(asked.MaxRequestTokens, def.MaxRequestTokens),
	}
	if d.limits.MaxInputs <= 0 {
		d.limits.MaxInputs = def.MaxInputs
	}
	return d
}
