package rag_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/store/flat"
	"github.com/ragkit-go/rag/tokenizer"
)

// byParagraph makes one chunk per paragraph.
var byParagraph = chunk.Func(func(_ context.Context, text string) ([]chunk.Chunk, error) {
	var out []chunk.Chunk
	start := 0
	for _, p := range strings.SplitAfter(text, "\n\n") {
		if s := strings.TrimSpace(p); s != "" {
			out = append(out, chunk.Chunk{Text: s, Index: len(out), Start: start, End: start + len(p)})
		}
		start += len(p)
	}
	return out, nil
})

var answerDocs = []rag.Document{
	{ID: "go", Title: "Go", Source: "go.dev", Content: "Goroutines are lightweight threads managed by the Go runtime.\n\nChannels let goroutines communicate and synchronise."},
	{ID: "tides", Title: "Tides", Source: "noaa.gov", Content: "Tides are caused by the gravitational pull of the Moon and the Sun on the oceans."},
	{ID: "bread", Title: "Sourdough", Source: "bakery.example", Content: "Sourdough bread rises because wild yeast and lactic acid bacteria ferment the dough."},
}

// answerPipeline returns a pipeline on a fresh in-memory store, with the
// local Hashing embedder, fast retries and model m, holding answerDocs.
func answerPipeline(t *testing.T, m llm.Model, mod ...func(*rag.Options)) *rag.Pipeline {
	t.Helper()
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Store: s, Chunker: byParagraph, Model: m,
		Logger: slog.New(slog.DiscardHandler)}
	o.Ingest.Retry.MinBackoff = time.Millisecond
	o.Ingest.Retry.MaxBackoff = 2 * time.Millisecond
	for _, f := range mod {
		f(&o)
	}
	p, err := rag.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest(context.Background(), answerDocs...); err != nil {
		t.Fatal(err)
	}
	return p
}

// passageNumber returns the number the prompt gives the passage titled
// title, or 0.
func passageNumber(prompt, title string) int {
	for line := range strings.Lines(prompt) {
		var n int
		if _, err := fmt.Sscanf(line, "[%d]", &n); err == nil && strings.HasPrefix(line, fmt.Sprintf("[%d] %s ", n, title)) {
			return n
		}
	}
	return 0
}

func lastUser(req llm.Request) string {
	for _, m := range slices.Backward(req.Messages) {
		if m.Role == llm.User {
			return m.Content
		}
	}
	return ""
}

// citing returns a model that answers by citing the passage titled title,
// plus passage 99, which does not exist.
func citing(title string) *llmtest.Model {
	m := llmtest.New()
	m.Reply = func(req llm.Request) string {
		n := passageNumber(lastUser(req), title)
		return fmt.Sprintf("The Moon's gravity pulls the oceans [%d]. Also see [99].", n)
	}
	return m
}

func TestAnswerCitations(t *testing.T) {
	m := citing("Tides")
	p := answerPipeline(t, m)
	a, err := p.Answer(context.Background(), "What causes the tides?", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Passages) < 2 {
		t.Fatalf("only %d passages given to the model", len(a.Passages))
	}
	if len(a.Citations) != 1 {
		t.Fatalf("citations %+v", a.Citations)
	}
	c := a.Citations[0]
	if c.DocID != "tides" || c.Title != "Tides" || c.Source != "noaa.gov" || c.Text != answerDocs[1].Content {
		t.Fatalf("citation %+v", c)
	}
	if a.Passages[c.N-1].ID != c.ID {
		t.Fatalf("citation [%d] is not passage %d", c.N, c.N)
	}
	if want := fmt.Sprintf("The Moon's gravity pulls the oceans [%d]. Also see.", c.N); a.Text != want {
		t.Fatalf("text %q, want %q", a.Text, want)
	}
	if !slices.Equal(a.InvalidCitations, []int{99}) {
		t.Fatalf("invalid %v", a.InvalidCitations)
	}
	if a.Question != "What causes the tides?" || a.Query != a.Question || a.FinishReason != llm.FinishStop {
		t.Fatalf("%+v", a)
	}
	if a.Usage.PromptTokens == 0 || a.Usage.CompletionTokens == 0 {
		t.Fatalf("usage %+v", a.Usage)
	}

	// The prompt: the default system prompt, then the numbered passages,
	// each once, in order, with the question last.
	reqs := m.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model calls", len(reqs))
	}
	msgs := reqs[0].Messages
	if len(msgs) != 2 || msgs[0].Role != llm.System || msgs[0].Content != rag.DefaultSystemPrompt || msgs[1].Role != llm.User {
		t.Fatalf("messages %+v", msgs)
	}
	prompt := msgs[1].Content
	at := 0
	for _, ps := range a.Passages {
		i := strings.Index(prompt, fmt.Sprintf("[%d] %s (%s)\n%s", ps.N, ps.Title, ps.Source, ps.Text))
		if i < at {
			t.Fatalf("passage %d missing or out of order in %q", ps.N, prompt)
		}
		at = i
	}
	if !strings.HasSuffix(prompt, "Question: What causes the tides?") {
		t.Fatalf("prompt ends %q", prompt[max(0, len(prompt)-60):])
	}
}

