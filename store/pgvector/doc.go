// Package pgvector is a store.Store on PostgreSQL with the pgvector
// extension, through a pgx connection pool the caller owns.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil { ... }
//	defer pool.Close()
//	s, err := pgvector.New(ctx, pool, pgvector.Options{Table: "docs", Migrate: true})
//	if err != nil { ... }
//	p, err := rag.New(rag.Options{Embedder: e, Store: s})
//
// # Schema
//
// One table (Options.Table, default "rag_chunks") holds a row per record:
//
//	tenant text, id text, doc_id text, chunk bigint, chunk_start bigint,
//	chunk_end bigint, text text, title text, source text, tags text[],
//	metadata jsonb, doc_hash text, embedding vector(n),
//	tsv tsvector GENERATED ALWAYS AS (title weighted A || text weighted B) STORED,
//	PRIMARY KEY (tenant, id)
//
// with a B-tree index on (tenant, doc_id), GIN indexes on metadata, tags and tsv, and
// an HNSW index for cosine distance: on embedding (vector_cosine_ops) up to
// 2,000 dimensions, on embedding::halfvec(n) (halfvec_cosine_ops) up to
// 4,000 — the table keeps full precision, only the index is half precision
// — and none beyond. With Options.Migrate, New creates the extension, and
// New (when Options.Dimensions is set) or the first Upsert (which learns
// the dimension) creates the table and indexes; the dimension of an
// existing table is read from its column type.
//
// # Search: exact by default
//
// Search is exact, as the store.Store contract requires: it scores every
// row the filter admits by cosine similarity (1 - pgvector's cosine
// distance; a zero vector scores 0) and returns the best, ties broken by
// record ID in byte order. Its SQL orders by an expression of the distance,
// which the HNSW index cannot serve, so the index is never used for it.
// Options.Approximate switches to the HNSW index (ORDER BY embedding <=>
// query, hnsw.ef_search = Options.EfSearch, and on pgvector 0.8 or later an
// iterative scan so filtered searches still fill TopK): much faster on
// large tables, but it can miss neighbours. On 20,000 random
// 128-dimensional vectors with the default build parameters, recall@10 was
// 0.41 at ef_search 40 (the default), 0.85 at 200, 0.95 to 0.96 at 400 and
// 0.975 to 0.98 at 500 (TestHNSWRecall); real embeddings, which cluster, fare
// better.
//
// # Tenants
//
// Every row belongs to a tenant, "" for the Store itself (the default
// tenant); Scope returns the view of one tenant, whose every statement
// names it (see Store.Scope and store.Scoper). Options.PartitionByTenant
// gives each tenant a LIST partition of its own. Approximate searches of
// a tenant walk the HNSW graph with the tenant as the iterative scan's
// filter: for a tenant holding 1% of 20,000 random 128-dimensional
// vectors, recall@10 was 0.97 at ef_search 40 and 100 (a partition: 1.0,
// the planner scanning its 200 rows), TestTenantHNSWRecall. Tables made by
// earlier versions, without the tenant column, open as the default tenant
// alone; New with Migrate adds the column.
//
// # Filters
//
// A store.Filter compiles to parameterised SQL with the semantics of
// store.Filter.Match: every value and every metadata key travels as a
// query parameter, never as SQL text. Metadata is stored as jsonb with a
// typed encoding (strings, numbers and booleans as themselves, string
// lists as arrays, times as {"unix": seconds with nine decimals}), so the
// string "42" never equals the number 42, and numbers and times order
// exactly; equality and In use jsonb containment, served by the GIN index.
//
// # Full-text search
//
// SearchText is the lexical side for hybrid search: Postgres full-text
// search (websearch_to_tsquery and ts_rank_cd) over the generated tsvector
// column.
//
// # Listing documents
//
// DocumentIDs (store.Lister) lists the documents a filter matches in one
// statement, SELECT doc_id ... GROUP BY doc_id, with the filter compiled
// as for Search; it reads no vectors.
//
// # Writes
//
// Upsert writes a whole call in one transaction: DELETE of the documents'
// old records, then multi-row INSERTs (COPY is not used). Readers see each
// document before or after, never a mix; a failed call writes nothing.
//
// # Testing
//
// The tests need a Postgres with pgvector named by RAG_PG_DSN and skip
// without one. .ci/pg-start.sh starts one for them: PGlite (Postgres
// compiled to WebAssembly) with pgvector, served on loopback by Node.js.
// Because PGlite is a single backend, its DSN asks pgx for one connection
// and the exec query mode:
//
//	export RAG_PG_DSN="$(bash .ci/pg-start.sh)"
//	go test -race ./store/pgvector/
//	RAG_PG_RECALL=1 go test -run TestHNSWRecall -v ./store/pgvector/
//	bash .ci/pg-stop.sh
//
// A real PostgreSQL works the same: RAG_PG_DSN=postgres://user@host/db.
package pgvector
