package openaitest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/openaitest"
)

// sseEvents returns the data of each server-sent event of body.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				t.Fatalf("line %q is not a data event", line)
			}
			events = append(events, data)
		}
	}
	return events
}

var streamBody = map[string]any{
	"model": "m", "stream": true, "stream_options": map[string]any{"include_usage": true},
	"messages": []any{map[string]any{"role": "user", "content": "hi"}},
}

// An in-band fault streams the deltas asked for, then one error event,
// and ends without [DONE]; the HTTP status stays 200.
func TestInBandStreamError(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{
		ChatReplies: []string{"a b c"},
		Fault: func(openaitest.Request) *openaitest.Fault {
			return &openaitest.Fault{InBand: true, InBandAfter: 2, Status: 429, Code: "rate_limit_exceeded", Message: "slow down"}
		},
	})
	defer srv.Close()
	status, _, body := post(t, srv, "/chat/completions", streamBody)
	events := sseEvents(t, body)
	// role, "a ", "b ", error
	if status != 200 || len(events) != 4 || !strings.Contains(events[2], `"b "`) {
		t.Fatalf("status %d events %q", status, events)
	}
	var e struct {
		Error struct {
			Message, Type string
			Code          *string
			Status        int
		}
	}
	if err := json.Unmarshal([]byte(events[3]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Error.Message != "slow down" || e.Error.Type != "requests" || e.Error.Code == nil || *e.Error.Code != "rate_limit_exceeded" || e.Error.Status != 429 {
		t.Fatalf("error event %q", events[3])
	}
	if r := srv.Requests()[0]; r.Status != 200 || r.Fault != "scripted" {
		t.Fatalf("record %+v", r)
	}

	// Outside a stream, the error body comes with a 200.
	status, _, body = post(t, srv, "/embeddings", map[string]any{"model": "m", "input": "x"})
	if status != 200 || !strings.Contains(string(body), `"error":`) || !strings.Contains(string(body), "slow down") {
		t.Fatalf("status %d body %s", status, body)
	}
}

// NoFinishReason and NoUsageChunk: the stream ends with [DONE], without a
// finish reason and without the usage chunk it was asked for.
func TestStreamWithoutFinishReasonOrUsage(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"a b", "c"}, NoFinishReason: true, NoUsageChunk: true})
	defer srv.Close()
	_, _, body := post(t, srv, "/chat/completions", streamBody)
	events := sseEvents(t, body)
	// role, "a ", "b", the empty final delta, [DONE]
	if len(events) != 5 || events[4] != "[DONE]" {
		t.Fatalf("events %q", events)
	}
	for _, e := range events[:4] {
		if strings.Contains(e, `"usage"`) || strings.Contains(e, `"stop"`) {
			t.Fatalf("event %q has a usage or a finish reason", e)
		}
	}
	_, _, body = post(t, srv, "/chat/completions", map[string]any{"model": "m", "messages": streamBody["messages"]})
	if !strings.Contains(string(body), `"finish_reason":null`) {
		t.Fatalf("body %s", body)
	}
}

// FloatOnly answers floats to a base64 request.
func TestFloatOnly(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{FloatOnly: true, Dimensions: 4})
	defer srv.Close()
	_, _, body := post(t, srv, "/embeddings", map[string]any{"model": "m", "input": []string{"x", "y"}, "encoding_format": "base64"})
	var resp struct {
		Data []struct {
			Embedding []float32
		}
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Data) != 2 || len(resp.Data[0].Embedding) != 4 {
		t.Fatalf("%v: %s", err, body)
	}
	if r := srv.Requests()[0]; r.Encoding != "base64" {
		t.Fatalf("encoding %q", r.Encoding)
	}
}
