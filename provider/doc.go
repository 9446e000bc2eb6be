// Package provider holds what every provider client of the module (embed,
// llm, rerank) shares, so that each rule exists once:
//
//   - Error, the one error type of a failed provider call, and the one
//     rule of which failures are retryable (see Error.Retryable and
//     Retryable): 408, 409, 425, 429, 5xx and requests without an answer
//     are; other 4xx are not; neither is the caller's cancellation.
//     Error.Misconfigured tells the failures no retry can mend (401, 403,
//     404, a server that never answered and refuses connections or whose
//     host name does not resolve), which fail at once and say what to
//     check.
//   - RetryPolicy, the one retry loop: bounded attempts, per-attempt
//     timeouts, exponential backoff with full jitter, the provider's
//     Retry-After honoured, no wait past the context's deadline.
//   - Budget, a rate budget of requests and tokens per minute that pauses
//     every request after a 429 and when the provider's x-ratelimit-*
//     headers say a limit is spent; WithHeaderObserver carries those
//     headers from any client's answers to it.
//   - OpenAIConfig, the one configuration of OpenAI-compatible APIs: the
//     one place that reads OPENAI_API_KEY, OPENAI_BASE_URL and
//     OPENAI_ORG_ID, defaults the base URL, and refuses a missing key
//     (ErrMissingAPIKey).
//
// A typical client call, rate-limited and retried:
//
//	budget := provider.NewBudget(provider.BudgetOptions{RequestsPerMinute: 500, TokensPerMinute: 1_000_000})
//	ctx = provider.WithHeaderObserver(ctx, budget.Observe)
//	err := provider.RetryPolicy{}.Do(ctx, func(ctx context.Context, attempt int) error {
//		if err := budget.Wait(ctx, tokens); err != nil {
//			return err
//		}
//		vecs, err = embedder.Embed(ctx, texts)
//		var pe *provider.Error
//		if errors.As(err, &pe) && pe.StatusCode == 429 {
//			budget.Pause(pe.RetryAfter)
//		}
//		return err
//	})
//
// The package imports only the standard library, golang.org/x/time/rate
// and the module's internal packages; every other package may import it.
package provider
