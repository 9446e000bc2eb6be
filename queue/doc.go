// Package queue runs ingestion on a durable job queue: River
// (github.com/riverqueue/river) on the caller's Postgres, so that the
// documents of a corpus survive restarts, several replicas share the work,
// and any replica can tell what happened to each document.
//
//	err := queue.Migrate(ctx, pool)                  // once per database, any replica
//	q, err := queue.New(pool, queue.Options{Ingester: pipeline.Stream(ctx)})
//	err = q.Start(ctx)                               // work jobs until Stop
//	_, err = q.Enqueue(ctx, queue.Item{Document: doc}) // or EnqueueTx in the caller's transaction
//	st, err := q.Status(ctx, doc.ID)                   // from any replica
//
// One job is one document, given inline (up to Options.MaxInlineBytes of
// content) or as a reference (a path under Options.FS, read and parsed by
// a loader when the job runs). A job is unique by its document's ID and
// content hash while it waits or runs, so enqueueing the same content
// again is a no-op; once it has finished, enqueueing it again makes a job
// that finds the document Unchanged. Deletion jobs delete documents.
//
// Delivery is at least once, the effect exactly once: a job completes
// only when its document's write has committed; a worker killed in the
// middle leaves its job to River's rescuer, and the next delivery finds
// either nothing written (and writes the whole document) or the whole
// document written (Unchanged), because the pipeline writes a document in
// one step and skips content it already holds. Jobs of one document ID
// are applied one at a time and in the order they were enqueued: a job
// superseded by a later one for the same ID completes without effect.
//
// The jobs one process holds all feed the one Ingester (a
// rag.IngestStream), so embedding requests still pack the chunks of many
// documents. Budget keeps the embedding requests of every replica within
// one provider rate limit, in a Postgres row.
//
// The package does not import package rag: it talks to the pipeline
// through the Ingester interface, which *rag.IngestStream implements.
package queue