func TestAnswerCitationGroups(t *testing.T) {
	m := llmtest.New("Both [2][1]. All three [1, 3]. A range [2-3]. Some [1, 42].")
	p := answerPipeline(t, m)
	a, err := p.Answer(context.Background(), "goroutines and tides and bread", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Passages) != 3 {
		t.Fatalf("%d passages", len(a.Passages))
	}
	var ns []int
	for _, c := range a.Citations {
		ns = append(ns, c.N)
		if c.ID != a.Passages[c.N-1].ID {
			t.Fatalf("citation %d maps to %s", c.N, c.ID)
		}
	}
	if !slices.Equal(ns, []int{2, 1, 3}) || !slices.Equal(a.InvalidCitations, []int{42}) {
		t.Fatalf("cited %v, invalid %v", ns, a.InvalidCitations)
	}
	if a.Text != "Both [2][1]. All three [1, 3]. A range [2-3]. Some [1]." {
		t.Fatalf("%q", a.Text)
	}
}

// Passages the model does not cite are not citations.
func TestAnswerUncited(t *testing.T) {
	p := answerPipeline(t, llmtest.New("The documents do not say."))
	a, err := p.Answer(context.Background(), "Who won the 1998 World Cup?", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Citations) != 0 || len(a.InvalidCitations) != 0 || len(a.Passages) == 0 {
		t.Fatalf("%d citations, %d invalid, %d passages", len(a.Citations), len(a.InvalidCitations), len(a.Passages))
	}
}

