package pgvector

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	pgv "github.com/pgvector/pgvector-go"

	"github.com/ragkit-go/rag/store"
)

// selectColumns are the record columns every search returns, from the row
// alias r, followed by the score. The conversions to text are written in
// the outermost query, so that they run on the TopK rows returned only,
// not on every row scored.
const selectColumns = "r.id, r.doc_id, r.chunk, r.chunk_start, r.chunk_end, r.text, r.title, r.source, r.tags, r.metadata::text, r.embedding::text"

// innerColumns are the columns the inner query passes on.
const innerColumns = "t.id, t.doc_id, t.chunk, t.chunk_start, t.chunk_end, t.text, t.title, t.source, t.tags, t.metadata, t.embedding"

// scoreExpr turns the similarity alias.sim (1 - cosine distance, NaN when
// a vector has no length) into the score: 0 for a zero vector, clamped to
// [-1, 1], rounded to real so that SQL ties are float32 ties.
func scoreExpr(alias string) string {
	sim := alias + ".sim"
	return "CAST(CASE WHEN " + sim + " = 'NaN'::float8 THEN 0 ELSE GREATEST(-1, LEAST(1, " + sim + ")) END AS real)"
}

// Search returns the q.TopK records most similar to q.Vector among those
// q.Filter matches. By default the search is exact, as store.Store
// requires: the filter is applied (with the GIN indexes where they help),
// every matching row is scored by cosine similarity and the best are kept
// — ordered by score, ties by record ID in byte order (COLLATE "C"). The
// ordering is written so that the planner cannot use the approximate HNSW
// index for it. With Options.Approximate the HNSW index is used instead
// (see Options.Approximate and Options.EfSearch).
//
// Scores are 1 - pgvector's cosine distance, computed by Postgres in float
// arithmetic; a zero vector scores 0.
func (s *Store) Search(ctx context.Context, q store.Query) ([]store.Result, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	dim := int(s.dim.Load())
	if err := store.CheckVector(q.Vector, dim); err != nil {
		return nil, err
	}
	if err := q.Filter.Validate(); err != nil {
		return nil, err
	}
	if dim == 0 {
		var err error
		if dim, err = s.currentDim(ctx); err != nil {
			return nil, err
		}
		if dim == 0 {
			return nil, nil // no table yet: nothing stored
		}
		if err := store.CheckVector(q.Vector, dim); err != nil {
			return nil, err
		}
	}
	// pgvector's index holds no zero vectors. Without an iterative scan
	// an HNSW search stops at ef_search rows, before a tenant's are
	// picked out: a view searches exactly unless its tenant has a
	// partition (and a graph) of its own.
	approx := s.opts.Approximate && !isZero(q.Vector) && (s.iterative || !s.view || s.partitioned.Load())
	sql, args, k, err := s.searchSQL(q, dim, approx)
	if err != nil {
		return nil, err
	}
	if !approx {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return nil, s.wrap(ctx, "search", err)
		}
		out, err := scanResults(rows, k)
		if err != nil {
			return nil, s.wrap(ctx, "search", err)
		}
		return out, nil
	}

	// Approximate: an HNSW index scan in a transaction that sets
	// hnsw.ef_search and, on pgvector 0.8 and later, an iterative scan, so
	// that filters and a large TopK still find enough rows. The index
	// returns candidates roughly by distance; they are then ordered as
	// store.CompareResults does.
	ef := s.opts.EfSearch
	if !s.iterative {
		ef = min(1000, max(ef, k))
	}
	var out []store.Result
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('hnsw.ef_search', $1::text, true)", strconv.Itoa(ef)); err != nil {
			return err
		}
		if s.iterative {
			if _, err := tx.Exec(ctx, "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = scanResults(rows, k)
		return err
	})
	if err != nil {
		if s.partitioned.Load() && isUndefinedTable(err) {
			return nil, nil // the tenant has no partition: it never wrote
		}
		return nil, s.wrap(ctx, "approximate search", err)
	}
	store.SortResults(out)
	return out, nil
}

