package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/store"
)

// pgStore is a store.Store in plain Postgres tables, which several worker
// processes share: the measurements' store, since River needs a real
// Postgres and Debian's has no pgvector (the PGlite server of
// .ci/pg-start.sh has it, but is one backend for every connection). Its
// chunk table has no unique key on purpose, so that a write that was not
// atomic, or applied twice, would show as duplicated or missing chunks.
// Search is not supported: the benchmarks only write.
type pgStore struct{ pool *pgxpool.Pool }

const storeSchema = `
CREATE TABLE IF NOT EXISTS bench_doc (doc_id text PRIMARY KEY, hash text NOT NULL);
CREATE TABLE IF NOT EXISTS bench_chunk (
	seq bigserial PRIMARY KEY, doc_id text NOT NULL, chunk integer NOT NULL,
	record_id text NOT NULL, text text NOT NULL, vector real[] NOT NULL);
CREATE INDEX IF NOT EXISTS bench_chunk_doc ON bench_chunk (doc_id);
`

var _ store.Store = (*pgStore)(nil)

// Upsert writes each document in one transaction with the others of the
// call: its row first (which locks it, so two writers of one document
// take turns), then its chunks replaced.
func (s *pgStore) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, d := range docs {
			if len(d.Records) == 0 {
				b.Queue(`DELETE FROM bench_doc WHERE doc_id = $1`, d.ID)
				b.Queue(`DELETE FROM bench_chunk WHERE doc_id = $1`, d.ID)
				continue
			}
			b.Queue(`INSERT INTO bench_doc VALUES ($1, $2) ON CONFLICT (doc_id) DO UPDATE SET hash = EXCLUDED.hash`, d.ID, d.Hash)
			b.Queue(`DELETE FROM bench_chunk WHERE doc_id = $1`, d.ID)
			for _, r := range d.Records {
				if r.DocID != d.ID {
					return fmt.Errorf("%w: record %s of document %s under %s", store.ErrInvalidRecord, r.ID, r.DocID, d.ID)
				}
				b.Queue(`INSERT INTO bench_chunk (doc_id, chunk, record_id, text, vector) VALUES ($1, $2, $3, $4, $5)`,
					d.ID, r.Chunk, r.ID, r.Text, r.Vector)
			}
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

func (s *pgStore) Search(context.Context, store.Query) ([]store.Result, error) {
	return nil, fmt.Errorf("bench store: search: %w", errors.ErrUnsupported)
}

func (s *pgStore) Delete(ctx context.Context, ids ...string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM bench_doc WHERE doc_id = ANY($1)`, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM bench_chunk WHERE doc_id = ANY($1)`, ids)
		return err
	})
}

func (s *pgStore) Hashes(ctx context.Context, ids ...string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT doc_id, hash FROM bench_doc WHERE doc_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, err
		}
		out[id] = h
	}
	return out, rows.Err()
}
