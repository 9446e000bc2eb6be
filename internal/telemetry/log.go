package telemetry

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/ragkit-go/rag/provider"
)

// Keys of the pipeline's log records; stable, so that logs can be
// queried by them.
const (
	KeyOp      = "op"      // "embeddings", "chat", ...
	KeyAttempt = "attempt" // the attempt that failed, from 1
	KeyWait    = "wait"    // the pause before the next attempt
	KeyStatus  = "status"  // the provider's HTTP status, 0 for none
	KeyCode    = "code"    // the provider's error code
	KeyErr     = "err"
	KeyDoc     = "doc"    // a document's ID
	KeyChunks  = "chunks" // a document's chunks
)

// LogRetry logs, once, a failed attempt that will be made again: a rate
// limit (429) at Info, since it is the provider's normal pacing and the
// pipeline pauses for it, any other failure at Warn. Errors are logged
// by their message, which carries no credential: provider errors hold
// the provider's message, never the request's headers.
func LogRetry(l *slog.Logger, op string, attempt int, wait time.Duration, err error) {
	if l == nil {
		return
	}
	status, code := 0, ""
	var pe *provider.Error
	if errors.As(err, &pe) {
		status, code = pe.StatusCode, pe.Code
	}
	attrs := []any{KeyOp, op, KeyAttempt, attempt + 1, KeyWait, wait, KeyStatus, status, KeyCode, code, KeyErr, err}
	if status == http.StatusTooManyRequests {
		l.Info("rag: rate limited; pausing before retrying", attrs...)
		return
	}
	l.Warn("rag: request failed; retrying", attrs...)
}
