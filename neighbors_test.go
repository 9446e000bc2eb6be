package rag_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/tokenizer"
)

var manual = rag.Document{ID: "manual", Title: "Manual", Content: strings.Join([]string{
	"The pump is installed in the basement.",
	"Before starting it, open the intake valve fully.",
	"To start the pump, press the green button for three seconds.",
	"If the pump hums but does not turn, close it down and call service.",
	"Keep the warranty card in a dry place.",
}, "\n\n")}

// paragraphN returns the n-th paragraph (from 0) of manual.
func paragraphN(n int) string { return strings.Split(manual.Content, "\n\n")[n] }

// promptOf returns the user message of the model's last request.
func promptOf(m *llmtest.Model) string {
	reqs := m.Requests()
	msgs := reqs[len(reqs)-1].Messages
	return msgs[len(msgs)-1].Content
}

func TestNeighborsGrowTheContextAndKeepTheCitation(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New()
	p := newPipeline(t, hashing(), func(o *rag.Options) { o.Model = m })
	if _, err := p.Ingest(ctx, manual); err != nil {
		t.Fatal(err)
	}
	q := "how to start the pump green button"
	search := &rag.SearchOptions{TopK: 1}
	small, err := p.Answer(ctx, q, &rag.AnswerOptions{Search: search})
	if err != nil {
		t.Fatal(err)
	}
	if len(small.Passages) != 1 || small.Passages[0].Chunk != 2 || small.Passages[0].Context != "" {
		t.Fatalf("fixture: want chunk 2 alone, got %+v", small.Passages)
	}
	smallPrompt := promptOf(m)
	if strings.Contains(smallPrompt, paragraphN(1)) {
		t.Fatal("fixture: the neighbour is in the prompt without Neighbors")
	}

	m2 := llmtest.New("Press the green button for three seconds [1].")
	big, err := p.Answer(ctx, q, &rag.AnswerOptions{Search: search, Neighbors: 1, Model: m2})
	if err != nil {
		t.Fatal(err)
	}
	prompt := promptOf(m2)
	want := paragraphN(1) + "\n" + paragraphN(2) + "\n" + paragraphN(3)
	if len(big.Passages) != 1 || big.Passages[0].Context != want || !strings.Contains(prompt, want) {
		t.Fatalf("context %q, want %q; prompt:\n%s", big.Passages[0].Context, want, prompt)
	}
	if len(prompt) <= len(smallPrompt) {
		t.Error("the prompt did not grow")
	}
	// The citation is the small chunk: its ID, offsets and text.
	c := big.Citations
	if len(c) != 1 || c[0].ID != document.RecordID("manual", 2) || c[0].Text != paragraphN(2) || manual.Content[c[0].Start:c[0].End] != paragraphN(2) {
		t.Errorf("citation %+v, want chunk 2", c)
	}

	// Enough neighbours reach both ends of the document, and stop there.
	all, err := p.Answer(ctx, q, &rag.AnswerOptions{Search: search, Neighbors: 5, Model: llmtest.New()})
	if err != nil {
		t.Fatal(err)
	}
	if got := all.Passages[0].Context; got != strings.ReplaceAll(manual.Content, "\n\n", "\n") {
		t.Errorf("Neighbors 5: %q", got)
	}
}