// searchSQL returns the statement and arguments of a search for vectors
// of dim dimensions, and the number of results it asks for.
//
// Exact: the innermost query filters and computes the similarity of every
// matching row (OFFSET 0 keeps it from being flattened, so the distance is
// computed once a row); the middle one orders by the real score and the
// record ID and keeps the TopK; the outer one converts those rows. An HNSW
// index can only serve "ORDER BY embedding <=> const"; an order by an
// expression of the distance cannot use it, so this plan is always a scan
// (of the rows the filter's indexes select).
//
// Approximate: the inner query orders by the distance operator itself, the
// shape the HNSW index serves. The planner may still prefer a sequential
// scan when it estimates it cheaper (a small table, a large ef_search):
// the result is then exact.
func (s *Store) searchSQL(q store.Query, dim int, approx bool) (sql string, args []any, k int, err error) {
	k = q.TopK
	if k <= 0 {
		k = store.DefaultTopK
	}
	b := &builder{}
	vec := b.arg(pgv.NewVector(append([]float32(nil), q.Vector...)))
	from, tenant := s.table, ""
	if approx {
		from, tenant = s.hnswSource(b, q.Filter) // tenant.go
	} else {
		tenant = s.tenantCond(b, "t.")
	}
	var where builder
	where.args = b.args
	if err := compileFilter(&where, q.Filter); err != nil {
		return "", nil, 0, err
	}
	b.args = where.args
	inner := "SELECT " + innerColumns + ", 1 - (t.embedding <=> " + vec + "::vector) AS sim FROM " + from + " AS t WHERE " + tenant + " AND (" + where.sb.String() + ")"
	if approx {
		order := "t.embedding <=> " + vec + "::vector"
		if dim > 2000 {
			order = fmt.Sprintf("t.embedding::halfvec(%d) <=> (%s::vector)::halfvec(%d)", dim, vec, dim)
		}
		b.w("SELECT ", selectColumns, ", ", scoreExpr("r"), " AS score FROM (", inner,
			" ORDER BY ", order, " LIMIT ", b.arg(k), ") AS r")
	} else {
		b.w("SELECT ", selectColumns, ", r.score FROM (SELECT d.*, ", scoreExpr("d"), " AS score FROM (", inner,
			" OFFSET 0) AS d ORDER BY score DESC, d.id COLLATE \"C\" LIMIT ", b.arg(k),
			") AS r ORDER BY r.score DESC, r.id COLLATE \"C\"")
	}
	return b.sb.String(), b.args, k, nil
}

func isZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// scanResults reads rows of selectColumns plus a real score.
func scanResults(rows pgx.Rows, k int) ([]store.Result, error) {
	out := make([]store.Result, 0, min(k, 256))
	var (
		r            store.Result
		chunk        int64
		start, end   int64
		mdText, vecT string
		score        float32
	)
	_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.DocID, &chunk, &start, &end, &r.Text, &r.Title, &r.Source, &r.Tags, &mdText, &vecT, &score}, func() error {
		res := store.Result{Record: r.Record, Score: score}
		res.Chunk, res.Start, res.End = int(chunk), int(start), int(end)
		if len(res.Tags) == 0 {
			res.Tags = nil
		} else {
			res.Tags = append([]string(nil), res.Tags...)
		}
		md, err := decodeMetadata(mdText)
		if err != nil {
			return err
		}
		res.Metadata = md
		var v pgv.Vector
		if err := v.Parse(vecT); err != nil {
			return fmt.Errorf("pgvector: bad stored vector: %w", err)
		}
		res.Vector = v.Slice()
		out = append(out, res)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SearchText is the store's lexical side: Postgres full-text search over
// each record's title and text (a generated tsvector column, title
// weighted above text, with a GIN index). query is parsed by
// websearch_to_tsquery, so it takes the syntax of web search boxes: words
// (all must match), "quoted phrases", "or", and -excluded words. Results
// are ordered by ts_rank_cd, highest first, ties by record ID; Score is
// that rank (0 or more, not a cosine similarity, and not comparable across
// queries). k <= 0 means store.DefaultTopK; filter restricts the records
// as in Search. A query with no searchable words (only stop words, say)
// matches nothing.
func (s *Store) SearchText(ctx context.Context, query string, k int, filter *store.Filter) ([]store.Result, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if k <= 0 {
		k = store.DefaultTopK
	}
	sq := &builder{}
	cfg := sq.arg(s.opts.TextSearchConfig)
	qtext := sq.arg(query)
	tenant := s.tenantCond(sq, "t.")
	var where builder
	where.args = sq.args
	if err := compileFilter(&where, filter); err != nil {
		return nil, err
	}
	sq.args = where.args
	if !storable(query) {
		return nil, nil // Postgres cannot hold it, so no stored text matches it
	}
	dim, err := s.currentDim(ctx)
	if err != nil || dim == 0 {
		return nil, err
	}
	sq.w("SELECT ", selectColumns, ", r.score FROM (SELECT ", innerColumns,
		", ts_rank_cd(t.tsv, tq) AS score FROM ", s.table, " AS t, websearch_to_tsquery(", cfg, "::regconfig, ", qtext,
		"::text) AS tq WHERE t.tsv @@ tq AND ", tenant, " AND (", where.sb.String(), ")",
		" ORDER BY score DESC, t.id COLLATE \"C\" LIMIT ", sq.arg(k), ") AS r ORDER BY r.score DESC, r.id COLLATE \"C\"")
	rows, err := s.pool.Query(ctx, sq.sb.String(), sq.args...)
	if err != nil {
		return nil, s.wrap(ctx, "text search", err)
	}
	out, err := scanResults(rows, k)
	if err != nil {
		return nil, s.wrap(ctx, "text search", err)
	}
	return out, nil
}
