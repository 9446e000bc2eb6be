package tokenizer

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// errAfter is a context that reports context.Canceled from its
// (limit+1)-th call of Err on: a cancellation that arrives while a call is
// under way, at a point fixed by the count, not by timing.
type errAfter struct {
	context.Context
	limit int64
	calls atomic.Int64
}

func (c *errAfter) Err() error {
	if c.calls.Add(1) > c.limit {
		return context.Canceled
	}
	return nil
}

// TestIndexContextStops checks that CL100K and Runes look at the context
// while they tokenize, both across many pre-tokens and inside one long
// pre-token, and stop with its error and no index.
func TestIndexContextStops(t *testing.T) {
	texts := map[string]string{
		"prose":  strings.Repeat("The cat's hat isn't red. Numbers 12345!\n\n", 1<<20/40),
		"letter": strings.Repeat("a", 1<<20),
		"ab":     strings.Repeat("ab", 1<<19),
	}
	for _, tok := range []struct {
		name string
		tok  Tokenizer
	}{{"cl100k", CL100K()}, {"runes", Runes()}} {
		for name, text := range texts {
			// The first look, before tokenizing, sees a live context.
			ctx := &errAfter{Context: context.Background(), limit: 1}
			ends, count, err := IndexContext(ctx, tok.tok, text)
			if !errors.Is(err, context.Canceled) || ends != nil || count != nil {
				t.Errorf("%s/%s: IndexContext = %d ends, %v; want no index, context.Canceled", tok.name, name, len(ends), err)
			}
			if n := ctx.calls.Load(); n != 2 {
				t.Errorf("%s/%s: Err called %d times, want 2 (it must stop at the first done)", tok.name, name, n)
			}
		}
	}
}

// TestIndexContextLive checks that IndexContext with a live context gives
// Index's result, for an Indexer and for the fallback on Encode.
func TestIndexContextLive(t *testing.T) {
	text := strings.Repeat("The cat's hat isn't red. "+strings.Repeat("x", 300)+"\n", 500)
	for _, tok := range []Tokenizer{CL100K(), Runes(), plain{CL100K()}} {
		want, wcount := Index(tok, text)
		got, gcount, err := IndexContext(context.Background(), tok, text)
		if err != nil || len(got) != len(want) {
			t.Fatalf("%T: IndexContext: %d ends, %v; Index: %d ends", tok, len(got), err, len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%T: end %d = %d, Index gives %d", tok, i, got[i], want[i])
			}
		}
		if g, w := gcount(3, 5000), wcount(3, 5000); g != w {
			t.Fatalf("%T: count = %d, Index's = %d", tok, g, w)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := IndexContext(ctx, plain{CL100K()}, text); !errors.Is(err, context.Canceled) {
		t.Errorf("fallback with a cancelled context: err = %v", err)
	}
}

// plain hides the Indexer capability of the Tokenizer it wraps.
type plain struct{ Tokenizer }
