package rag

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/internal/ingest"
	"github.com/ragkit-go/rag/internal/telemetry"
)

// IngestStream is a long-lived ingestion that documents from many sources
// (the jobs a queue worker holds, say) are submitted to one at a time,
// while their chunks still share embedding requests, the rate budget and
// the store's writes, as the documents of one Ingest call do.
//
// Submit, Delete and Close may be called from any number of goroutines at
// once.
type IngestStream struct {
	sc  *scope
	ctx context.Context
	s   *ingest.Stream
}

// Stream starts an IngestStream. Cancelling ctx stops it: requests in
// flight are abandoned and the documents not yet written fail with ctx's
// cause. Close must be called to release it.
func (p *Pipeline) Stream(ctx context.Context) *IngestStream { return p.own.stream(ctx) }

// Stream is Pipeline.Stream into the tenant's documents.
func (t *Tenant) Stream(ctx context.Context) *IngestStream { return t.sc.stream(ctx) }

func (sc *scope) stream(ctx context.Context) *IngestStream {
	return &IngestStream{sc: sc, ctx: ctx, s: ingest.Start(ctx, sc.engine)}
}

// Submit queues d; done is called once with its outcome (Err is a
// *DocumentError when it failed) after its write has committed or it has
// failed, from one of the stream's goroutines (several may call their
// functions at once; done must not block for long). If Submit returns an
// error, d was not queued and done is not called. A d without an ID gets
// document.ID of its content. Versions of one ID submitted one after the
// other are written in that order. Submit blocks while the stream is full;
// it fails with ctx's error, the stream's cause once it is stopped, or an
// error after Close.
func (s *IngestStream) Submit(ctx context.Context, d Document, done func(DocumentResult)) error {
	err := s.s.Submit(ctx, d, func(r ingest.Result) {
		res := document.Result{ID: r.ID, Status: r.Status, Chunks: r.Chunks}
		if r.Err != nil {
			res.Err = &DocumentError{DocID: r.ID, Err: r.Err}
			level := slog.LevelWarn
			if s.ctx.Err() != nil {
				level = slog.LevelDebug // the stream was stopped: not the document's fault
			}
			s.sc.p.logger.Log(s.ctx, level, "rag: document failed", telemetry.KeyDoc, r.ID, telemetry.KeyChunks, r.Chunks, telemetry.KeyErr, r.Err)
		}
		done(res)
	})
	if err != nil {
		return fmt.Errorf("rag: stream: %w", err)
	}
	return nil
}

// Delete removes the named documents, as Pipeline.Delete does. It does not
// wait for documents of those IDs submitted before and not yet written:
// the caller orders the two when it matters.
func (s *IngestStream) Delete(ctx context.Context, docIDs ...string) error {
	return s.sc.Delete(ctx, docIDs...)
}

// Close stops taking documents, waits until every submitted one has been
// written or has failed (those cut short by a stopped stream fail with its
// cause), and returns the errors that were not any one document's. It may
// be called more than once.
func (s *IngestStream) Close() error {
	if _, err := s.s.Close(); err != nil {
		return fmt.Errorf("rag: stream: %w", err)
	}
	return nil
}