func TestAnswerNoPassages(t *testing.T) {
	m := llmtest.New("I found nothing [1].")
	p := answerPipeline(t, m)
	a, err := p.Answer(context.Background(), "anything", &rag.AnswerOptions{Search: &rag.SearchOptions{Filter: store.Eq(store.FieldDocID, "missing")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Passages) != 0 || len(a.Citations) != 0 || !slices.Equal(a.InvalidCitations, []int{1}) || a.Text != "I found nothing." {
		t.Fatalf("%+v", a)
	}
	if prompt := lastUser(m.Requests()[0]); !strings.Contains(prompt, "No passages were found") {
		t.Fatalf("prompt %q", prompt)
	}
}

// The passages fit the budget, best first, without duplicates.
func TestAnswerBudget(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New()
	p := answerPipeline(t, m)
	// Two more documents, each a copy of a chunk already stored.
	if _, err := p.Ingest(ctx,
		rag.Document{ID: "go-copy", Title: "Go", Source: "go.dev", Content: "Goroutines are lightweight threads  managed by the Go runtime."},
		rag.Document{ID: "long", Title: "Long", Content: strings.Repeat("Goroutines and channels and threads. ", 200)},
	); err != nil {
		t.Fatal(err)
	}
	tok := tokenizer.CL100K()
	for _, budget := range []int{60, 120, 3000} {
		a, err := p.Answer(ctx, "goroutines threads channels", &rag.AnswerOptions{ContextTokens: budget, Search: &rag.SearchOptions{TopK: 10}})
		if err != nil {
			t.Fatal(err)
		}
		texts := map[string]bool{}
		for _, ps := range a.Passages {
			k := strings.Join(strings.Fields(ps.Text), " ")
			if texts[k] {
				t.Fatalf("budget %d: passage %q given twice", budget, k)
			}
			texts[k] = true
		}
		// The whole prompt minus the question is the passages' block.
		prompt := lastUser(m.Requests()[len(m.Requests())-1])
		block := strings.TrimPrefix(strings.Split(prompt, "\n\nQuestion: ")[0], "Passages:\n\n")
		if n := tok.Count(block); n > budget {
			t.Fatalf("budget %d: passages take %d tokens", budget, n)
		}
		if budget == 3000 && len(a.Passages) != 5 { // 6 chunks, one a duplicate
			t.Fatalf("budget %d: %d passages", budget, len(a.Passages))
		}
		if budget == 60 && (len(a.Passages) == 0 || len(a.Passages) > 2) {
			t.Fatalf("budget %d: %d passages", budget, len(a.Passages))
		}
	}
}

func TestAnswerOptions(t *testing.T) {
	m := llmtest.New()
	p := answerPipeline(t, m)
	tmpl := template.Must(template.New("t").Parse("Q={{.Question}} N={{len .Passages}}\n{{range .Passages}}<{{.N}}:{{.DocID}}>{{end}}"))
	a, err := p.Answer(context.Background(), "bread", &rag.AnswerOptions{
		Search:       &rag.SearchOptions{TopK: 2, Filter: store.In(store.FieldDocID, "bread", "tides")},
		SystemPrompt: "Custom system.",
		Instructions: "Answer in French.",
		Template:     tmpl,
		MaxTokens:    77,
		Temperature:  llm.Temperature(0.5),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := m.Requests()[0]
	if req.Messages[0].Content != "Custom system.\n\nAnswer in French." {
		t.Fatalf("system %q", req.Messages[0].Content)
	}
	want := fmt.Sprintf("Q=bread N=2\n<1:%s><2:%s>", a.Passages[0].DocID, a.Passages[1].DocID)
	if lastUser(req) != want || a.Passages[0].DocID != "bread" {
		t.Fatalf("user %q, want %q", lastUser(req), want)
	}
	if req.MaxTokens != 77 || req.Temperature == nil || *req.Temperature != 0.5 {
		t.Fatalf("request %+v", req)
	}
	// A template that fails is reported before any model call.
	bad := template.Must(template.New("t").Parse("{{.Nope}}"))
	if _, err := p.Answer(context.Background(), "bread", &rag.AnswerOptions{Template: bad}); err == nil || m.Calls() != 1 {
		t.Fatalf("err %v, %d calls", err, m.Calls())
	}
	// A per-call model replaces the pipeline's.
	other := llmtest.New("other")
	if a, err := p.Answer(context.Background(), "bread", &rag.AnswerOptions{Model: other}); err != nil || a.Text != "other" || m.Calls() != 1 {
		t.Fatalf("%v %v", a, err)
	}
}

func TestAnswerErrors(t *testing.T) {
	ctx := context.Background()
	t.Setenv("OPENAI_API_KEY", "")
	m := llmtest.New()
	p := answerPipeline(t, m)
	if _, err := p.Answer(ctx, "  ", nil); !errors.Is(err, rag.ErrEmptyQuery) {
		t.Fatalf("err %v", err)
	}
	if _, err := p.Answer(ctx, "\xff", nil); !errors.Is(err, rag.ErrInvalidUTF8) {
		t.Fatalf("err %v", err)
	}
	if _, err := p.Answer(ctx, "q", &rag.AnswerOptions{Search: &rag.SearchOptions{Filter: &store.Filter{Op: "bogus"}}}); !errors.Is(err, store.ErrInvalidFilter) {
		t.Fatalf("err %v", err)
	}
	for _, err := range p.AnswerStream(ctx, "", nil) {
		if !errors.Is(err, rag.ErrEmptyQuery) {
			t.Fatalf("err %v", err)
		}
	}
	if m.Calls() != 0 {
		t.Fatalf("%d model calls for bad input", m.Calls())
	}
	noModel := answerPipeline(t, nil)
	if _, err := noModel.Answer(ctx, "q", nil); !errors.Is(err, rag.ErrNoModel) {
		t.Fatalf("err %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Answer(cancelled, "q", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// The pipeline retries the model like the embedder: retryable failures
// again, permanent ones not.
func TestAnswerRetries(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New("fine [1].")
	m.Fault = func(call int, _ llm.Request) error {
		if call <= 2 {
			return &provider.Error{StatusCode: 503}
		}
		return nil
	}
	p := answerPipeline(t, m)
	a, err := p.Answer(ctx, "tides", nil)
	if err != nil || a.Text != "fine [1]." || m.Calls() != 3 {
		t.Fatalf("%v %v after %d calls", a, err, m.Calls())
	}

	m = llmtest.New()
	m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 400, Err: llm.ErrInvalidRequest} }
	p = answerPipeline(t, m)
	_, err = p.Answer(ctx, "tides", nil)
	var ae *provider.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || m.Calls() != 1 {
		t.Fatalf("%v after %d calls", err, m.Calls())
	}
}

func TestAnswerStream(t *testing.T) {
	ctx := context.Background()
	m := citing("Tides")
	p := answerPipeline(t, m)
	var (
		pieces []string
		final  *rag.Answer
	)
	for c, err := range p.AnswerStream(ctx, "What causes the tides?", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if final != nil {
			t.Fatal("a chunk after the answer")
		}
		if c.Answer != nil {
			final = c.Answer
			continue
		}
		if c.Text == "" {
			t.Fatal("empty text chunk")
		}
		pieces = append(pieces, c.Text)
	}
	if final == nil {
		t.Fatal("no answer at the end")
	}
	if len(pieces) < 3 {
		t.Fatalf("%d pieces: not streamed", len(pieces))
	}
	if strings.Join(pieces, "") != final.Text {
		t.Fatalf("streamed %q, answer %q", strings.Join(pieces, ""), final.Text)
	}
	whole, err := p.Answer(ctx, "What causes the tides?", nil)
	if err != nil {
		t.Fatal(err)
	}
	if final.Text != whole.Text || len(final.Citations) != 1 || final.Citations[0].ID != whole.Citations[0].ID ||
		!slices.Equal(final.InvalidCitations, whole.InvalidCitations) || final.Usage != whole.Usage {
		t.Fatalf("stream %+v\nwhole %+v", final, whole)
	}
}

// A stream that breaks after the model started writing fails with the
// model's error, is not retried, and leaves the conversation as it was.
func TestAnswerStreamFailsMidStream(t *testing.T) {
	m := llmtest.New("one two three four five", "one two three four five")
	m.FailAfter = 2
	p := answerPipeline(t, m)
	conv := &rag.Conversation{}
	conv.Add("earlier", "answer")
	var text string
	var failure error
	n := 0
	for c, err := range p.AnswerStream(context.Background(), "tides", &rag.AnswerOptions{Conversation: conv}) {
		n++
		if err != nil {
			failure = err
			continue
		}
		if c.Answer != nil {
			t.Fatal("an answer after a broken stream")
		}
		text += c.Text
	}
	if !errors.Is(failure, llm.ErrIncomplete) || m.Calls() != 1 {
		t.Fatalf("err %v after %d calls", failure, m.Calls())
	}
	if !strings.HasPrefix("one two ", text) || text == "" || n > 3 {
		t.Fatalf("%d items, text %q", n, text)
	}
	if len(conv.Turns) != 1 {
		t.Fatalf("conversation changed: %+v", conv)
	}
}

func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestAnswerStreamCancel(t *testing.T) {
	m := llmtest.New(strings.Repeat("word ", 100))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.BeforeChunk = func(_ context.Context, i int) error {
		if i == 3 {
			cancel()
		}
		return nil
	}
	p := answerPipeline(t, m)
	before := runtime.NumGoroutine()
	pieces := 0
	var failure error
	for c, err := range p.AnswerStream(ctx, "tides", nil) {
		if err != nil {
			failure = err
			continue
		}
		if c.Answer != nil {
			t.Fatal("answer after cancel")
		}
		pieces++
	}
	if !errors.Is(failure, context.Canceled) || pieces > 3 {
		t.Fatalf("err %v after %d pieces", failure, pieces)
	}
	if m.Active() != 0 {
		t.Fatalf("%d model calls still running", m.Active())
	}
	settleGoroutines(t, before)
}

func TestAnswerStreamBreak(t *testing.T) {
	m := llmtest.New(strings.Repeat("word ", 100))
	p := answerPipeline(t, m)
	for range p.AnswerStream(context.Background(), "tides", nil) {
		break
	}
	if m.Active() != 0 || m.Calls() != 1 {
		t.Fatalf("%d active, %d calls", m.Active(), m.Calls())
	}
}

// End to end over HTTP: the OpenAI model on the fake server, streaming,
// then cancelled mid-stream: the request is aborted and nothing is left
// running.
func TestAnswerStreamOpenAI(t *testing.T) {
	reply := "Goroutines are cheap [1]. " + strings.Repeat("More words. ", 200)
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{reply, reply}, StreamDelay: time.Millisecond})
	t.Cleanup(srv.Close)
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: srv.Client()}})
	p := answerPipeline(t, m)

	var final *rag.Answer
	for c, err := range p.AnswerStream(context.Background(), "goroutines", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Answer != nil {
			final = c.Answer
		}
	}
	if final == nil || final.Text != reply || len(final.Citations) != 1 || final.Usage.CompletionTokens == 0 {
		t.Fatalf("%+v", final)
	}
	if !strings.Contains(srv.Requests()[0].Chat.LastUserMessage(), "Question: goroutines") {
		t.Fatal("question not sent")
	}

	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pieces := 0
	var failure error
	for _, err := range p.AnswerStream(ctx, "goroutines", nil) {
		if err != nil {
			failure = err
			continue
		}
		if pieces++; pieces == 5 {
			cancel()
		}
	}
	if !errors.Is(failure, context.Canceled) || pieces != 5 {
		t.Fatalf("err %v after %d pieces", failure, pieces)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().InFlight > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server is still streaming")
		}
		runtime.Gosched()
	}
	settleGoroutines(t, before)
}

