package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/llm"
)

// serve serves the store over HTTP with rag.NewHandler until ctx is done,
// then shuts down, letting requests in flight finish for a few seconds.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]", stderr)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	model := fs.String("model", "", "chat model for /answer (env CHAT_MODEL); without OPENAI_API_KEY or OPENAI_BASE_URL, /answer answers 501")
	tenantHeader := fs.String("tenant-header", "", "serve one tenant per value of this request header (e.g. X-Tenant); trust it only behind a proxy that authenticates")
	words, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(words) != 0 {
		fs.Usage()
		return errUsage
	}
	var m llm.Model
	switch m, err = chatModel(*model); {
	case errors.Is(err, errNoModel):
		fmt.Fprintln(stderr, "rag: no chat model (set OPENAI_API_KEY, or OPENAI_BASE_URL and --model): /answer answers 501")
	case err != nil:
		return err
	}
	st, err := openStore(&sf, true, rag.Options{Model: m}, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ho := &rag.HandlerOptions{Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	if h := *tenantHeader; h != "" {
		ho.Tenant = func(r *http.Request) (string, error) { return r.Header.Get(h), nil }
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rag.NewHandler(st.p, ho), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "rag: serving %s on http://%s (OpenAPI at /openapi.json)\n", sf.dir, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-errc
	return err
}
