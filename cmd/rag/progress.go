package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ragkit-go/rag"
)

// progressBar draws a Sync's progress on stderr: one line redrawn in place
// on a terminal, else a plain line every few seconds (for logs).
type progressBar struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	width int // of the line drawn last, on a terminal
}

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w, tty: isTerminal(w), every: 5 * time.Second}
	if b.tty {
		b.every = 100 * time.Millisecond
	}
	return b
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// update draws p if enough time has passed since the last draw.
func (b *progressBar) update(p rag.SyncProgress) {
	if now := time.Now(); now.Sub(b.last) >= b.every {
		b.last = now
		b.draw(p)
	}
}

// done ends the bar with p.
func (b *progressBar) done(p rag.SyncProgress) {
	b.draw(p)
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

func (b *progressBar) draw(p rag.SyncProgress) {
	line := progressLine(p)
	if !b.tty {
		fmt.Fprintln(b.w, line)
		return
	}
	pad := max(0, b.width-len(line))
	b.width = len(line)
	fmt.Fprintf(b.w, "\r%s%*s", line, pad, "")
}

// progressLine describes p: files, chunks, tokens, requests, rate, ETA.
func progressLine(p rag.SyncProgress) string {
	files := "walking"
	if p.Files > 0 || p.Settled > 0 {
		files = fmt.Sprintf("files %d/%d", p.Settled, p.Files)
	}
	s := fmt.Sprintf("%s (%d unchanged, %d failed)  chunks %d  tokens %s  requests %d", files, p.Unchanged, p.Failed, p.Ingest.Chunks, count(p.Ingest.Tokens), p.Ingest.Requests)
	secs := p.Elapsed.Seconds()
	if secs > 0 {
		s += fmt.Sprintf("  %.0f files/s %.1f MB/s", float64(p.Settled)/secs, float64(p.SettledBytes)/1e6/secs)
	}
	if left := p.BytesToParse - p.SettledBytes; left > 0 && p.SettledBytes > 0 {
		eta := time.Duration(float64(p.Elapsed) * float64(left) / float64(p.SettledBytes))
		s += "  ETA " + eta.Round(time.Second).String()
	}
	return s
}

// count writes n with a k or M suffix.
func count(n int) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%.0fM", float64(n)/1e6)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