func TestConversation(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New("Tides come from the Moon [1].", "Twice a day [2].")
	p := answerPipeline(t, m)
	var conv rag.Conversation
	if _, err := p.Answer(ctx, "What causes tides?", &rag.AnswerOptions{Conversation: &conv}); err != nil {
		t.Fatal(err)
	}
	for _, err := range p.AnswerStream(ctx, "How often?", &rag.AnswerOptions{Conversation: &conv}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []rag.Turn{{"What causes tides?", "Tides come from the Moon [1]."}, {"How often?", "Twice a day [2]."}}
	if !slices.Equal(conv.Turns, want) || conv.Summary != "" {
		t.Fatalf("%+v", conv)
	}
	// The second call saw the first turn, its citations stripped (their
	// numbers name other passages).
	msgs := m.Requests()[1].Messages
	if len(msgs) != 4 || msgs[1] != (llm.Message{Role: llm.User, Content: "What causes tides?"}) ||
		msgs[2] != (llm.Message{Role: llm.Assistant, Content: "Tides come from the Moon."}) {
		t.Fatalf("messages %+v", msgs)
	}
	// A failed answer leaves the conversation as it was.
	m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 401} }
	if _, err := p.Answer(ctx, "And the Sun?", &rag.AnswerOptions{Conversation: &conv}); err == nil || len(conv.Turns) != 2 {
		t.Fatalf("err %v, %d turns", err, len(conv.Turns))
	}
	conv.Reset()
	if len(conv.Turns) != 0 {
		t.Fatal("reset kept turns")
	}
}

