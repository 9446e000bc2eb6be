// Command failfast measures how long the pipeline takes, with default
// options, to report that nothing listens where its clients were told to
// go: an Ingest (embedding) and an Answer (chat) against a closed port on
// the loopback and against a host name that does not resolve. It prints
// a Markdown table of wall time and requests made.
//
//	go run ./bench/failfast
package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
)

type counting struct{ n atomic.Int64 }

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// warnings counts the warnings logged.
type warnings struct{ n atomic.Int64 }

func (w *warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		w.n.Add(1)
	}
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/v1"
	l.Close()
	fmt.Println("| call | server | seconds | requests | warnings | error |")
	fmt.Println("|---|---|---:|---:|---:|---|")
	for _, srv := range []struct{ name, base string }{{"closed port", refused}, {"nonexistent.invalid", "http://nonexistent.invalid/v1"}} {
		ingest(srv.name, srv.base)
		answer(srv.name, srv.base)
	}
}

func row(call, server string, d time.Duration, requests, warns int64, err error) {
	msg := "none"
	if err != nil {
		msg = strings.ReplaceAll(err.Error(), "|", "/")
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
	}
	fmt.Printf("| %s | %s | %.2f | %d | %d | %s |\n", call, server, d.Seconds(), requests, warns, msg)
}

func ingest(name, base string) {
	c := &counting{}
	w := &warnings{}
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: base, HTTPClient: &http.Client{Transport: c}}})
	p, err := rag.New(rag.Options{Embedder: e, Logger: slog.New(w)})
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	_, err = p.Ingest(context.Background(), rag.Document{ID: "a", Content: "The sky is blue."})
	row("Ingest", name, time.Since(start), c.n.Load(), w.n.Load(), err)
}

func answer(name, base string) {
	c := &counting{}
	w := &warnings{}
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: base, HTTPClient: &http.Client{Transport: c}}})
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: m, Logger: slog.New(w)})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := p.Ingest(context.Background(), rag.Document{ID: "a", Content: "The sky is blue."}); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	_, err = p.Answer(context.Background(), "What colour is the sky?", nil)
	row("Answer", name, time.Since(start), c.n.Load(), w.n.Load(), err)
}
