package openaitest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChatRequest is the decoded body of a chat completion request.
type ChatRequest struct {
	Model               string         `json:"model"`
	Messages            []ChatMessage  `json:"messages"`
	Stream              bool           `json:"stream"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	MaxTokens           int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	User                string         `json:"user,omitempty"`
}

// StreamOptions are the options of a streamed chat completion.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatMessage is one message of a chat completion request. Content holds
// the text of a message sent as a string or as an array of parts (the
// text parts, joined).
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Name    string `json:"name,omitempty"`
}

// UnmarshalJSON decodes a message whose content is a string, null or an
// array of content parts.
func (m *ChatMessage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
		Name    string          `json:"name"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role, m.Name, m.Content = raw.Role, raw.Name, ""
	if len(raw.Content) == 0 || string(raw.Content) == "null" {
		return nil
	}
	if json.Unmarshal(raw.Content, &m.Content) == nil {
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw.Content, &parts); err != nil {
		return errors.New("message content must be a string or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	m.Content = strings.Join(texts, "\n")
	return nil
}

// LastUserMessage returns the content of the last message with role
// "user", or "".
func (r ChatRequest) LastUserMessage() string {
	for _, m := range slices.Backward(r.Messages) {
		if m.Role == "user" {
			return m.Content
		}
	}
	return ""
}

func (x *exchange) chat(body []byte, inFlight int) {
	s := x.s
	var req ChatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		x.setFault("invalid")
		x.writeError(http.StatusBadRequest, "", "", "", "We could not parse the JSON body of your request. ("+err.Error()+")")
		return
	}
	prompt := 3
	for _, m := range req.Messages {
		prompt += 3 + s.count(m.Content)
	}
	s.mu.Lock()
	x.rec.Model, x.rec.Tokens, x.rec.Chat = req.Model, prompt, &req
	s.mu.Unlock()

	if !x.scripted() {
		return
	}
	switch {
	case req.Model == "":
		x.setFault("invalid")
		x.writeError(http.StatusBadRequest, "invalid_request_error", "", "model", "you must provide a model parameter")
		return
	case len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, req.Model):
		x.setFault("invalid")
		x.writeError(http.StatusNotFound, "invalid_request_error", "model_not_found", "",
			"The model `"+req.Model+"` does not exist or you do not have access to it.")
		return
	case len(req.Messages) == 0:
		x.setFault("invalid")
		x.writeError(http.StatusBadRequest, "invalid_request_error", "empty_array", "messages",
			"Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
		return
	}
	if !x.faults(inFlight, prompt) {
		return
	}
	reply := x.reply(req)
	s.mu.Lock()
	s.chatSeq++
	id := "chatcmpl-openaitest-" + strconv.Itoa(s.chatSeq)
	s.mu.Unlock()
	u := usage{PromptTokens: prompt, CompletionTokens: s.count(reply)}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if req.Stream {
		x.stream(req, id, reply, u)
		return
	}
	s.mu.Lock()
	s.stats.Tokens += prompt
	s.mu.Unlock()
	var stop any = "stop"
	if s.opts.NoFinishReason {
		stop = nil
	}
	x.writeJSON(http.StatusOK, map[string]any{
		"id":      id,
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   req.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": reply, "refusal": nil},
			"logprobs":      nil,
			"finish_reason": stop,
		}},
		"usage":              u,
		"system_fingerprint": "fp_openaitest",
	})
}

// reply picks the reply to req.
func (x *exchange) reply(req ChatRequest) string {
	s := x.s
	if s.opts.ChatReply != nil {
		return s.opts.ChatReply(req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) > 0 {
		r := s.replies[0]
		s.replies = s.replies[1:]
		return r
	}
	return "echo: " + req.LastUserMessage()
}

// splitReply cuts a reply into the content deltas of a stream: one word
// and the spaces after it a delta.
func splitReply(reply string) []string {
	var pieces []string
	for p := range strings.SplitAfterSeq(reply, " ") {
		if p == "" {
			continue
		}
		if p == " " && len(pieces) > 0 {
			pieces[len(pieces)-1] += p
			continue
		}
		pieces = append(pieces, p)
	}
	return pieces
}

// stream answers a chat completion as server-sent events.
func (x *exchange) stream(req ChatRequest, id, reply string, u usage) {
	s := x.s
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage && !s.opts.NoUsageChunk
	var stop any = "stop"
	if s.opts.NoFinishReason {
		stop = nil
	}
	created := time.Now().Unix()
	flusher, _ := x.w.(http.Flusher)
	send := func(data string) {
		_, _ = x.w.Write([]byte("data: " + data + "\n\n"))
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk := func(delta map[string]any, finish any, withChoice bool) string {
		c := map[string]any{
			"id":                 id,
			"object":             "chat.completion.chunk",
			"created":            created,
			"model":              req.Model,
			"system_fingerprint": "fp_openaitest",
			"choices":            []any{},
		}
		if withChoice {
			c["choices"] = []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}
		}
		if includeUsage {
			c["usage"] = nil
		}
		b, _ := json.Marshal(c)
		return string(b)
	}

	h := x.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	x.setStatus(http.StatusOK)
	x.w.WriteHeader(http.StatusOK)
	s.mu.Lock()
	s.stats.Tokens += u.PromptTokens
	s.mu.Unlock()

	send(chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil, true))
	inBand := func() {
		x.setFault("in_band")
		b, _ := json.Marshal(map[string]any{"error": x.inBand.inBandError()})
		send(string(b))
	}
	for i, piece := range splitReply(reply) {
		if x.inBand != nil && i == x.inBand.InBandAfter {
			inBand()
			return
		}
		if !x.wait(s.opts.StreamDelay) {
			return
		}
		send(chunk(map[string]any{"content": piece}, nil, true))
		if i+1 == s.opts.StreamFailAfter {
			x.setFault("stream_break")
			// Close the connection without ending the response: the
			// client sees the stream cut short.
			panic(http.ErrAbortHandler)
		}
	}
	if x.inBand != nil {
		inBand()
		return
	}
	send(chunk(map[string]any{}, stop, true))
	if includeUsage {
		b, _ := json.Marshal(map[string]any{
			"id":                 id,
			"object":             "chat.completion.chunk",
			"created":            created,
			"model":              req.Model,
			"system_fingerprint": "fp_openaitest",
			"choices":            []any{},
			"usage":              u,
		})
		send(string(b))
	}
	send("[DONE]")
}