func TestNeighborsStayWithinTheBudget(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing(), func(o *rag.Options) { o.Model = llmtest.New() })
	if _, err := p.Ingest(ctx, manual); err != nil {
		t.Fatal(err)
	}
	tok := tokenizer.CL100K()
	q := "how to start the pump green button"
	// Room for the chunk and about one more: the context grows, but not
	// to the whole document, and the passage stays within the budget.
	alone := tok.Count("[1] Manual\n"+paragraphN(2)) + 1
	budget := alone + tok.Count(paragraphN(3)) + 2
	a, err := p.Answer(ctx, q, &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 1}, Neighbors: 4, ContextTokens: budget})
	if err != nil {
		t.Fatal(err)
	}
	ps := a.Passages
	if len(ps) != 1 || !strings.Contains(ps[0].Context, paragraphN(2)) {
		t.Fatalf("passages %+v", ps)
	}
	if n := strings.Count(ps[0].Context, "\n") + 1; n < 2 || n > 4 {
		t.Errorf("context of %d chunks, want 2 to 4: %q", n, ps[0].Context)
	}
	if got := tok.Count("[1] Manual\n"+ps[0].Context) + 1; got > budget {
		t.Errorf("passage of %d tokens over the budget of %d", got, budget)
	}
	// Neighbours never displace a retrieved passage: with the budget of
	// three small passages, all three are given.
	b, err := p.Answer(ctx, "pump", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 3}, Neighbors: 2, ContextTokens: 3 * alone})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Passages) != 3 {
		t.Errorf("%d passages, want 3", len(b.Passages))
	}
	// A chunk already in the prompt as a passage is not repeated as
	// another's neighbour.
	for _, p1 := range b.Passages {
		for _, p2 := range b.Passages {
			if p1.N != p2.N && strings.Contains(p1.Context, p2.Text) {
				t.Errorf("passage %d repeats passage %d", p1.N, p2.N)
			}
		}
	}
}

func TestNeighborsStayInTheSection(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing(), func(o *rag.Options) {
		o.Model = llmtest.New()
		o.Chunker = chunk.NewMarkdown(chunk.MarkdownOptions{})
	})
	doc := rag.Document{ID: "guide", Content: "# Install\n\nDownload the package.\n\n# Start\n\nRun the pump binary with the start flag.\n\n# Stop\n\nSend the stop signal."}
	if _, err := p.Ingest(ctx, doc); err != nil {
		t.Fatal(err)
	}
	a, err := p.Answer(ctx, "run pump binary start flag", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 1}, Neighbors: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Passages) != 1 || !strings.Contains(a.Passages[0].Text, "start flag") {
		t.Fatalf("fixture: %+v", a.Passages)
	}
	if hits, _ := p.Search(ctx, "pump", &rag.SearchOptions{TopK: 10}); len(hits) != 3 {
		t.Fatalf("fixture: %d chunks, want one a section", len(hits))
	}
	// Both neighbours are in other sections: none is added.
	if c := a.Passages[0].Context; c != "" {
		t.Errorf("neighbours from other sections: %q", c)
	}
}

func TestNeighborsJoinOverlappingChunksOnce(t *testing.T) {
	ctx := context.Background()
	content := "alpha beta gamma delta epsilon zeta eta theta iota kappa"
	// Windows of four words overlapping by one.
	overlapping := chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
		var starts, ends []int // of the words
		for i := 0; i < len(text); i++ {
			if text[i] != ' ' && (i == 0 || text[i-1] == ' ') {
				starts = append(starts, i)
			}
			if text[i] != ' ' && (i+1 == len(text) || text[i+1] == ' ') {
				ends = append(ends, i+1)
			}
		}
		var out []chunk.Chunk
		for i := 0; i+1 < len(starts); i += 3 {
			j := min(i+4, len(starts))
			start, end := starts[i], ends[j-1]
			out = append(out, chunk.Chunk{Text: text[start:end], Index: len(out), Start: start, End: end})
		}
		return out, nil
	})
	p := newPipeline(t, hashing(), func(o *rag.Options) { o.Model = llmtest.New(); o.Chunker = overlapping })
	if _, err := p.Ingest(ctx, rag.Document{ID: "greek", Content: content}); err != nil {
		t.Fatal(err)
	}
	a, err := p.Answer(ctx, "eta theta", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 1}, Neighbors: 1})
	if err != nil {
		t.Fatal(err)
	}
	ps := a.Passages
	if len(ps) != 1 || ps[0].Chunk != 2 {
		t.Fatalf("fixture: %+v", ps)
	}
	// Chunks 1 to 3 ("delta ... kappa"), their shared words written once.
	if want := content[strings.Index(content, "delta"):]; ps[0].Context != want {
		t.Errorf("context %q, want %q", ps[0].Context, want)
	}
}