func TestConversationSummary(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New()
	m.Reply = func(req llm.Request) string {
		if strings.Contains(req.Messages[0].Content, "You summarise conversations") {
			return "The user asked about bread and tides."
		}
		return "An answer."
	}
	p := answerPipeline(t, m)
	var conv rag.Conversation
	long := strings.Repeat("This is a long answer about many things. ", 10)
	for i := range 6 {
		conv.Add(fmt.Sprintf("Question %d?", i), long)
	}
	budget := 300
	a, err := p.Answer(ctx, "And then?", &rag.AnswerOptions{Conversation: &conv, HistoryTokens: budget})
	if err != nil {
		t.Fatal(err)
	}
	reqs := m.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls", len(reqs))
	}
	// The summary request held the oldest turns.
	if sum := lastUser(reqs[0]); !strings.Contains(sum, "User: Question 0?") || strings.Contains(sum, "Question 5?") {
		t.Fatalf("summary request %q", sum)
	}
	if conv.Summary != "The user asked about bread and tides." {
		t.Fatalf("summary %q", conv.Summary)
	}
	if n := len(conv.Turns); n < 2 || n > 5 || conv.Turns[n-1].Question != "And then?" || conv.Turns[n-2].Question != "Question 5?" {
		t.Fatalf("turns %+v", conv.Turns)
	}
	// The answer request: summary in the system prompt, the kept turns,
	// within the budget.
	msgs := reqs[1].Messages
	if !strings.HasSuffix(msgs[0].Content, "Summary of the conversation so far:\nThe user asked about bread and tides.") {
		t.Fatalf("system %q", msgs[0].Content)
	}
	tok := tokenizer.CL100K()
	hist := tok.Count(conv.Summary)
	for _, msg := range msgs[1 : len(msgs)-1] {
		hist += tok.Count(msg.Content) + 4
	}
	if hist > budget {
		t.Fatalf("history of %d tokens for a budget of %d", hist, budget)
	}
	// The usage adds up both calls.
	answerPrompt := 0
	for _, msg := range msgs {
		answerPrompt += tok.Count(msg.Content)
	}
	if a.Usage.PromptTokens <= answerPrompt {
		t.Fatalf("usage %+v counts only the answer's %d prompt tokens", a.Usage, answerPrompt)
	}
	// A failed summary fails the answer and changes nothing.
	before := conv
	before.Turns = slices.Clone(conv.Turns)
	for range 6 {
		conv.Add("more?", long)
	}
	snapshot := slices.Clone(conv.Turns)
	m.Fault = func(int, llm.Request) error { return &provider.Error{StatusCode: 400} }
	if _, err := p.Answer(ctx, "again?", &rag.AnswerOptions{Conversation: &conv, HistoryTokens: budget}); err == nil {
		t.Fatal("no error")
	}
	if !slices.Equal(conv.Turns, snapshot) || conv.Summary != before.Summary {
		t.Fatal("conversation changed by a failed answer")
	}
}

