package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ragkit-go/rag/internal/backoff"
	"github.com/ragkit-go/rag/internal/httpx"
)

// fakeClock is a clock that moves only when a wait is made under its
// context: then it jumps to the wait's end.
type fakeClock struct {
	mu  sync.Mutex
	t   time.Time
	log []time.Duration // the waits, in order
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// advancing returns a context whose waits move the clock forward.
func (c *fakeClock) advancing(ctx context.Context) context.Context {
	return backoff.WithSleep(ctx, func(ctx context.Context, d time.Duration) error {
		c.mu.Lock()
		c.t = c.t.Add(d)
		c.log = append(c.log, d)
		c.mu.Unlock()
		return ctx.Err()
	})
}

func newTestBudget(o BudgetOptions) (*Budget, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := NewBudget(o)
	b.now = c.now
	return b, c
}

// TestBudgetConcurrentWaitsStayWithinRate: many goroutines Wait at once on
// a clock that stands still; each records when its turn comes (now +
// its wait). In any minute, the turns never exceed the bucket plus a
// minute's refill, and the last turn comes exactly when the budget has
// paid for every request.
func TestBudgetConcurrentWaitsStayWithinRate(t *testing.T) {
	const rpm, n = 60, 200 // one a second, a bucket of 6
	b, c := newTestBudget(BudgetOptions{RequestsPerMinute: rpm})
	start := c.now()
	var (
		mu    sync.Mutex
		turns []time.Time
		wg    sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			var waited time.Duration
			ctx := backoff.WithSleep(context.Background(), func(_ context.Context, d time.Duration) error {
				waited += d
				return nil
			})
			if err := b.Wait(ctx, 1); err != nil {
				t.Error(err)
			}
			mu.Lock()
			turns = append(turns, start.Add(waited))
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(turns, func(i, j int) bool { return turns[i].Before(turns[j]) })
	burst := rpm / 10
	for i, at := range turns {
		k := sort.Search(len(turns), func(j int) bool { return !turns[j].Before(at.Add(time.Minute)) })
		if got := k - i; got > burst+rpm {
			t.Fatalf("%d turns in the minute from %v, budget %d", got, at.Sub(start), burst+rpm)
		}
	}
	if got, want := turns[n-1].Sub(start), time.Duration(n-burst)*time.Second; got != want {
		t.Errorf("last turn after %v, want %v", got, want)
	}
	if got := turns[burst-1].Sub(start); got != 0 {
		t.Errorf("the bucket's %d requests waited %v", burst, got)
	}
}

// TestBudgetLargeRequestPasses: a request larger than the token bucket is
// let through once paid for, rather than refused as WaitN would.
func TestBudgetLargeRequestPasses(t *testing.T) {
	b, c := newTestBudget(BudgetOptions{TokensPerMinute: 600}) // 10 a second, a bucket of 60
	ctx := c.advancing(context.Background())
	if err := b.Wait(ctx, 60); err != nil || len(c.log) != 0 {
		t.Fatalf("a full bucket's worth: err %v, waits %v", err, c.log)
	}
	if err := b.Wait(ctx, 1000); err != nil {
		t.Fatalf("a request larger than the bucket failed: %v", err)
	}
	if len(c.log) != 1 || c.log[0] != 100*time.Second {
		t.Fatalf("waits %v, want one of 100s (1000 tokens at 10 a second)", c.log)
	}
	// MaxRequestTokens sizes the bucket: such a request does not wait.
	b, c = newTestBudget(BudgetOptions{TokensPerMinute: 600, MaxRequestTokens: 1000})
	if err := b.Wait(c.advancing(context.Background()), 1000); err != nil || len(c.log) != 0 {
		t.Fatalf("with MaxRequestTokens: err %v, waits %v", err, c.log)
	}
}

// TestBudgetCancelGivesBack: a Wait cancelled while waiting books
// nothing, so the next request's wait is unchanged.
func TestBudgetCancelGivesBack(t *testing.T) {
	b, c := newTestBudget(BudgetOptions{RequestsPerMinute: 60})
	for range 6 {
		if err := b.Wait(context.Background(), 1); err != nil { // the bucket
			t.Fatal(err)
		}
	}
	cancelled := backoff.WithSleep(context.Background(), func(context.Context, time.Duration) error { return context.Canceled })
	if err := b.Wait(cancelled, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	ctx := c.advancing(context.Background())
	if err := b.Wait(ctx, 1); err != nil || len(c.log) != 1 || c.log[0] != time.Second {
		t.Fatalf("err %v, waits %v; want one of 1s, as if the cancelled Wait never came", err, c.log)
	}
}

func TestBudgetPause(t *testing.T) {
	b, c := newTestBudget(BudgetOptions{})
	b.Pause(5 * time.Second)
	b.Pause(time.Second) // a shorter pause does not shorten it
	ctx := c.advancing(context.Background())
	if err := b.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if len(c.log) != 1 || c.log[0] != 5*time.Second {
		t.Fatalf("waits %v, want one of 5s", c.log)
	}
	if err := b.Wait(ctx, 1); err != nil || len(c.log) != 1 {
		t.Fatalf("after the pause: err %v, waits %v", err, c.log)
	}
}

func TestNilBudget(t *testing.T) {
	var b *Budget
	b.Pause(time.Hour)
	b.Observe(http.Header{"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"1h"}})
	if err := b.Wait(context.Background(), 1e9); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestBudgetObserve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		largest int // tokens of an earlier request
		h       http.Header
		want    time.Duration
	}{
		{"requests spent", 1, http.Header{"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"6m0s"}}, 6 * time.Minute},
		{"requests left", 1, http.Header{"X-Ratelimit-Remaining-Requests": {"3"}, "X-Ratelimit-Reset-Requests": {"6m0s"}}, 0},
		{"tokens below the largest request", 500, http.Header{"X-Ratelimit-Remaining-Tokens": {"499"}, "X-Ratelimit-Reset-Tokens": {"20ms"}}, 20 * time.Millisecond},
		{"tokens enough", 500, http.Header{"X-Ratelimit-Remaining-Tokens": {"500"}, "X-Ratelimit-Reset-Tokens": {"20ms"}}, 0},
		{"tokens low, with the limit: until the largest request fits", 1000, http.Header{"X-Ratelimit-Limit-Tokens": {"10000"}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"60s"}}, 6 * time.Second},
		{"tokens low, a request above the limit: until full", 20000, http.Header{"X-Ratelimit-Limit-Tokens": {"10000"}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"60s"}}, 60 * time.Second},
		{"both spent: the longer", 1, http.Header{"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"1s"}, "X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"2s"}}, 2 * time.Second},
		{"no reset", 1, http.Header{"X-Ratelimit-Remaining-Requests": {"0"}}, 0},
		{"garbage", 1, http.Header{"X-Ratelimit-Remaining-Requests": {"none"}, "X-Ratelimit-Reset-Requests": {"1s"}}, 0},
	} {
		b, c := newTestBudget(BudgetOptions{})
		if err := b.Wait(context.Background(), tc.largest); err != nil {
			t.Fatal(err)
		}
		b.Observe(tc.h)
		if got := b.until.Sub(c.now()); max(got, 0) != tc.want {
			t.Errorf("%s: paused for %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestHeaderObserverReachesBudget: a client over httpx's Transport
// reports the headers of every answer, successful or not, to the observer
// of the request's context, and so to a Budget.
func TestHeaderObserverReachesBudget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
		w.Header().Set("X-Ratelimit-Reset-Requests", r.URL.Query().Get("reset"))
		if r.URL.Path == "/refuse" {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	client := httpx.Wrap(srv.Client())
	for _, tc := range []struct {
		path, reset string
		want        time.Duration
	}{{"/ok", "3s", 3 * time.Second}, {"/refuse", "7s", 7 * time.Second}} {
		b, c := newTestBudget(BudgetOptions{})
		var seen int
		ctx := WithHeaderObserver(context.Background(), b.Observe)
		ctx = WithHeaderObserver(ctx, func(http.Header) { seen++ }) // chained, both run
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+tc.path+"?reset="+tc.reset, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := b.until.Sub(c.now()); got != tc.want || seen != 1 {
			t.Errorf("%s: paused %v (want %v), second observer ran %d times", tc.path, got, tc.want, seen)
		}
	}
}

func BenchmarkBudgetWait(b *testing.B) {
	budget := NewBudget(BudgetOptions{RequestsPerMinute: 1e9, TokensPerMinute: 1e12})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := budget.Wait(ctx, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}
