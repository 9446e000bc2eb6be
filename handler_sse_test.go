package rag_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/provider"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	Name string // "message" when the event names none
	Data string
}

// sseReader parses an event stream as the HTML standard defines it:
// lines end with LF, CR or CRLF; a blank line dispatches the event;
// lines starting with ':' are comments; "field: value" loses one space
// after the colon; several data lines join with LF; an event without
// data is not dispatched.
type sseReader struct {
	r *bufio.Reader
}

func (s *sseReader) line() (string, error) {
	var b strings.Builder
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF && b.Len() > 0 {
				return b.String(), nil
			}
			return "", err
		}
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			if next, err := s.r.Peek(1); err == nil && next[0] == '\n' {
				s.r.ReadByte()
			}
			return b.String(), nil
		}
		b.WriteByte(c)
	}
}

// next returns the next event, or io.EOF at the end of the stream.
func (s *sseReader) next() (sseEvent, error) {
	var (
		name string
		data []string
	)
	for {
		line, err := s.line()
		if err != nil {
			return sseEvent{}, err
		}
		if line == "" {
			if data == nil {
				name = ""
				continue
			}
			if name == "" {
				name = "message"
			}
			return sseEvent{Name: name, Data: strings.Join(data, "\n")}, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "data":
			data = append(data, value)
		}
	}
}

