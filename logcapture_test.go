package rag_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// captureHandler keeps every log line of a pipeline, formatted as text,
// debug level included.
type captureHandler struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *captureHandler) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *captureHandler) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (c *captureHandler) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// count returns how many lines hold s.
func (c *captureHandler) count(s string) int { return strings.Count(c.String(), s) }
