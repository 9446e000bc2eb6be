package provider

import "context"

// Limiter paces requests to a provider: Wait returns when one request of
// tokens tokens may be sent, or an error matching context.Cause(ctx) when
// ctx is done first. *Budget is one, for the requests of one process; a
// limiter shared by several processes (package queue's Budget, kept in
// Postgres) is another. Wait may be called from many goroutines at once.
type Limiter interface {
	Wait(ctx context.Context, tokens int) error
}

var _ Limiter = (*Budget)(nil)
