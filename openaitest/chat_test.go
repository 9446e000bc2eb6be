package openaitest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/tokenizer"
)

func chatReq(msgs ...string) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: openai.GPT4oMini}
	for i, m := range msgs {
		role := openai.ChatMessageRoleUser
		if i == 0 && len(msgs) > 1 {
			role = openai.ChatMessageRoleSystem
		}
		req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: role, Content: m})
	}
	return req
}

func TestChatCompletion(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"first reply", "second reply"}})
	defer srv.Close()
	c := client(srv, "k")
	ctx := context.Background()
	for _, want := range []string{"first reply", "second reply", "echo: what is RAG?"} {
		resp, err := c.CreateChatCompletion(ctx, chatReq("You are terse.", "what is RAG?"))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) != 1 {
			t.Fatalf("%d choices", len(resp.Choices))
		}
		ch := resp.Choices[0]
		if ch.Message.Content != want || ch.Message.Role != "assistant" || ch.FinishReason != openai.FinishReasonStop {
			t.Errorf("choice %+v, want assistant %q stop", ch, want)
		}
		if resp.Object != "chat.completion" || resp.Model != openai.GPT4oMini || !strings.HasPrefix(resp.ID, "chatcmpl-") {
			t.Errorf("response %+v", resp)
		}
		if got := tokenizer.CL100K().Count(want); resp.Usage.CompletionTokens != got ||
			resp.Usage.TotalTokens != resp.Usage.PromptTokens+got || resp.Usage.PromptTokens <= 0 {
			t.Errorf("usage %+v, want %d completion tokens", resp.Usage, got)
		}
	}
	if st := srv.Stats(); st.ChatRequests != 3 || st.EmbedRequests != 0 || st.Status[200] != 3 {
		t.Errorf("stats %+v", st)
	}
	r := srv.Requests()[0]
	if r.Chat == nil || len(r.Chat.Messages) != 2 || r.Chat.Messages[0].Role != "system" || r.Chat.LastUserMessage() != "what is RAG?" {
		t.Errorf("recorded chat request %+v", r.Chat)
	}
}

func TestChatReplyFunc(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ChatReply: func(r openaitest.ChatRequest) string {
		return strings.ToUpper(r.LastUserMessage()) + " from " + r.Model
	}})
	defer srv.Close()
	resp, err := client(srv, "k").CreateChatCompletion(context.Background(), chatReq("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "HELLO from "+openai.GPT4oMini {
		t.Errorf("reply %q", got)
	}
}

func TestChatMultiContent(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	req := openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{
		Role: "user",
		MultiContent: []openai.ChatMessagePart{
			{Type: openai.ChatMessagePartTypeText, Text: "part one"},
			{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "https://x/y.png"}},
			{Type: openai.ChatMessagePartTypeText, Text: "part two"},
		},
	}}}
	resp, err := client(srv, "k").CreateChatCompletion(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "echo: part one\npart two" {
		t.Errorf("reply %q", got)
	}
}

func TestChatStream(t *testing.T) {
	const reply = "Retrieval augmented generation grounds answers in documents."
	srv := openaitest.NewServer(openaitest.Options{ChatReply: func(openaitest.ChatRequest) string { return reply }})
	defer srv.Close()
	for _, includeUsage := range []bool{false, true} {
		req := chatReq("what is RAG?")
		req.Stream = true
		if includeUsage {
			req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
		}
		stream, err := client(srv, "k").CreateChatCompletionStream(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var (
			content strings.Builder
			deltas  int
			roles   []string
			finish  []openai.FinishReason
			usage   *openai.Usage
		)
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if chunk.Object != "chat.completion.chunk" {
				t.Errorf("chunk object %q", chunk.Object)
			}
			if chunk.Usage != nil {
				if len(chunk.Choices) != 0 {
					t.Error("usage chunk with choices")
				}
				usage = chunk.Usage
			}
			for _, ch := range chunk.Choices {
				if ch.Delta.Role != "" {
					roles = append(roles, ch.Delta.Role)
				}
				if ch.Delta.Content != "" {
					deltas++
					content.WriteString(ch.Delta.Content)
				}
				if ch.FinishReason != "" {
					finish = append(finish, ch.FinishReason)
				}
			}
		}
		stream.Close()
		if content.String() != reply || deltas < 3 {
			t.Errorf("streamed %q in %d deltas, want %q in several", content.String(), deltas, reply)
		}
		if len(roles) != 1 || roles[0] != "assistant" {
			t.Errorf("roles %v, want one assistant", roles)
		}
		if len(finish) != 1 || finish[0] != openai.FinishReasonStop {
			t.Errorf("finish reasons %v, want one stop", finish)
		}
		if includeUsage != (usage != nil) {
			t.Errorf("include_usage %v, usage chunk %v", includeUsage, usage)
		}
		if usage != nil && (usage.CompletionTokens != tokenizer.CL100K().Count(reply) || usage.TotalTokens != usage.PromptTokens+usage.CompletionTokens) {
			t.Errorf("usage %+v", usage)
		}
	}
}