func TestSSEReader(t *testing.T) {
	in := ": comment\r\nevent: a\r\ndata: one\r\ndata:two\r\n\r\nevent: empty\n\ndata: {}\r\rid: 3\nevent: c\ndata: last"
	var got []sseEvent
	r := &sseReader{r: bufio.NewReader(strings.NewReader(in))}
	for {
		ev, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	// The last event is not dispatched: the stream ended before its blank line.
	want := []sseEvent{{"a", "one\ntwo"}, {"message", "{}"}}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// postAnswerSSE posts a question accepting an event stream.
func postAnswerSSE(ctx context.Context, t *testing.T, url string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/answer", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json;q=0.5, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readEvents reads every event of a stream.
func readEvents(t *testing.T, resp *http.Response) []sseEvent {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, Content-Type %q, want an event stream; body %s", resp.StatusCode, ct, b)
	}
	r := &sseReader{r: bufio.NewReader(resp.Body)}
	var evs []sseEvent
	for {
		ev, err := r.next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
}

func TestHandlerAnswerStream(t *testing.T) {
	m := &llmtest.Model{Reply: func(llm.Request) string { return answerReply }}
	env := newHandlerEnv(t, nil, m, nil)
	ingestTwo(t, env)
	want, err := env.p.Answer(context.Background(), "How do goroutines communicate?", nil)
	if err != nil {
		t.Fatal(err)
	}

	evs := readEvents(t, postAnswerSSE(context.Background(), t, env.srv.URL, `{"question": "How do goroutines communicate?"}`))
	var (
		text  strings.Builder
		cited []int
		names []string
	)
	for _, ev := range evs {
		if len(names) == 0 || names[len(names)-1] != ev.Name {
			names = append(names, ev.Name)
		}
		if ev.Name == "delta" {
			var d struct {
				Text  string `json:"text"`
				Cited []int  `json:"cited"`
			}
			decode(t, []byte(ev.Data), &d)
			text.WriteString(d.Text)
			cited = append(cited, d.Cited...)
		}
	}
	if !slices.Equal(names, []string{"delta", "citations", "done"}) {
		t.Fatalf("event sequence %q, want delta..., citations, done", names)
	}
	if n := strings.Count(strings.Join(eventNames(evs), " "), "delta"); n < 2 {
		t.Fatalf("%d delta events: the answer did not stream", n)
	}
	if text.String() != want.Text {
		t.Fatalf("streamed text %q, want the pipeline's %q", text.String(), want.Text)
	}
	if !slices.Equal(cited, []int{1}) {
		t.Fatalf("deltas cited %v, want [1]", cited)
	}
	var c struct {
		Citations []struct {
			N     int    `json:"n"`
			DocID string `json:"doc_id"`
		} `json:"citations"`
	}
	decode(t, []byte(evs[len(evs)-2].Data), &c)
	if len(c.Citations) != 1 || c.Citations[0].N != 1 || c.Citations[0].DocID != want.Citations[0].DocID {
		t.Fatalf("citations event %s, want the pipeline's %+v", evs[len(evs)-2].Data, want.Citations)
	}
	var done answerBody
	decode(t, []byte(evs[len(evs)-1].Data), &done)
	if done.Text != "" || done.Citations != nil || done.Question != want.Question || done.FinishReason != "stop" || !slices.Equal(done.InvalidCitations, []int{9}) {
		t.Fatalf("done event %s", evs[len(evs)-1].Data)
	}
}

func eventNames(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Name
	}
	return out
}

func TestHandlerAnswerStreamErrors(t *testing.T) {
	t.Run("before the first event: a problem response", func(t *testing.T) {
		env := newHandlerEnv(t, nil, nil, nil)
		resp := postAnswerSSE(context.Background(), t, env.srv.URL, `{"question": " "}`)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantProblem(t, resp, body, 422, rag.ProblemEmptyQuery)
	})
	t.Run("the model fails at once: a problem response", func(t *testing.T) {
		m := &llmtest.Model{Fault: func(int, llm.Request) error {
			return &provider.Error{Provider: "openai", StatusCode: 400, Message: "secret internal detail"}
		}}
		env := newHandlerEnv(t, nil, m, nil)
		ingestTwo(t, env)
		resp := postAnswerSSE(context.Background(), t, env.srv.URL, `{"question": "goroutines?"}`)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pb := wantProblem(t, resp, body, 502, rag.ProblemProviderError)
		if strings.Contains(pb.Detail, "secret") {
			t.Fatalf("a 5xx problem shows its cause: %q", pb.Detail)
		}
	})
	t.Run("mid-stream: an error event, last", func(t *testing.T) {
		m := &llmtest.Model{Reply: func(llm.Request) string { return answerReply }, FailAfter: 3}
		env := newHandlerEnv(t, nil, m, nil)
		ingestTwo(t, env)
		evs := readEvents(t, postAnswerSSE(context.Background(), t, env.srv.URL, `{"question": "goroutines?"}`))
		names := eventNames(evs)
		if len(evs) < 2 || names[len(names)-1] != "error" || slices.Contains(names, "done") || slices.Contains(names, "citations") || names[0] != "delta" {
			t.Fatalf("events %q, want deltas then one error", names)
		}
		var pb problemBody
		decode(t, []byte(evs[len(evs)-1].Data), &pb)
		if pb.Code != string(rag.ProblemProviderUnavailable) || pb.Status != 503 || pb.Type == "" {
			t.Fatalf("error event %s, want a provider_unavailable problem", evs[len(evs)-1].Data)
		}
	})
}

// TestHandlerAnswerStreamClientGone: a client that goes away mid-stream
// cancels the model call, and the handler returns with no call left
// running.
func TestHandlerAnswerStreamClientGone(t *testing.T) {
	modelCancelled := make(chan error, 1)
	m := &llmtest.Model{
		Reply: func(llm.Request) string { return answerReply },
		BeforeChunk: func(ctx context.Context, i int) error {
			if i == 0 {
				return nil
			}
			<-ctx.Done() // hold the stream open until the call is cancelled
			modelCancelled <- ctx.Err()
			return ctx.Err()
		},
	}
	env := newPipelineEnv(t, nil, m)
	h := rag.NewHandler(env.p, nil)
	returned := make(chan struct{}, 8)
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }()
		h.ServeHTTP(w, r)
	}))
	defer env.srv.Close()
	ingestTwo(t, env)
	<-returned

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := postAnswerSSE(ctx, t, env.srv.URL, `{"question": "How do goroutines communicate?"}`)
	r := &sseReader{r: bufio.NewReader(resp.Body)}
	ev, err := r.next()
	if err != nil || ev.Name != "delta" {
		t.Fatalf("first event %+v, %v; want a delta", ev, err)
	}
	cancel() // the client goes away
	resp.Body.Close()

	select {
	case err := <-modelCancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the model's context ended with %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute): // a failure guard, not synchronisation
		t.Fatal("the model call was not cancelled when the client went away")
	}
	<-returned
	if n := m.Active(); n != 0 {
		t.Fatalf("%d model calls still running after the handler returned", n)
	}
	if m.Calls() != 1 {
		t.Fatalf("%d model calls, want 1", m.Calls())
	}
}
