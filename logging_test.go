package rag_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store/chromem"
)

// recorder is a slog.Handler that keeps every record, at every level.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// logLine is a record as level, message and its attributes.
type logLine struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r *recorder) lines() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logLine
	for _, rec := range r.records {
		l := logLine{level: rec.Level, msg: rec.Message, attrs: map[string]string{}}
		rec.Attrs(func(a slog.Attr) bool {
			l.attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, l)
	}
	return out
}

const secretKey = "sk-test-secret-0123456789"

// Each retry, rate-limit pause, failed document and abandoned request is
// logged once, with stable keys, at its level; nothing per chunk at Info;
// the API key never.
func TestLogging(t *testing.T) {
	var embeds, chats atomic.Int64
	arrived := make(chan struct{}, 1)
	var hang atomic.Bool
	srv := openaitest.NewServer(openaitest.Options{APIKey: secretKey, ChatReplies: []string{"Tides [1]."},
		Fault: func(r openaitest.Request) *openaitest.Fault {
			if r.Chat != nil {
				if chats.Add(1) == 1 {
					return &openaitest.Fault{InBand: true, Type: "server_error", Message: "in-band failure"}
				}
				return nil
			}
			if hang.Load() {
				arrived <- struct{}{}
				return &openaitest.Fault{Hang: true}
			}
			switch embeds.Add(1) {
			case 1:
				return &openaitest.Fault{Status: 500}
			case 2:
				return &openaitest.Fault{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 5 * time.Millisecond}
			}
			return nil
		}})
	t.Cleanup(srv.Close)
	cfg := provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: secretKey, HTTPClient: srv.Client()}
	rec := &recorder{}
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := rag.Options{
		Embedder: embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: cfg, Dimensions: 32}),
		Model:    llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: cfg}),
		Store:    s, Chunker: byParagraph, Logger: slog.New(rec),
	}
	o.Ingest.Retry.MinBackoff, o.Ingest.Retry.MaxBackoff = time.Millisecond, 2*time.Millisecond
	o.ModelRetry.MinBackoff, o.ModelRetry.MaxBackoff = time.Millisecond, 2*time.Millisecond
	p, err := rag.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	docs := append(answerDocs[:len(answerDocs):len(answerDocs)], rag.Document{ID: "empty", Content: " "})
	if _, err := p.Ingest(ctx, docs...); err == nil {
		t.Fatal("the empty document was accepted")
	}
	if _, err := p.Answer(ctx, "What causes the tides?", nil); err != nil {
		t.Fatal(err)
	}

	// A streamed answer its reader leaves early.
	for range p.AnswerStream(ctx, "What causes the tides, again?", nil) {
		break
	}

	// An ingestion cancelled while its request hangs.
	hang.Store(true)
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		<-arrived
		cancel()
	}()
	if _, err := p.Ingest(cctx, rag.Document{ID: "late", Content: "Late document."}); err == nil {
		t.Fatal("the cancelled ingestion succeeded")
	}

	type want struct {
		level slog.Level
		msg   string
		attrs map[string]string
	}
	wants := []want{
		{slog.LevelWarn, "rag: request failed; retrying", map[string]string{"op": "embeddings", "attempt": "1", "status": "500", "code": "server_error"}},
		{slog.LevelInfo, "rag: rate limited; pausing before retrying", map[string]string{"op": "embeddings", "attempt": "2", "status": "429", "code": "rate_limit_exceeded"}},
		{slog.LevelWarn, "rag: document failed", map[string]string{"doc": "empty", "chunks": "0"}},
		{slog.LevelWarn, "rag: request failed; retrying", map[string]string{"op": "chat", "attempt": "1", "status": "500", "code": "server_error"}},
		{slog.LevelDebug, "rag: chat stream abandoned by its reader", map[string]string{"op": "chat"}},
		{slog.LevelDebug, "rag: embedding request abandoned", map[string]string{"op": "embeddings", "err": "context canceled"}},
		{slog.LevelDebug, "rag: document failed", map[string]string{"doc": "late"}},
	}
	lines := rec.lines()
	for _, l := range lines {
		for k, v := range l.attrs {
			if strings.Contains(v, secretKey) || strings.Contains(v, secretKey[len(secretKey)-8:]) {
				t.Errorf("%q logs the API key in %s", l.msg, k)
			}
		}
	}
	matched := make([]int, len(wants))
	for _, l := range lines {
		ok := false
		for i, w := range wants {
			if l.level != w.level || l.msg != w.msg {
				continue
			}
			all := true
			for k, v := range w.attrs {
				if l.attrs[k] != v {
					all = false
				}
			}
			if all {
				matched[i]++
				ok = true
				break
			}
		}
		if !ok && l.level >= slog.LevelInfo {
			t.Errorf("unexpected record at %v: %q %v", l.level, l.msg, l.attrs)
		}
	}
	for i, n := range matched {
		if n != 1 {
			t.Errorf("%q %v logged %d times, want once", wants[i].msg, wants[i].attrs, n)
		}
	}
	for _, l := range lines {
		if l.msg == "rag: rate limited; pausing before retrying" {
			if d, err := time.ParseDuration(l.attrs["wait"]); err != nil || d < 5*time.Millisecond {
				t.Errorf("rate-limit pause %s, want at least the 5ms asked", l.attrs["wait"])
			}
		}
	}
}
