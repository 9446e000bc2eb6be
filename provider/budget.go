package provider

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/internal/httpx"
)

// BudgetOptions configure NewBudget. The zero value is a budget without
// limits that still honours pauses (Pause, Observe).
type BudgetOptions struct {
	// RequestsPerMinute and TokensPerMinute are the provider's rate
	// limits; 0 or negative means no limit of that kind. Each is a token
	// bucket refilled continuously, holding a tenth of a minute's worth
	// (at least 1), so that a burst after a quiet spell stays small.
	RequestsPerMinute, TokensPerMinute int
	// MaxRequestTokens, if larger, is the size of the token bucket: a
	// request of that many tokens never waits on a full bucket. A request
	// larger than the bucket still passes, once it has been paid for.
	MaxRequestTokens int
}

// Budget shares a provider's rate limits among the requests of one
// client: each request waits its turn (Wait), a rate-limit answer pauses
// every request (Pause), and the provider's own count of what is left
// pauses them before it refuses any (Observe).
//
// A Budget is safe for concurrent use: Wait, Pause and Observe may be
// called from many goroutines at once. Turns are given in the order Wait
// books them, so a large request is not starved by small ones; a
// cancelled Wait gives back what it booked. A nil *Budget has no limits:
// its Wait returns at once and Pause and Observe do nothing.
type Budget struct {
	requests, tokens *rate.Limiter // nil: no limit
	now              func() time.Time

	mu      sync.Mutex
	until   time.Time // no request starts before it (Pause)
	largest int       // the most tokens one Wait asked for
}

// NewBudget returns a budget of o's limits.
func NewBudget(o BudgetOptions) *Budget {
	b := &Budget{now: time.Now}
	if o.RequestsPerMinute > 0 {
		b.requests = rate.NewLimiter(perSecond(o.RequestsPerMinute), max(o.RequestsPerMinute/10, 1))
	}
	if o.TokensPerMinute > 0 {
		b.tokens = rate.NewLimiter(perSecond(o.TokensPerMinute), max(o.TokensPerMinute/10, o.MaxRequestTokens, 1))
	}
	return b
}

func perSecond(perMinute int) rate.Limit { return rate.Limit(float64(perMinute) / 60) }

// Wait blocks until one request of tokens tokens may be sent: after any
// pause, and once both the request and the token budgets can pay for it.
// It returns nil when the request may go, or an error matching
// context.Cause(ctx) when ctx is done first (having booked nothing).
func (b *Budget) Wait(ctx context.Context, tokens int) error {
	if b == nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	if err := b.waitPause(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	now := b.now()
	b.largest = max(b.largest, tokens)
	var (
		booked []*rate.Reservation
		delay  time.Duration
	)
	book := func(l *rate.Limiter, n int) {
		// ReserveN refuses more than the burst at once: a larger request
		// books the burst as many times as it takes, and waits for the
		// last part.
		for n > 0 {
			k := min(n, l.Burst())
			r := l.ReserveN(now, k)
			booked = append(booked, r)
			delay = max(delay, r.DelayFrom(now))
			n -= k
		}
	}
	if b.requests != nil {
		book(b.requests, 1)
	}
	if b.tokens != nil {
		book(b.tokens, tokens)
	}
	b.mu.Unlock()
	if err := backoff.Sleep(ctx, delay); err != nil {
		b.mu.Lock()
		at := b.now()
		for i := len(booked) - 1; i >= 0; i-- {
			booked[i].CancelAt(at)
		}
		b.mu.Unlock()
		return err
	}
	// A pause that began while this request waited holds it too.
	return b.waitPause(ctx)
}

// waitPause waits until no pause holds.
func (b *Budget) waitPause(ctx context.Context) error {
	for {
		b.mu.Lock()
		d := b.until.Sub(b.now())
		b.mu.Unlock()
		if d <= 0 {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return nil
		}
		if err := backoff.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Pause holds every request, waiting or to come, for d from now, as a 429
// with a Retry-After asks; a pause already ending later is kept.
func (b *Budget) Pause(d time.Duration) {
	if b == nil || d <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := b.now().Add(d); until.After(b.until) {
		b.until = until
	}
}

// Observe adjusts the budget to what the provider says is left, from the
// headers of any of its answers in OpenAI's format (Azure, Groq, and many
// gateways send the same): when x-ratelimit-remaining-requests is 0, or
// x-ratelimit-remaining-tokens is below the largest request Wait has
// seen (at least 1), every request pauses until the matching
// x-ratelimit-reset-requests or -tokens ("1s", "6m0s", "20ms", or
// seconds); for tokens, when x-ratelimit-limit-tokens is given too, only
// until that largest request fits again at the refill rate they imply. Headers it does not find change nothing. Observe does not
// keep h; its signature fits WithHeaderObserver.
func (b *Budget) Observe(h http.Header) {
	if b == nil || h == nil {
		return
	}
	if left, ok := headerInt(h, "X-Ratelimit-Remaining-Requests"); ok && left <= 0 {
		if d, ok := httpx.ParseReset(h.Get("X-Ratelimit-Reset-Requests")); ok {
			b.Pause(d)
		}
	}
	if left, ok := headerInt(h, "X-Ratelimit-Remaining-Tokens"); ok {
		b.mu.Lock()
		need := int64(max(b.largest, 1))
		b.mu.Unlock()
		if left < need {
			if d, ok := httpx.ParseReset(h.Get("X-Ratelimit-Reset-Tokens")); ok {
				b.Pause(untilFits(d, left, need, h))
			}
		}
	}
}

func headerInt(h http.Header, key string) (int64, bool) {
	v := strings.TrimSpace(h.Get(key))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// untilFits shortens a pause until the token bucket is full (reset) to
// the time until need tokens are back, when x-ratelimit-limit-tokens says
// how large the bucket is: it refills at (limit-left)/reset, so a
// provider run at its limit (left always near 0) is not paused for a
// whole refill after every answer. Without the limit, reset it is.
func untilFits(reset time.Duration, left, need int64, h http.Header) time.Duration {
	limit, ok := headerInt(h, "X-Ratelimit-Limit-Tokens")
	if !ok || limit <= left || need <= left {
		return reset
	}
	return time.Duration(float64(reset) * float64(min(need, limit)-left) / float64(limit-left))
}
