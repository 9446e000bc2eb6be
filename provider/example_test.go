package provider_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ragkit-go/rag/provider"
)

// A call retried by the one policy within a rate budget: the first two
// attempts are refused with 429 and a short Retry-After, which also
// pauses every other request of the budget.
func Example() {
	budget := provider.NewBudget(provider.BudgetOptions{RequestsPerMinute: 600})
	policy := provider.RetryPolicy{
		MinBackoff: time.Millisecond,
		OnRetry: func(attempt int, err error, wait time.Duration) {
			fmt.Printf("attempt %d failed (%v); retrying\n", attempt, err)
		},
	}
	err := policy.Do(context.Background(), func(ctx context.Context, attempt int) error {
		if err := budget.Wait(ctx, 1); err != nil {
			return err
		}
		if attempt < 2 {
			err := &provider.Error{Provider: "openai", StatusCode: 429, Message: "slow down", RetryAfter: time.Millisecond}
			budget.Pause(err.RetryAfter)
			return err
		}
		return nil
	})
	fmt.Println("done:", err)

	var pe *provider.Error
	err = policy.Do(context.Background(), func(context.Context, int) error {
		return &provider.Error{Provider: "voyage", StatusCode: 401, Message: "invalid key"}
	})
	fmt.Println(errors.As(err, &pe), pe.Retryable(), err)
	// Output:
	// attempt 0 failed (provider: openai answered 429: slow down); retrying
	// attempt 1 failed (provider: openai answered 429: slow down); retrying
	// done: <nil>
	// true false provider: voyage answered 401: invalid key (check the API key)
}
