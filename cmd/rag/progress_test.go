package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
)

func TestProgressLine(t *testing.T) {
	p := rag.SyncProgress{Files: 10, ToParse: 8, BytesToParse: 8e6, Settled: 5, SettledBytes: 2e6, Unchanged: 2, Failed: 1, Elapsed: 10 * time.Second,
		Ingest: rag.Progress{Chunks: 120, Tokens: 34_567, Requests: 7}}
	line := progressLine(p)
	for _, want := range []string{"files 5/10", "2 unchanged, 1 failed", "chunks 120", "tokens 35k", "requests 7", "0 files/s 0.2 MB/s", "ETA 30s"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	if line := progressLine(rag.SyncProgress{}); !strings.HasPrefix(line, "walking") || strings.Contains(line, "ETA") {
		t.Errorf("before the walk: %q", line)
	}
}

// On a terminal the bar redraws one line, padding over a longer one.
func TestProgressBarRedraws(t *testing.T) {
	var buf bytes.Buffer
	b := &progressBar{w: &buf, tty: true}
	b.draw(rag.SyncProgress{Files: 100, Settled: 10, Elapsed: time.Second, Ingest: rag.Progress{Tokens: 2_000_000}})
	b.done(rag.SyncProgress{Files: 100, Settled: 100, Elapsed: time.Second})
	out := buf.String()
	lines := strings.Split(out, "\r")
	if len(lines) != 3 || !strings.HasSuffix(out, "\n") || len(strings.TrimSuffix(lines[2], "\n")) < len(lines[1]) {
		t.Errorf("redraws %q", out)
	}
}
