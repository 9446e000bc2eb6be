package chunk_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/tokenizer"
)

// sentencesOf chunks text with a Sentence chunker of size runes, which
// holds any one test sentence but never two, and returns the texts.
func sentencesOf(t *testing.T, text string, size int) []string {
	t.Helper()
	c := chunk.NewSentence(chunk.SentenceOptions{Size: size, Overlap: -1, Tokenizer: tokenizer.Runes()})
	cs, err := c.Chunk(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Text)
	}
	return out
}

func TestSentenceBoundaries(t *testing.T) {
	// Each sentence is 20-40 runes (CJK: 14-15 in 20), so two never fit and each chunk
	// is exactly one sentence when the boundaries are right.
	cases := []struct {
		text string
		want []string
	}{
		{"Dr. Smith went to Washington. He arrived on time.",
			[]string{"Dr. Smith went to Washington.", "He arrived on time."}},
		{"The value was 3.14 in this run. The next was 2.71 instead.",
			[]string{"The value was 3.14 in this run.", "The next was 2.71 instead."}},
		{`He shouted "Stop right now!" at them. They stopped at once.`,
			[]string{`He shouted "Stop right now!" at them.`, "They stopped at once."}},
		{"We used approx. five grams of it. The rest was discarded.",
			[]string{"We used approx. five grams of it.", "The rest was discarded."}},
		{"Written by J. R. R. Tolkien himself. It sold many copies.",
			[]string{"Written by J. R. R. Tolkien himself.", "It sold many copies."}},
		{"Is this the real life, truly? Is this just a fantasy...",
			[]string{"Is this the real life, truly?", "Is this just a fantasy..."}},
		{"今天天气很好，我们出去走走吧。明天可能会下雨，记得带伞！",
			[]string{"今天天气很好，我们出去走走吧。", "明天可能会下雨，记得带伞！"}},
		{"A heading without a full stop\n\nA paragraph follows the heading.",
			[]string{"A heading without a full stop", "A paragraph follows the heading."}},
	}
	for _, tc := range cases {
		size := 40
		if strings.Contains(tc.text, "。") {
			size = 20
		}
		got := sentencesOf(t, tc.text, size)
		if !slices.Equal(got, tc.want) {
			t.Errorf("sentences of %q:\n got %q\nwant %q", tc.text, got, tc.want)
		}
	}
}

func TestSentencePacksWholeSentences(t *testing.T) {
	s := "This is one sentence of moderate length. "
	text := strings.Repeat(s, 50)
	tok := tokenizer.CL100K()
	c := chunk.NewSentence(chunk.SentenceOptions{Size: 30, Overlap: 10})
	cs := runChecked(t, c, text, limits{tok: tok, size: 30, overlap: 10})
	if len(cs) < 2 {
		t.Fatalf("got %d chunks", len(cs))
	}
	want := strings.TrimSpace(s)
	for _, c := range cs {
		if !strings.HasPrefix(c.Text, "This") || !strings.HasSuffix(c.Text, "length.") {
			t.Errorf("chunk %d is not whole sentences: %q", c.Index, c.Text)
		}
		if n := strings.Count(c.Text, want); n < 1 {
			t.Errorf("chunk %d holds no whole sentence: %q", c.Index, c.Text)
		}
	}
	// With overlap 10 and sentences of 8 tokens, each chunk after the first
	// repeats the last sentence of the one before.
	for i := 1; i < len(cs); i++ {
		if cs[i].Start >= cs[i-1].End {
			t.Errorf("chunk %d does not overlap chunk %d", i, i-1)
		}
	}
}

func TestSentenceAbbreviationOption(t *testing.T) {
	text := "See Ex. Seven for details now. The end is near here."
	c := chunk.NewSentence(chunk.SentenceOptions{Size: 32, Overlap: -1, Tokenizer: tokenizer.Runes(), Abbreviations: []string{"Ex."}})
	cs, err := c.Chunk(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 || cs[0].Text != "See Ex. Seven for details now." {
		t.Fatalf("first chunk = %+v, want the first sentence whole", cs)
	}
}
