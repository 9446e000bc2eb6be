package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/queue"
)

// Two Budgets of one name share one bucket: what one books, the other
// cannot have; a cancelled Wait gives back what it booked.
func TestBudgetIsSharedAndCancelGivesBack(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	// 60 tokens a minute: a bucket of 6, refilled at 1 a second.
	o := queue.BudgetOptions{Name: "p", TokensPerMinute: 60}
	a, b := queue.NewBudget(pool, o), queue.NewBudget(pool, o)
	if err := a.Wait(ctx, 6); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := b.Wait(short, 6); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second process's Wait = %v; want it to wait for the bucket a emptied (deadline exceeded)", err)
	}
	var left float64
	if err := pool.QueryRow(ctx, `SELECT tokens FROM rag_queue_budget WHERE name = 'p'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left < -1 || left > 2 {
		t.Errorf("%.2f tokens left after a cancelled Wait; want about 0 (the 6 booked were given back)", left)
	}
	// Another name is another bucket.
	other := queue.NewBudget(pool, queue.BudgetOptions{Name: "q", TokensPerMinute: 60})
	if err := other.Wait(ctx, 6); err != nil {
		t.Errorf("other budget: %v", err)
	}
}

// Concurrent Waits from two Budgets book exactly what they asked for.
func TestBudgetBooksEveryRequest(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	// A bucket of 100,000 tokens refilled at 0.1 a second: what is left
	// shows every booking, to within the refill.
	o := queue.BudgetOptions{Name: "p", TokensPerMinute: 6, MaxRequestTokens: 100_000}
	bs := []*queue.Budget{queue.NewBudget(pool, o), queue.NewBudget(pool, o)}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if err := bs[i%2].Wait(ctx, 1000); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var tok, elapsed float64
	if err := pool.QueryRow(ctx, `SELECT tokens, extract(epoch FROM clock_timestamp() - updated_at) FROM rag_queue_budget WHERE name = 'p'`).Scan(&tok, &elapsed); err != nil {
		t.Fatal(err)
	}
	if tok < 60_000-1e-6 || tok > 60_000+0.1*elapsed+0.5 {
		t.Errorf("%.2f tokens left; want 60,000 (each of 40 Waits booked 1,000 once)", tok)
	}
}
