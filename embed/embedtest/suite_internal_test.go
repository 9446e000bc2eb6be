package embedtest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/embed"
)

// good is a correct embedder: Hashing at 16 dimensions.
var good = embed.NewHashing(embed.HashingOptions{Dimensions: 16})

func goodVecs(texts []string) [][]float32 {
	v, err := good.Embed(context.Background(), texts)
	if err != nil {
		panic(err)
	}
	return v
}

// TestChecksPassOnGoodEmbedder checks that no rule fails a correct
// embedder, so the failures below are the broken embedders' own.
func TestChecksPassOnGoodEmbedder(t *testing.T) {
	s := newSuite(good, Options{Deterministic: true, LargeBatch: 50})
	for _, c := range checks {
		if err := c.run(s); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestChecksCatchBrokenEmbedders checks that each rule fails an embedder
// that breaks it.
func TestChecksCatchBrokenEmbedders(t *testing.T) {
	var calls atomic.Int64
	tests := []struct {
		check string
		opts  Options
		e     embed.Embedder
	}{
		{"OneVectorPerTextInOrder", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			v := goodVecs(texts)
			slices.SortFunc(v, func(a, b []float32) int { return int(math.Copysign(1, float64(a[0]-b[0]))) })
			return v, nil // sorted by first component, not in the order of texts
		})},
		{"OneVectorPerTextInOrder", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			return goodVecs(texts)[1:], nil // one vector short
		})},
		{"OneVectorPerTextInOrder", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			v := goodVecs(texts)
			v[len(v)-1][3] = float32(math.NaN())
			return v, nil
		})},
		{"OneVectorPerTextInOrder", Options{Dimensions: 32}, good}, // not the declared dimension
		{"BatchMatchesSingleTexts", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			v := goodVecs(texts)
			if len(texts) == 1 {
				v[0][0] = -v[0][0] + 1 // vectors depend on the batch
			}
			return v, nil
		})},
		{"EmptyBatch", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			if len(texts) == 0 {
				return nil, errors.New("no texts")
			}
			return goodVecs(texts), nil
		})},
		{"EmptyBatch", Options{Calls: func() int { return int(calls.Load()) }}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			calls.Add(1) // a provider call even for nothing
			return goodVecs(texts), nil
		})},
		{"Deterministic", Options{Deterministic: true}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			v := goodVecs(texts)
			v[0][0] += float32(rand.Float64()) + 1e-3
			return v, nil
		})},
		{"CancelledContext", Options{}, embed.Func(func(_ context.Context, texts []string) ([][]float32, error) {
			return goodVecs(texts), nil // ignores ctx
		})},
		{"ResultsBelongToCaller", Options{}, &caching{}},
		{"ResultsBelongToCaller", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			// One backing array without capped capacities.
			v := goodVecs(texts)
			flat := make([]float32, 0, 16*len(v))
			out := make([][]float32, len(v))
			for i, x := range v {
				flat = append(flat, x...)
				out[i] = flat[16*i : 16*(i+1)]
			}
			return out, nil
		})},
		{"TextsUnchanged", Options{}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			for i := range texts {
				texts[i] = strings.ToLower(texts[i])
			}
			return goodVecs(texts), nil
		})},
		{"LargeBatch", Options{LargeBatch: 10}, embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
			// Splits into batches of 4 and reassembles them backwards.
			var out [][]float32
			for end := len(texts); end > 0; end -= 4 {
				out = append(out, goodVecs(texts[max(0, end-4):end])...)
			}
			return out, nil
		})},
	}
	for i, tt := range tests {
		s := newSuite(tt.e, tt.opts)
		var run func(*suite) error
		for _, c := range checks {
			if c.name == tt.check {
				run = c.run
			}
		}
		if run == nil {
			t.Fatalf("case %d: no check %q", i, tt.check)
		}
		err := run(s)
		if err == nil || errors.Is(err, errSkip) {
			t.Errorf("case %d: check %s passed a broken embedder (err %v)", i, tt.check, err)
		} else {
			t.Logf("case %d: %s: %v", i, tt.check, err)
		}
	}
}

// caching keeps the vectors it returned and returns the same slices for
// the same texts, so a caller's changes leak into later answers.
type caching struct {
	cache map[string][]float32
}

func (c *caching) Embed(_ context.Context, texts []string) ([][]float32, error) {
	if c.cache == nil {
		c.cache = map[string][]float32{}
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if v, ok := c.cache[t]; ok {
			out[i] = v
			continue
		}
		out[i] = goodVecs([]string{t})[0]
		c.cache[t] = out[i]
	}
	return out, nil
}

func TestSkips(t *testing.T) {
	s := newSuite(good, Options{})
	if err := s.deterministic(); !errors.Is(err, errSkip) {
		t.Errorf("Deterministic without Options.Deterministic: %v, want a skip", err)
	}
	if err := s.largeBatch(); !errors.Is(err, errSkip) {
		t.Errorf("LargeBatch without Options.LargeBatch: %v, want a skip", err)
	}
}

func TestSameWithTolerance(t *testing.T) {
	s := newSuite(good, Options{Tolerance: 0.01})
	a := []float32{1, 0, 0}
	if !s.same(a, []float32{0.999, 0.01, 0}) {
		t.Error("nearly equal vectors not the same within tolerance")
	}
	if s.same(a, []float32{0.8, 0.6, 0}) {
		t.Error("vectors at cosine 0.8 taken as the same")
	}
	if s.same(a, []float32{1, 0}) {
		t.Error("vectors of different lengths taken as the same")
	}
	d := newSuite(good, Options{Deterministic: true})
	if d.same(a, []float32{0.99999, 0, 0}) {
		t.Error("deterministic comparison is not exact")
	}
}

// TestConcurrentCheckCatchesUnsafeEmbedder runs the concurrency rule on an
// embedder that answers wrong vectors when calls overlap. After the first
// call (the reference), each call waits until two calls are in flight, so
// overlap is certain rather than likely.
func TestConcurrentCheckCatchesUnsafeEmbedder(t *testing.T) {
	var (
		calls, inFlight atomic.Int64
		met             = make(chan struct{})
		once            sync.Once
	)
	e := embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		v := goodVecs(texts)
		if calls.Add(1) == 1 {
			return v, nil
		}
		if inFlight.Add(1) >= 2 {
			once.Do(func() { close(met) })
		}
		defer inFlight.Add(-1)
		select {
		case <-met:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		for _, x := range v {
			x[0], x[1] = x[1], x[0] // a shared buffer's garbage
		}
		return v, nil
	})
	err := newSuite(e, Options{Concurrency: 4}).concurrent()
	if err == nil {
		t.Fatal("the concurrency rule passed an embedder that breaks under concurrent calls")
	}
	t.Log(err)
}
