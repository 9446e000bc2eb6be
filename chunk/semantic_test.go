package chunk_test

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/tokenizer"
)

// bagOfWords is a deterministic local embedder for tests: each lower-cased
// word of letters adds 1 to one of 64 dimensions chosen by its FNV hash,
// and the vector is normalized. Texts sharing words are close.
func bagOfWords(calls *[][]string, mu *sync.Mutex) embed.Func {
	return func(ctx context.Context, texts []string) ([][]float32, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if calls != nil {
			mu.Lock()
			*calls = append(*calls, append([]string(nil), texts...))
			mu.Unlock()
		}
		out := make([][]float32, len(texts))
		for i, t := range texts {
			v := make([]float32, 64)
			for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return r < 'a' || r > 'z' }) {
				h := fnv.New32a()
				h.Write([]byte(w))
				v[h.Sum32()%64]++
			}
			var n float64
			for _, x := range v {
				n += float64(x * x)
			}
			if n > 0 {
				for k := range v {
					v[k] /= float32(math.Sqrt(n))
				}
			}
			out[i] = v
		}
		return out, nil
	}
}

// topics returns n sentences about cats followed by n about money, and the
// offset where the second topic starts.
func topics(n int) (string, int) {
	// Each topic has its own words, shared by its sentences and by no
	// sentence of the other topic.
	cats := []string{"Cat kitten purr fur.", "Kitten cat whiskers nap.", "Fur purr cat mat.",
		"Whiskers kitten mat purr.", "Nap fur whiskers cat.", "Mat nap kitten fur."}
	money := []string{"Bank loan interest stock.", "Stock market bank rate.", "Interest loan market bond.",
		"Rate bond stock bank.", "Market interest rate loan.", "Bond bank market stock."}
	var b strings.Builder
	for i := range n {
		b.WriteString(cats[i%len(cats)] + " ")
	}
	at := b.Len()
	for i := range n {
		b.WriteString(money[i%len(money)] + " ")
	}
	return b.String(), at
}

func TestSemanticBreaksAtTopicChange(t *testing.T) {
	text, at := topics(20) // about 110 tokens a topic, above the default MinSize
	for _, tc := range []struct {
		rule   chunk.Threshold
		amount float64
	}{{chunk.ThresholdPercentile, 0}, {chunk.ThresholdStdDev, 2}, {chunk.ThresholdInterquartile, 0}} {
		t.Run(tc.rule.String(), func(t *testing.T) {
			c := chunk.NewSemantic(bagOfWords(nil, nil), chunk.SemanticOptions{Threshold: tc.rule, Amount: tc.amount})
			cs := runChecked(t, c, text, limits{tok: tokenizer.CL100K(), size: chunk.DefaultSize})
			if len(cs) != 2 {
				t.Fatalf("got %d chunks, want 2: %q", len(cs), texts(cs))
			}
			if cs[1].Start != at {
				t.Errorf("break at %d, want %d (the topic change): %q", cs[1].Start, at, texts(cs))
			}
		})
	}
}

func texts(cs []chunk.Chunk) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

func TestSemanticBatchesAndWindow(t *testing.T) {
	text, _ := topics(25) // 50 sentences
	var calls [][]string
	var mu sync.Mutex
	c := chunk.NewSemantic(bagOfWords(&calls, &mu), chunk.SemanticOptions{BatchSize: 16, Window: 1})
	if _, err := c.Chunk(context.Background(), text); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range calls {
		if len(b) > 16 || len(b) == 0 {
			t.Errorf("batch of %d texts, want 1..16", len(b))
		}
		total += len(b)
	}
	if total != 50 || len(calls) != 4 {
		t.Errorf("%d texts in %d calls, want 50 in 4", total, len(calls))
	}
	// Window 1: the second group is sentences 1-3.
	if first := calls[0][1]; strings.Count(first, ".") != 3 {
		t.Errorf("group 1 = %q, want three sentences", first)
	}
}

// TestSemanticJoinsSmallToCloserSide checks MinSize: with interquartile
// breaks around the topic change, the one-sentence pieces there join the
// topic they are closer to, and without a minimum they stay apart.
func TestSemanticJoinsSmallToCloserSide(t *testing.T) {
	text, at := topics(20)
	c := chunk.NewSemantic(bagOfWords(nil, nil), chunk.SemanticOptions{Threshold: chunk.ThresholdInterquartile, MinSize: -1})
	cs := runChecked(t, c, text, limits{tok: tokenizer.CL100K(), size: chunk.DefaultSize})
	if len(cs) <= 2 {
		t.Fatalf("without MinSize got %d chunks, want the small pieces apart", len(cs))
	}
	c = chunk.NewSemantic(bagOfWords(nil, nil), chunk.SemanticOptions{Threshold: chunk.ThresholdInterquartile, MinSize: 40})
	cs = runChecked(t, c, text, limits{tok: tokenizer.CL100K(), size: chunk.DefaultSize})
	if len(cs) != 2 || cs[1].Start != at {
		t.Fatalf("with MinSize got %q, want two chunks split at %d", texts(cs), at)
	}
}

func TestSemanticMinAndMaxSize(t *testing.T) {
	text, _ := topics(40)
	tok := tokenizer.CL100K()
	c := chunk.NewSemantic(bagOfWords(nil, nil), chunk.SemanticOptions{Size: 60, MinSize: 30, Threshold: chunk.ThresholdPercentile, Amount: 50})
	cs := runChecked(t, c, text, limits{tok: tok, size: 60})
	for i, ch := range cs {
		if ch.Tokens < 30 && i != len(cs)-1 && tok.Count(ch.Text+" "+cs[i+1].Text) <= 60 {
			t.Errorf("chunk %d has %d tokens < MinSize though it could join the next", i, ch.Tokens)
		}
		if !strings.HasSuffix(ch.Text, ".") {
			t.Errorf("chunk %d does not end at a sentence end: %q", i, ch.Text)
		}
	}
}

func TestSemanticErrors(t *testing.T) {
	text, _ := topics(3)
	boom := errors.New("boom")
	c := chunk.NewSemantic(embed.Func(func(context.Context, []string) ([][]float32, error) { return nil, boom }), chunk.SemanticOptions{})
	if _, err := c.Chunk(context.Background(), text); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	short := embed.Func(func(_ context.Context, ts []string) ([][]float32, error) { return make([][]float32, len(ts)-1), nil })
	c = chunk.NewSemantic(short, chunk.SemanticOptions{})
	if _, err := c.Chunk(context.Background(), text); !errors.Is(err, chunk.ErrBadEmbedding) {
		t.Errorf("err = %v, want ErrCountMismatch", err)
	}
	nan := embed.Func(func(_ context.Context, ts []string) ([][]float32, error) {
		out := make([][]float32, len(ts))
		for i := range out {
			out[i] = []float32{float32(math.NaN())}
		}
		return out, nil
	})
	c = chunk.NewSemantic(nan, chunk.SemanticOptions{})
	if _, err := c.Chunk(context.Background(), text); !errors.Is(err, chunk.ErrBadEmbedding) {
		t.Errorf("err = %v, want ErrInvalidVector", err)
	}
	// One sentence needs no embedding.
	cs, err := c.Chunk(context.Background(), "Just one sentence here.")
	if err != nil || len(cs) != 1 {
		t.Errorf("one sentence: %v, %v", cs, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewSemantic(nil) did not panic")
		}
	}()
	chunk.NewSemantic(nil, chunk.SemanticOptions{})
}