func TestRewriteQuery(t *testing.T) {
	ctx := context.Background()
	m := llmtest.New()
	m.Reply = func(req llm.Request) string {
		if strings.Contains(req.Messages[0].Content, "rewrite follow-up questions") {
			return "Standalone question: How does sourdough bread rise?"
		}
		return "It ferments [1]."
	}
	p := answerPipeline(t, m)
	var conv rag.Conversation
	conv.Add("Tell me about sourdough.", "It is a bread [1].")
	a, err := p.Answer(ctx, "How does it rise?", &rag.AnswerOptions{Conversation: &conv, RewriteQuery: true, Search: &rag.SearchOptions{TopK: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Query != "How does sourdough bread rise?" || a.Question != "How does it rise?" {
		t.Fatalf("query %q question %q", a.Query, a.Question)
	}
	if len(a.Citations) != 1 || a.Citations[0].DocID != "bread" {
		t.Fatalf("citations %+v", a.Citations)
	}
	reqs := m.Requests()
	if len(reqs) != 2 || !strings.Contains(lastUser(reqs[0]), "Next question: How does it rise?") || !strings.Contains(lastUser(reqs[0]), "User: Tell me about sourdough.") {
		t.Fatalf("rewrite request %+v", reqs[0])
	}
	// The model answers the question as asked.
	if !strings.HasSuffix(lastUser(reqs[1]), "Question: How does it rise?") {
		t.Fatalf("answer prompt %q", lastUser(reqs[1]))
	}
	// Without history there is nothing to rewrite: no extra call.
	m2 := llmtest.New("ok")
	p2 := answerPipeline(t, m2)
	if a, err := p2.Answer(ctx, "How does it rise?", &rag.AnswerOptions{RewriteQuery: true, Conversation: &rag.Conversation{}}); err != nil || a.Query != a.Question || m2.Calls() != 1 {
		t.Fatalf("%v %v, %d calls", a, err, m2.Calls())
	}
}

func TestExpiry(t *testing.T) {
	t.Run("chromem", func(t *testing.T) { testExpiry(t, answerPipeline(t, llmtest.New())) })
	t.Run("flat", func(t *testing.T) {
		s, err := flat.New(flat.Options{})
		if err != nil {
			t.Fatal(err)
		}
		testExpiry(t, answerPipeline(t, llmtest.New(), func(o *rag.Options) { o.Store = s }))
	})
}

func testExpiry(t *testing.T, p *rag.Pipeline) {
	ctx := context.Background()
	now := time.Now()
	if _, err := p.Ingest(ctx,
		rag.Document{ID: "old-news", Title: "Old", Content: "Tides news that expired an hour ago.", ExpiresAt: now.Add(-time.Hour)},
		rag.Document{ID: "fresh-news", Title: "Fresh", Content: "Tides news that expires tomorrow.", ExpiresAt: now.Add(24 * time.Hour)},
		rag.Document{ID: "meta-news", Title: "Meta", Content: "Tides news expired through metadata.", Metadata: map[string]any{rag.MetaExpiresAt: now.Add(-time.Minute)}},
	); err != nil {
		t.Fatal(err)
	}
	docs := func(hits []rag.Hit) []string {
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.DocID)
		}
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	hits, err := p.Search(ctx, "tides news", &rag.SearchOptions{TopK: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := docs(hits); slices.Contains(got, "old-news") || slices.Contains(got, "meta-news") || !slices.Contains(got, "fresh-news") || !slices.Contains(got, "tides") {
		t.Fatalf("search found %v", got)
	}
	// Filters of the caller still apply.
	hits, _ = p.Search(ctx, "tides news", &rag.SearchOptions{TopK: 100, Filter: store.Eq(store.FieldTitle, "Old")})
	if len(hits) != 0 {
		t.Fatalf("expired document found with a filter: %v", docs(hits))
	}
	all, _ := p.Search(ctx, "tides news", &rag.SearchOptions{TopK: 100, IncludeExpired: true})
	if got := docs(all); !slices.Contains(got, "old-news") || !slices.Contains(got, "meta-news") {
		t.Fatalf("IncludeExpired found %v", got)
	}
	for _, h := range all {
		if h.DocID == "fresh-news" {
			if v, ok := h.Metadata[rag.MetaExpiresAt].(time.Time); !ok || !v.Equal(now.Add(24*time.Hour)) {
				t.Fatalf("stored expiry %v", h.Metadata[rag.MetaExpiresAt])
			}
		}
	}
	a, err := p.Answer(ctx, "tides news", &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range a.Passages {
		if ps.DocID == "old-news" || ps.DocID == "meta-news" {
			t.Fatalf("expired passage given to the model: %s", ps.DocID)
		}
	}
	n, err := p.Purge(ctx)
	if err != nil || n != 2 {
		t.Fatalf("purged %d, %v", n, err)
	}
	all, _ = p.Search(ctx, "tides news", &rag.SearchOptions{TopK: 100, IncludeExpired: true})
	if got := docs(all); slices.Contains(got, "old-news") || slices.Contains(got, "meta-news") || !slices.Contains(got, "fresh-news") {
		t.Fatalf("after purge: %v", got)
	}
	if n, err := p.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("second purge: %d, %v", n, err)
	}
	// A new expiry is a new version of the document.
	rep, err := p.Ingest(ctx, rag.Document{ID: "fresh-news", Title: "Fresh", Content: "Tides news that expires tomorrow.", ExpiresAt: now.Add(48 * time.Hour)})
	if err != nil || rep.Stored != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	// Reserved metadata is checked.
	rep, err = p.Ingest(ctx,
		rag.Document{ID: "bad1", Content: "x", Metadata: map[string]any{rag.MetaExpiresAt: "tomorrow"}},
		rag.Document{ID: "bad2", Content: "x", Metadata: map[string]any{rag.MetaSummaryChunk: 3}},
		rag.Document{ID: "bad3", Content: "x", Metadata: map[string]any{rag.MetaTags: "a"}},
	)
	if !errors.Is(err, rag.ErrInvalidDocument) || rep.Failed != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
}

// Purge on a pipeline that has embedded nothing yet, over many expired
// documents (more than one lookup batch).
func TestPurgeMany(t *testing.T) {
	ctx := context.Background()
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := embed.NewHashing(embed.HashingOptions{Dimensions: 32})
	p1, err := rag.New(rag.Options{Embedder: e, Store: s})
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Second)
	var docs []rag.Document
	for i := range 1500 {
		d := rag.Document{ID: fmt.Sprint("d", i), Content: fmt.Sprint("document number ", i)}
		if i%3 != 0 {
			d.ExpiresAt = past
		}
		docs = append(docs, d)
	}
	if _, err := p1.Ingest(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	// A new pipeline over the same store, as after a restart; its
	// embedder does not say its dimension.
	var calls atomic.Int64
	blind := embed.Func(func(ctx context.Context, texts []string) ([][]float32, error) {
		calls.Add(1)
		return e.Embed(ctx, texts)
	})
	p2, err := rag.New(rag.Options{Embedder: blind, Store: s})
	if err != nil {
		t.Fatal(err)
	}
	n, err := p2.Purge(ctx)
	if err != nil || n != 1000 {
		t.Fatalf("purged %d, %v", n, err)
	}
	// The store lists the expired documents: no embedding call at all.
	if c := calls.Load(); c != 0 {
		t.Fatalf("Purge made %d embedding calls", c)
	}
	hits, _ := p2.Search(ctx, "document number", &rag.SearchOptions{TopK: 2000, IncludeExpired: true})
	if len(hits) != 500 {
		t.Fatalf("%d documents left", len(hits))
	}
}

// Expired documents are hidden from lexical and hybrid search too, and
// Purge removes them from the lexical index.
func TestExpiryLexical(t *testing.T) {
	ctx := context.Background()
	p := answerPipeline(t, llmtest.New(), func(o *rag.Options) { o.Lexical = &rag.LexicalOptions{} })
	if _, err := p.Ingest(ctx,
		rag.Document{ID: "gone", Content: "The quokka smiles.", ExpiresAt: time.Now().Add(-time.Minute)},
		rag.Document{ID: "kept", Content: "The wombat digs.", ExpiresAt: time.Now().Add(time.Hour)},
	); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []rag.SearchMode{rag.LexicalSearch, rag.HybridSearch} {
		hits, err := p.Search(ctx, "quokka", &rag.SearchOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.DocID == "gone" {
				t.Fatalf("mode %v: expired document found", mode)
			}
		}
		hits, _ = p.Search(ctx, "wombat", &rag.SearchOptions{Mode: mode})
		if len(hits) == 0 || hits[0].DocID != "kept" {
			t.Fatalf("mode %v: live document not found: %+v", mode, hits)
		}
	}
	hits, _ := p.Search(ctx, "quokka", &rag.SearchOptions{Mode: rag.LexicalSearch, IncludeExpired: true})
	if len(hits) != 1 || hits[0].DocID != "gone" {
		t.Fatalf("IncludeExpired: %+v", hits)
	}
	if n, err := p.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	hits, _ = p.Search(ctx, "quokka", &rag.SearchOptions{Mode: rag.LexicalSearch, IncludeExpired: true})
	if len(hits) != 0 {
		t.Fatalf("purged document still in the lexical index: %+v", hits)
	}
}

// Citations stream with the piece of text that completes their marker,
// long before the answer ends; markers inside code are not citations; the
// final answer lists exactly the passages streamed.
func TestAnswerStreamCitations(t *testing.T) {
	reply := "Goroutines are cheap [1]. " + strings.Repeat("More words. ", 50) +
		"Use `ch[2]` and tides [2] or [9]. " + strings.Repeat("Tail words. ", 50)
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{reply}})
	t.Cleanup(srv.Close)
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: srv.Client()}})
	p := answerPipeline(t, m)

	var (
		text     strings.Builder
		streamed []rag.Passage
		at       []int // length of the text when each citation arrived
		final    *rag.Answer
	)
	for c, err := range p.AnswerStream(context.Background(), "goroutines and tides", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Answer != nil {
			final = c.Answer
			continue
		}
		text.WriteString(c.Text)
		for _, cp := range c.Citations {
			marker := fmt.Sprintf("[%d]", cp.N)
			if !strings.Contains(c.Text, marker) {
				t.Fatalf("citation %d came with %q, which lacks its marker", cp.N, c.Text)
			}
			streamed = append(streamed, cp)
			at = append(at, text.Len())
		}
	}
	if final == nil {
		t.Fatal("no answer")
	}
	want := strings.Replace(reply, " or [9]", "", 1)
	if final.Text != want {
		t.Fatalf("answer %q\nwant %q", final.Text, want)
	}
	if len(streamed) != 2 || len(final.Citations) != 2 {
		t.Fatalf("streamed %d citations, answer has %d", len(streamed), len(final.Citations))
	}
	for i := range streamed {
		if streamed[i].ID != final.Citations[i].ID || streamed[i].N != final.Citations[i].N {
			t.Fatalf("citation %d streamed %s, answer %s", i, streamed[i].ID, final.Citations[i].ID)
		}
	}
	if first := strings.Index(want, "[1]") + 3; at[0] > first+len(" Goroutines") || at[0] >= len(want)/2 {
		t.Fatalf("citation 1 arrived after %d bytes; its marker ends at %d", at[0], first)
	}
	if !slices.Equal(final.InvalidCitations, []int{9}) {
		t.Fatalf("invalid %v", final.InvalidCitations)
	}
}