// TestChatStreamWire reads the raw server-sent events.
func TestChatStreamWire(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"a b c"}})
	defer srv.Close()
	status, h, body := post(t, srv, "/chat/completions", map[string]any{
		"model": "m", "stream": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []any{map[string]any{"role": "user", "content": "hi"}},
	})
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d content type %q", status, h.Get("Content-Type"))
	}
	var events []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is not a data event", line)
		}
		events = append(events, data)
	}
	// role, "a ", "b ", "c", finish, usage, [DONE]
	if len(events) != 7 || events[6] != "[DONE]" {
		t.Fatalf("events %q", events)
	}
	var chunks []map[string]any
	for _, e := range events[:6] {
		var c map[string]any
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("event %q: %v", e, err)
		}
		if _, ok := c["usage"]; !ok {
			t.Errorf("with include_usage every chunk has a usage field: %q", e)
		}
		chunks = append(chunks, c)
	}
	delta := func(i int) map[string]any {
		return chunks[i]["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
	}
	if delta(0)["role"] != "assistant" || delta(1)["content"] != "a " || delta(3)["content"] != "c" {
		t.Errorf("deltas %v %v %v", delta(0), delta(1), delta(3))
	}
	if chunks[4]["choices"].([]any)[0].(map[string]any)["finish_reason"] != "stop" || chunks[3]["choices"].([]any)[0].(map[string]any)["finish_reason"] != nil {
		t.Errorf("finish reasons: %v", events[3:5])
	}
	if chunks[5]["usage"] == nil || len(chunks[5]["choices"].([]any)) != 0 || chunks[4]["usage"] != nil {
		t.Errorf("usage chunk %q", events[5])
	}
}

func TestChatStreamFailsMidway(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{StreamFailAfter: 2, ChatReplies: []string{"one two three four"}})
	defer srv.Close()
	req := chatReq("hi")
	req.Stream = true
	stream, err := client(srv, "k").CreateChatCompletionStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var content strings.Builder
	for {
		chunk, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				t.Fatal("the broken stream ended as a complete one")
			}
			break
		}
		for _, ch := range chunk.Choices {
			content.WriteString(ch.Delta.Content)
			if ch.FinishReason != "" {
				t.Fatalf("finish reason %q on a broken stream", ch.FinishReason)
			}
		}
	}
	if content.String() != "one two " {
		t.Errorf("received %q before the break, want the first two deltas", content.String())
	}
	srv.Close()
	if r := srv.Requests()[0]; r.Fault != "stream_break" || r.Status != 200 {
		t.Errorf("record %+v", r)
	}
}

func TestChatErrors(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{APIKey: "k", Models: []string{"gpt"}})
	defer srv.Close()
	status, _, body := post(t, srv, "/chat/completions", map[string]any{"model": "gpt", "messages": []any{}}, "Authorization", "Bearer k")
	checkError(t, status, body, 400, "invalid_request_error", "empty_array")
	status, _, body = post(t, srv, "/chat/completions", map[string]any{"model": "other", "messages": []any{map[string]any{"role": "user", "content": "x"}}}, "Authorization", "Bearer k")
	checkError(t, status, body, 404, "invalid_request_error", "model_not_found")
	status, _, body = post(t, srv, "/chat/completions", map[string]any{"messages": []any{map[string]any{"role": "user", "content": "x"}}}, "Authorization", "Bearer k")
	checkError(t, status, body, 400, "invalid_request_error", "")
	status, _, body = post(t, srv, "/chat/completions", map[string]any{"model": "gpt", "messages": []any{map[string]any{"role": "user", "content": "x"}}})
	checkError(t, status, body, 401, "invalid_request_error", "invalid_api_key")

	// A streamed request refused before it starts gets a JSON error, as
	// from the real API.
	req := chatReq("x")
	req.Model, req.Stream = "gpt", true
	_, err := client(srv, "wrong").CreateChatCompletionStream(context.Background(), req)
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 {
		t.Errorf("stream with a wrong key: %v", err)
	}
}
