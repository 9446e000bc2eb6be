package pgvector

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	pgv "github.com/pgvector/pgvector-go"

	"github.com/ragkit-go/rag/store"
)

// rowsPerInsert bounds the rows of one multi-row INSERT (12 parameters a
// row, far below Postgres's 65,535).
const rowsPerInsert = 500

const insertColumns = "tenant, id, doc_id, chunk, chunk_start, chunk_end, text, title, source, tags, metadata, doc_hash, embedding"

// Upsert replaces the records of each document, all documents of the call
// in one transaction: if it fails, nothing of the call is written. Records
// are inserted with multi-row INSERT statements (no COPY). A document named
// twice in one call is written as its last version.
//
// Besides the checks of the store.Store contract, Upsert rejects with
// store.ErrInvalidRecord strings Postgres cannot store (NUL bytes, invalid
// UTF-8), two records of the call with one ID, and a record ID that another
// document already holds (the ID is the table's primary key).
func (s *Store) Upsert(ctx context.Context, docs []store.StoredDocument) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	// Normalise metadata first (other numeric types to float64, times to
	// UTC), as the pipeline does, so that CheckDocuments accepts them.
	docs = normalized(docs)
	dim := int(s.dim.Load())
	batchDim, err := store.CheckDocuments(docs, dim)
	if err != nil {
		return err
	}
	// A document named twice: its last version wins, as if written in order.
	last := make(map[string]int, len(docs))
	for i, d := range docs {
		last[d.ID] = i
	}
	ids := make([]string, 0, len(last))
	var rows [][]any
	seen := make(map[string]string)
	for i, d := range docs {
		if last[d.ID] != i {
			continue
		}
		if !storable(d.ID) || !storable(d.Hash) {
			return fmt.Errorf("%w: document %q: ID or hash holds a NUL byte or invalid UTF-8, which Postgres cannot store", store.ErrInvalidRecord, d.ID)
		}
		ids = append(ids, d.ID)
		for _, r := range d.Records {
			if other, dup := seen[r.ID]; dup {
				return fmt.Errorf("%w: record ID %q appears twice (documents %q and %q)", store.ErrInvalidRecord, r.ID, other, d.ID)
			}
			seen[r.ID] = d.ID
			row, err := encodeRow(d.Hash, r)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
	}

	created := false // the tenant's partition, by this transaction
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if dim == 0 {
			if batchDim == 0 {
				// Only deletions; nothing to delete if there is no table.
				d, err := s.tableDim(ctx, tx)
				if err != nil || d == 0 {
					return err
				}
			} else if err := s.createForUpsert(ctx, tx, batchDim); err != nil {
				return err
			}
		}
		var err error
		if created, err = s.ensurePartition(ctx, tx); err != nil { // tenant.go
			return err
		}
		del := &builder{}
		del.w("DELETE FROM ", s.table, " WHERE ", s.tenantCond(del, ""), " AND doc_id = ANY(", del.arg(ids), "::text[])")
		if _, err := tx.Exec(ctx, del.sb.String(), del.args...); err != nil {
			return fmt.Errorf("delete old records: %w", err)
		}
		for start := 0; start < len(rows); start += rowsPerInsert {
			if err := s.insert(ctx, tx, rows[start:min(start+rowsPerInsert, len(rows))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		var de *store.DimensionError
		switch {
		case errors.As(err, &de):
			return fmt.Errorf("pgvector: table %s: %w", s.table, err)
		case isUniqueViolation(err):
			return fmt.Errorf("%w: a record ID of this batch is already used by another document: %w", store.ErrInvalidRecord, s.wrap(ctx, "upsert", err))
		}
		return s.wrap(ctx, "upsert", err)
	}
	if created {
		s.partitions.Store(s.tenant, struct{}{})
	}
	if dim == 0 && batchDim > 0 {
		s.dim.CompareAndSwap(0, int64(batchDim))
	}
	return nil
}

// normalized returns a shallow copy of docs whose records hold normalised
// copies of their metadata.
func normalized(docs []store.StoredDocument) []store.StoredDocument {
	out := make([]store.StoredDocument, len(docs))
	for i, d := range docs {
		out[i] = store.StoredDocument{ID: d.ID, Hash: d.Hash, Records: make([]store.Record, len(d.Records))}
		for j, r := range d.Records {
			r.Metadata = store.NormalizeMetadata(r.Metadata)
			out[i].Records[j] = r
		}
	}
	return out
}

// createForUpsert makes sure the table exists for vectors of dim
// dimensions, creating it (inside tx, so a failed Upsert leaves no table)
// when Migrate allows.
func (s *Store) createForUpsert(ctx context.Context, tx pgx.Tx, dim int) error {
	if !s.opts.Migrate {
		have, err := s.tableDim(ctx, tx)
		switch {
		case err != nil:
			return err
		case have == 0:
			return fmt.Errorf("%w: %s", ErrNoTable, s.table)
		case have != dim:
			return &store.DimensionError{Want: have, Got: dim}
		}
		return nil
	}
	return s.ensureTable(ctx, tx, dim)
}

// encodeRow returns the INSERT arguments of r.
func encodeRow(hash string, r store.Record) ([]any, error) {
	for _, f := range []struct{ name, v string }{{"ID", r.ID}, {"text", r.Text}, {"title", r.Title}, {"source", r.Source}} {
		if !storable(f.v) {
			return nil, fmt.Errorf("%w: record %q: %s holds a NUL byte or invalid UTF-8, which Postgres cannot store", store.ErrInvalidRecord, r.ID, f.name)
		}
	}
	tags := make([]string, len(r.Tags))
	for i, t := range r.Tags {
		if !storable(t) {
			return nil, fmt.Errorf("%w: record %q: tag %q holds a NUL byte or invalid UTF-8, which Postgres cannot store", store.ErrInvalidRecord, r.ID, t)
		}
		tags[i] = t
	}
	md := r.Metadata // normalised by Upsert
	if err := checkStorableMetadata(md); err != nil {
		return nil, fmt.Errorf("record %q: %w", r.ID, err)
	}
	mdJSON, err := encodeMetadata(md)
	if err != nil {
		return nil, fmt.Errorf("record %q: %w", r.ID, err)
	}
	vec := pgv.NewVector(append([]float32(nil), r.Vector...))
	return []any{r.ID, r.DocID, r.Chunk, r.Start, r.End, r.Text, r.Title, r.Source, tags, mdJSON, hash, vec}, nil
}

func (s *Store) insert(ctx context.Context, tx pgx.Tx, rows [][]any) error {
	q := &builder{args: make([]any, 0, len(rows)*12+1)}
	cols, tenant := insertColumns, ""
	if s.tenantCol.Load() {
		tenant = q.arg(s.tenant) + "::text, "
	} else {
		cols = cols[len("tenant, "):] // a table an earlier version made
	}
	q.w("INSERT INTO ", s.table, " (", cols, ") VALUES ")
	for i, row := range rows {
		if i > 0 {
			q.w(", ")
		}
		q.w("(", tenant, q.arg(row[0]), "::text, ", q.arg(row[1]), "::text, ", q.arg(row[2]), "::bigint, ",
			q.arg(row[3]), "::bigint, ", q.arg(row[4]), "::bigint, ", q.arg(row[5]), "::text, ",
			q.arg(row[6]), "::text, ", q.arg(row[7]), "::text, ", q.arg(row[8]), "::text[], ",
			q.arg(row[9]), "::jsonb, ", q.arg(row[10]), "::text, ", q.arg(row[11]), "::vector)")
	}
	if _, err := tx.Exec(ctx, q.sb.String(), q.args...); err != nil {
		return fmt.Errorf("insert records: %w", err)
	}
	return nil
}

// Delete removes every record of the named documents in one statement.
func (s *Store) Delete(ctx context.Context, docIDs ...string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	ids := storableStrings(docIDs)
	if len(ids) == 0 {
		return nil
	}
	dim, err := s.currentDim(ctx)
	if err != nil || dim == 0 {
		return err
	}
	del := &builder{}
	del.w("DELETE FROM ", s.table, " WHERE ", s.tenantCond(del, ""), " AND doc_id = ANY(", del.arg(ids), "::text[])")
	if _, err := s.pool.Exec(ctx, del.sb.String(), del.args...); err != nil {
		return s.wrap(ctx, "delete", err)
	}
	return nil
}

// Hashes reports the hash stored with each named document that has
// records.
func (s *Store) Hashes(ctx context.Context, docIDs ...string) (map[string]string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]string)
	ids := storableStrings(docIDs)
	if len(ids) == 0 {
		return out, nil
	}
	dim, err := s.currentDim(ctx)
	if err != nil || dim == 0 {
		return out, err
	}
	q := &builder{}
	q.w("SELECT DISTINCT ON (doc_id) doc_id, doc_hash FROM ", s.table, " WHERE ", s.tenantCond(q, ""), " AND doc_id = ANY(", q.arg(ids), "::text[])")
	rows, err := s.pool.Query(ctx, q.sb.String(), q.args...)
	if err != nil {
		return nil, s.wrap(ctx, "hashes", err)
	}
	var id, hash string
	_, err = pgx.ForEachRow(rows, []any{&id, &hash}, func() error {
		out[id] = hash
		return nil
	})
	if err != nil {
		return nil, s.wrap(ctx, "hashes", err)
	}
	return out, nil
}

// storableStrings returns the strings of ids Postgres can hold; the others
// cannot name a stored document.
func storableStrings(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if storable(id) {
			out = append(out, id)
		}
	}
	return out
}
