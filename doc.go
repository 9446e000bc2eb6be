// Package rag runs retrieval-augmented generation pipelines inside a Go
// process: ingest documents (chunk, embed, store) concurrently and safely,
// search them (vector, BM25 or hybrid, with filters, MMR and reranking), and
// answer questions grounded in them, with citations, streamed.
//
// The whole flow:
//
//	e, err := embed.OpenAIFromEnv(embed.OpenAIOptions{}) // OPENAI_API_KEY, OPENAI_BASE_URL
//	if err != nil { ... }
//	p, err := rag.New(rag.Options{Embedder: e})
//	if err != nil { ... }
//	report, err := p.Ingest(ctx,
//		rag.Document{ID: "go", Title: "Go", Content: goText, Source: "go.dev"},
//		rag.Document{ID: "rust", Title: "Rust", Content: rustText},
//	)
//	hits, err := p.Search(ctx, "which language has goroutines?", &rag.SearchOptions{TopK: 3})
//	for _, h := range hits {
//		fmt.Println(h.Score, h.Title, h.Text)
//	}
//	ans, err := p.Answer(ctx, "which language has goroutines?", nil) // Options.Model: a chat model
//	fmt.Println(ans.Text, ans.Citations)
//
// A Pipeline is a concrete front end over small interfaces, in the manner
// of database/sql: chunk.Chunker splits text, embed.Embedder turns texts
// into vectors, store.Store keeps and searches them, rerank.Reranker
// reorders candidates, llm.Model writes answers. Everything hard —
// batching, concurrency, rate limits, retries, validation, idempotency,
// atomic per-document writes — lives once, below the Pipeline, so every
// implementation stays small.
//
// Where things live:
//
//   - document: the document model (Document, validation, IDs, hashes);
//     rag.Document is document.Document.
//   - tokenizer, chunk: token counting (offline cl100k_base) and chunkers.
//   - embed, llm, rerank: the contracts of embedders, chat models and
//     rerankers, and their providers; provider: what every provider client
//     shares (the one error type, retry policy, rate budget and OpenAI
//     configuration).
//   - store and store/...: the store contract, its filter language and the
//     stores (chromem, flat, pgvector), checked by store/storetest;
//     lexical: BM25.
//   - rank, tune, eval: fusion and MMR, fusion tuning from labelled
//     queries, retrieval metrics.
//   - internal/ingest: the ingestion engine (also a long-lived stream that
//     any number of goroutines submit to).
//
// Optional features are off when their field is nil (Options.Lexical,
// Options.Enrich, Options.Reranker); numeric limits take their default at
// 0 and mean "none" when negative (IngestOptions.Retry.MaxRetries, a
// chunker's Overlap); a default that is on is turned off by a field named
// NoX (IngestOptions.NoCache).
//
// The defaults need nothing but an embedder: store/chromem in memory and the
// token-aware chunk.Recursive splitter. embed.NewHashing gives a local
// lexical embedder that needs no network, for tests and offline demos.
//
// Observability: the pipeline makes OpenTelemetry spans and metrics after
// the GenAI semantic conventions on the API alone (Options.TracerProvider
// and MeterProvider, or the global providers: no-ops until the application
// installs an SDK), and logs each retry, rate-limit pause, failed document
// and abandoned request once to Options.Logger. IngestOptions.Progress
// moves with the chunks and bytes embedded, not only with documents.
package rag
