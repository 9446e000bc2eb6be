package rerank

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, wrapped with %w; test them with errors.Is.
var (
	// ErrBadResponse: a provider answered 2xx with a body that does not
	// hold one valid score for each passage (unparsable JSON, an index out
	// of range or repeated, a missing passage, a non-finite score, or an
	// LLM answer that is not the JSON asked for).
	ErrBadResponse = errors.New("rerank: malformed provider response")
)

// APIError is a failed call to a reranking provider: an error status, or
// a request that never got an answer (StatusCode 0, Err set).
type APIError struct {
	Provider   string        // "cohere", "voyage", "jina" or "llm"
	StatusCode int           // HTTP status; 0 when the request got no answer
	Message    string        // the provider's message, from its error body
	RetryAfter time.Duration // from the Retry-After header; 0 if absent
	Err        error         // underlying error, if any
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("rerank: ")
	b.WriteString(e.Provider)
	if e.StatusCode == 0 {
		b.WriteString(": request failed")
	} else {
		b.WriteString(" answered ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *APIError) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed later: no
// answer (connection error or timeout), 408, 429 and 5xx.
func (e *APIError) Retryable() bool { return retryableStatus(e.StatusCode) }

func retryableStatus(code int) bool {
	return code == 0 || code == 408 || code == 429 || code >= 500
}

// errorMessage extracts a human-readable message from an error body in
// any of the shapes the providers use: {"message": "..."} (Cohere),
// {"detail": "..."} or {"detail": [{"msg": "..."}]} (Voyage, Jina),
// {"error": {"message": "..."}} or {"error": "..."} (OpenAI-compatible).
// Otherwise it returns the start of the body.
func errorMessage(body []byte) string {
	var shape struct {
		Message json.RawMessage `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &shape) == nil {
		for _, raw := range []json.RawMessage{shape.Message, shape.Detail, shape.Error} {
			if m := messageOf(raw); m != "" {
				return m
			}
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func messageOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
		Msg     string `json:"msg"`
	}
	if json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Msg != "") {
		return obj.Message + obj.Msg
	}
	var list []struct {
		Msg     string `json:"msg"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		var parts []string
		for _, it := range list {
			parts = append(parts, it.Msg+it.Message)
		}
		return strings.Join(parts, "; ")
	}
	return ""
}