// Against servers that stream no usage chunk and no finish reason, an
// answer is complete, its finish reason unknown and its usage marked as
// not reported; an in-band invalid_api_key fails at once, unretried.
func TestAnswerStreamServerQuirks(t *testing.T) {
	ctx := context.Background()
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"Tides [1].", "Tides [1]."}, NoUsageChunk: true, NoFinishReason: true})
	t.Cleanup(srv.Close)
	m := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: srv.Client()}})
	p := answerPipeline(t, m)
	var final *rag.Answer
	for c, err := range p.AnswerStream(ctx, "tides", nil) {
		if err != nil {
			t.Fatal(err)
		}
		final = c.Answer
	}
	if final == nil || final.Text != "Tides [1]." || final.FinishReason != llm.FinishUnknown || final.UsageReported || final.Usage != (llm.Usage{}) {
		t.Fatalf("%+v", final)
	}
	whole, err := p.Answer(ctx, "tides", nil)
	if err != nil || !whole.UsageReported || whole.Usage.PromptTokens == 0 {
		t.Fatalf("Generate reports usage: %+v, %v", whole, err)
	}

	bad := openaitest.NewServer(openaitest.Options{Fault: func(openaitest.Request) *openaitest.Fault {
		return &openaitest.Fault{InBand: true, Code: "invalid_api_key", Message: "Incorrect API key provided."}
	}})
	t.Cleanup(bad.Close)
	m = llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: bad.URL(), HTTPClient: bad.Client()}})
	p = answerPipeline(t, m)
	for _, err = range p.AnswerStream(ctx, "tides", nil) {
	}
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.StatusCode != 401 || pe.Code != "invalid_api_key" || provider.Retryable(err) {
		t.Fatalf("err %v", err)
	}
	if n := bad.Stats().ChatRequests; n != 1 {
		t.Fatalf("%d requests: a permanent in-band error was retried", n)
	}
}
