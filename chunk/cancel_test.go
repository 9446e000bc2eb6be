package chunk_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag/internal/pathological"
	"github.com/ragkit-go/rag/tokenizer"
)

// countingTokenizer wraps a Tokenizer, hiding its Indexer capability so
// that chunkers count every chunk with Count, and counts the Count calls;
// on call number cancelAt it cancels the Chunk call's context.
type countingTokenizer struct {
	tokenizer.Tokenizer
	cancelAt int64
	cancel   context.CancelFunc
	calls    atomic.Int64
}

func (c *countingTokenizer) Count(text string) int {
	if c.calls.Add(1) == c.cancelAt {
		c.cancel()
	}
	return c.Tokenizer.Count(text)
}

// TestCancelWhileChunking cancels the context from inside a Chunk call,
// on the tokenizer's third Count (that is, after the third chunk or so was
// measured), and checks that every chunker returns context.Canceled after
// at most a few more counts, long before it would have finished the text.
func TestCancelWhileChunking(t *testing.T) {
	texts := map[string]string{
		"prose":          repeatTo(corpus["prose"]+"\n\n"+corpus["paras"], 1<<20),
		"random-letters": randomLetters(1<<20, 3),
	}
	const cancelAt = 3
	for _, mk := range makers() {
		for name, text := range texts {
			t.Run(mk.name+"/"+name, func(t *testing.T) {
				// The whole text, uncancelled, for the number of counts it takes.
				full := &countingTokenizer{Tokenizer: tokenizer.CL100K(), cancelAt: -1}
				c, _ := mk.make(128, 0, full)
				if _, err := c.Chunk(context.Background(), text); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				tok := &countingTokenizer{Tokenizer: tokenizer.CL100K(), cancelAt: cancelAt, cancel: cancel}
				c, _ = mk.make(128, 0, tok)
				cs, err := c.Chunk(ctx, text)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v (%d chunks), want context.Canceled", err, len(cs))
				}
				if cs != nil {
					t.Errorf("got %d chunks with the error", len(cs))
				}
				n, all := tok.calls.Load(), full.calls.Load()
				if all < 20*cancelAt {
					t.Fatalf("the whole text takes only %d counts: too short to tell", all)
				}
				if n > cancelAt+8 {
					t.Errorf("%d counts after cancelling at count %d (the whole text takes %d)", n, cancelAt, all)
				}
			})
		}
	}
}

// indexSpy is a ContextIndexer around CL100K that cancels the context of
// the Chunk call when asked to index (that is, once the chunker has
// started) and records the error its IndexContext returned.
type indexSpy struct {
	tokenizer.Tokenizer
	cancel context.CancelFunc
	err    error
}

func (s *indexSpy) Index(text string) ([]int32, func(s, e int) int) {
	return s.Tokenizer.(tokenizer.Indexer).Index(text)
}

func (s *indexSpy) IndexContext(ctx context.Context, text string) ([]int32, func(s, e int) int, error) {
	s.cancel()
	ends, count, err := s.Tokenizer.(tokenizer.ContextIndexer).IndexContext(ctx, text)
	s.err = err
	return ends, count, err
}

// TestCancelWhileIndexing cancels chunkers as they start tokenizing a
// 4 MB line with no white space (one cl100k pre-token), and checks that
// they hand their context to the tokenizer, which stops (that it also
// stops midway is TestIndexContextStops in package tokenizer), rather
// than noticing only once the whole text is tokenized.
func TestCancelWhileIndexing(t *testing.T) {
	for _, line := range pathological.Lines(4 << 20) {
		for _, mk := range makers() {
			t.Run(line.Name+"/"+mk.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				spy := &indexSpy{Tokenizer: tokenizer.CL100K(), cancel: cancel}
				c, _ := mk.make(512, 0, spy)
				if _, err := c.Chunk(ctx, line.Text); !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if !errors.Is(spy.err, context.Canceled) {
					t.Errorf("the tokenizer returned %v: it did not get the cancelled context", spy.err)
				}
			})
		}
	}
}

func repeatTo(s string, n int) string {
	out := s
	for len(out) < n {
		out += s
	}
	return out
}
