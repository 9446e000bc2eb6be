package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/provider"
)

// BudgetOptions configure NewBudget.
type BudgetOptions struct {
	// Name names the budget: processes that give the same name share it
	// (one per provider account, say). Default: "default".
	Name string
	// RequestsPerMinute and TokensPerMinute are the provider's limits, for
	// all the processes together; 0 means no limit of that kind. Every
	// process sharing a budget must give the same limits.
	RequestsPerMinute, TokensPerMinute int
	// MaxRequestTokens, if larger than a tenth of TokensPerMinute, is the
	// size of the token bucket (see Budget).
	MaxRequestTokens int
}

// Budget is a provider's rate limit shared by every process on one
// Postgres: two token buckets (requests, tokens) in one row of
// rag_queue_budget, each holding a tenth of a minute's worth, refilled
// continuously. Wait books its request in one atomic UPDATE (the bucket
// may go below zero: later requests wait for the debt to be refilled, so
// turns are given in the order they were booked, across processes) and
// sleeps until its turn. A cancelled Wait gives back what it booked.
//
// Set it as rag.IngestOptions.SharedBudget of every replica's pipeline.
// Wait may be called from many goroutines at once; each call is one round
// trip to Postgres.
type Budget struct {
	pool             *pgxpool.Pool
	name             string
	reqRate, tokRate float64 // per second; 0: no limit
	reqCap, tokCap   float64
}

var _ provider.Limiter = (*Budget)(nil)

// NewBudget returns the budget o names, on a database Migrate has
// prepared.
func NewBudget(pool *pgxpool.Pool, o BudgetOptions) *Budget {
	if o.Name == "" {
		o.Name = "default"
	}
	b := &Budget{pool: pool, name: o.Name}
	if o.RequestsPerMinute > 0 {
		b.reqRate = float64(o.RequestsPerMinute) / 60
		b.reqCap = max(float64(o.RequestsPerMinute)/10, 1)
	}
	if o.TokensPerMinute > 0 {
		b.tokRate = float64(o.TokensPerMinute) / 60
		b.tokCap = max(float64(o.TokensPerMinute)/10, float64(o.MaxRequestTokens), 1)
	}
	return b
}

// sqlBook refills the buckets for the time since the last booking, then
// takes one request and $6 tokens, and returns what is left.
const sqlBook = `
WITH now AS (SELECT clock_timestamp() AS t),
ins AS (
	INSERT INTO rag_queue_budget (name, requests, tokens, updated_at)
	SELECT $1, $3, $5, t FROM now
	ON CONFLICT (name) DO NOTHING
)
UPDATE rag_queue_budget b SET
	requests = least($3, b.requests + $2 * extract(epoch FROM now.t - b.updated_at)) - $7,
	tokens = least($5, b.tokens + $4 * extract(epoch FROM now.t - b.updated_at)) - $6,
	updated_at = greatest(now.t, b.updated_at)
FROM now WHERE b.name = $1
RETURNING b.requests, b.tokens`

// Wait books one request of tokens tokens and waits for its turn. It
// returns an error matching context.Cause(ctx) when ctx is done first, or
// the database's error.
func (b *Budget) Wait(ctx context.Context, tokens int) error {
	if b.reqRate == 0 && b.tokRate == 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	needReq, needTok := 0.0, 0.0
	if b.reqRate > 0 {
		needReq = 1
	}
	if b.tokRate > 0 {
		needTok = float64(tokens)
	}
	// The first booking of a new budget creates its row; the UPDATE of the
	// same statement does not see it, so it books again.
	var reqLeft, tokLeft float64
	for range 2 {
		err := b.pool.QueryRow(ctx, sqlBook, b.name, b.reqRate, b.reqCap, b.tokRate, b.tokCap, needTok, needReq).Scan(&reqLeft, &tokLeft)
		if err == nil {
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("queue: budget %q: %w", b.name, err)
		}
	}
	var wait time.Duration
	if b.reqRate > 0 && reqLeft < 0 {
		wait = max(wait, time.Duration(-reqLeft/b.reqRate*float64(time.Second)))
	}
	if b.tokRate > 0 && tokLeft < 0 {
		wait = max(wait, time.Duration(-tokLeft/b.tokRate*float64(time.Second)))
	}
	if err := backoff.Sleep(ctx, wait); err != nil {
		// Give back what was booked, so others need not wait for it.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		b.pool.Exec(gctx, `UPDATE rag_queue_budget SET requests = requests + $2, tokens = tokens + $3 WHERE name = $1`, //nolint:errcheck // best effort
			b.name, needReq, needTok)
		return err
	}
	return nil
}
