package queue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrate brings the database up to date: River's own tables
// (rivermigrate, up to its latest version) and the queue's (the status of
// each document, the shared rate budgets). Replicas may call it at once:
// it holds a Postgres advisory lock while it works. It is idempotent.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('rag_queue_migrate'))`); err != nil {
		return fmt.Errorf("queue: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('rag_queue_migrate'))`) //nolint:errcheck // the session ends the lock anyway
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("queue: migrate: river: %w", err)
	}
	if _, err := conn.Exec(ctx, sqlSchema); err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	return nil
}

// sqlSchema is the queue's own schema. rag_queue_document holds, for each
// document ID, its latest job (the one its status follows and the only
// one that may apply), the outcome that job's worker recorded, and the
// claim of the job applying it now (claim_job, until claim_until), which
// keeps the jobs of one ID from running at once.
const sqlSchema = `
CREATE TABLE IF NOT EXISTS rag_queue_document (
	doc_id      text PRIMARY KEY,
	job_id      bigint NOT NULL,
	kind        text NOT NULL,
	state       text NOT NULL,
	chunks      integer NOT NULL DEFAULT 0,
	error       text,
	attempts    integer NOT NULL DEFAULT 0,
	claim_job   bigint,
	claim_until timestamptz,
	updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rag_queue_document_job ON rag_queue_document (job_id);
CREATE TABLE IF NOT EXISTS rag_queue_budget (
	name       text PRIMARY KEY,
	requests   double precision NOT NULL,
	tokens     double precision NOT NULL,
	updated_at timestamptz NOT NULL
);
`

// sqlEnqueue makes jobs ($2) the latest of their documents ($1). A job
// that was already the latest (a duplicate) keeps the outcome recorded.
const sqlEnqueue = `
INSERT INTO rag_queue_document AS d (doc_id, job_id, kind, state, updated_at)
SELECT u.id, u.job, u.kind, 'pending', clock_timestamp()
FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(id, job, kind)
ON CONFLICT (doc_id) DO UPDATE SET
	job_id = EXCLUDED.job_id,
	kind = EXCLUDED.kind,
	state = CASE WHEN d.job_id = EXCLUDED.job_id THEN d.state ELSE 'pending' END,
	chunks = CASE WHEN d.job_id = EXCLUDED.job_id THEN d.chunks ELSE 0 END,
	error = CASE WHEN d.job_id = EXCLUDED.job_id THEN d.error ELSE NULL END,
	attempts = CASE WHEN d.job_id = EXCLUDED.job_id THEN d.attempts ELSE 0 END,
	updated_at = clock_timestamp()
`
