package rag

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/internal/cite"
	"github.com/ragkit-go/rag/internal/enrich"
	"github.com/ragkit-go/rag/internal/telemetry"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/tokenizer"
)

// ErrNoModel: Answer, AnswerStream or enrichment need a chat model, and
// the pipeline has none.
var ErrNoModel = errors.New("rag: no chat model: set Options.Model (e.g. llm.NewOpenAI with an APIKey, or any OpenAI-compatible server with BaseURL) or the OPENAI_API_KEY environment variable (OPENAI_BASE_URL for a local server)")

// Defaults of AnswerOptions.
const (
	// DefaultAnswerTopK is the number of passages retrieved for an answer.
	DefaultAnswerTopK = 8
	// DefaultContextTokens is the budget of the passages in the prompt,
	// in cl100k_base tokens.
	DefaultContextTokens = 3000
	// DefaultHistoryTokens is the budget of the conversation history in
	// the prompt, in cl100k_base tokens.
	DefaultHistoryTokens = 1500
)

// DefaultSystemPrompt is the system prompt of Answer: answers grounded in
// the numbered passages, inline [n] citations, and a plain statement when
// the passages do not hold the answer.
const DefaultSystemPrompt = `You answer questions using only the numbered passages provided with each question.
- Base every statement on the passages, and cite the passages that support it right after it, by their numbers in square brackets: [1], or [2][3] for several.
- Cite only passages you actually used. Never cite a number that is not in the list.
- If the passages do not contain the answer, say so plainly (for example: "The documents do not say.") and do not answer from your own knowledge.
- Be concise.`

// DefaultPromptTemplate renders the user message of Answer from a
// PromptData: the passages, then the question.
const DefaultPromptTemplate = `{{if .Passages}}Passages:

{{.Context}}{{else}}No passages were found for this question.{{end}}

Question: {{.Question}}`

var defaultTemplate = template.Must(template.New("answer").Parse(DefaultPromptTemplate))

// PromptData is what an answer prompt template is executed with.
type PromptData struct {
	// Question is the question as asked.
	Question string
	// Passages are the passages given to the model, numbered from 1.
	Passages []Passage
	// Context is Passages formatted for the model: for each, a line
	// "[n] Title, p. 12 (source)" (the location when the document had
	// Spans) and the text, separated by blank lines.
	Context string
}

// AnswerOptions are the parameters of one Answer or AnswerStream call. A
// nil *AnswerOptions means the defaults.
type AnswerOptions struct {
	// Search configures retrieval: filters, reranking, TopK (default
	// DefaultAnswerTopK rather than DefaultTopK).
	Search *SearchOptions
	// Conversation, if set, holds the earlier turns of the chat, which the
	// model sees before the question. Once the answer is complete, Answer
	// appends the new turn to it; when the history outgrows HistoryTokens,
	// the oldest turns are replaced by a summary the model writes. The
	// caller keeps the Conversation between calls, and must not pass the
	// same one to two calls at once.
	Conversation *Conversation
	// RewriteQuery, when the conversation has earlier turns, has the model
	// turn the question into a standalone one ("and its population?" →
	// "What is the population of Lyon?") before retrieval. The model
	// still answers the question as asked, with the conversation.
	RewriteQuery bool
	// ContextTokens is the budget of the passages in the prompt, in
	// cl100k_base tokens. Default: DefaultContextTokens.
	ContextTokens int
	// Neighbors, when positive, gives the model the text around each
	// retrieved chunk (small-to-big: small chunks retrieve precisely, the
	// text around them answers): up to this many neighbouring chunks of
	// the same document on each side, nearest first and best passage
	// first, as long as the passages stay within ContextTokens. The
	// retrieved chunks are packed first, so neighbours never displace a
	// passage. A neighbour is not added when it lies in another section
	// (other Headings), is a summary, or is already in the prompt, and
	// growth stops there on that side. Each passage still cites its
	// retrieved chunk: Passage.Hit is that chunk, Passage.Context the
	// text the model saw. The neighbours are read from the store by a
	// search filtered on the document's ID.
	Neighbors int
	// HistoryTokens is the budget of the conversation history in the
	// prompt. Default: DefaultHistoryTokens.
	HistoryTokens int
	// MaxTokens bounds the answer; 0 means the model's default.
	MaxTokens int
	// Temperature of the answer; nil means the model's default.
	Temperature *float64
	// SystemPrompt replaces DefaultSystemPrompt.
	SystemPrompt string
	// Instructions are added to the system prompt: a language, a tone, a
	// format.
	Instructions string
	// Template renders the user message from a PromptData. Default:
	// DefaultPromptTemplate.
	Template *template.Template
	// Model, if set, replaces the pipeline's model for this call (with the
	// pipeline's retries).
	Model llm.Model
}

// Passage is a retrieved chunk as the model saw it, numbered from 1 in the
// order of the prompt.
type Passage struct {
	N int
	Hit
	// Context is the text the model saw when it is wider than the chunk:
	// the chunk with its neighbours (AnswerOptions.Neighbors), in document
	// order. Empty when the model saw Hit.Text alone.
	Context string
}

// Answer is a generated answer with the passages it cites.
type Answer struct {
	// Question is the question as asked; Query is what was searched: the
	// question, or its standalone rewrite (AnswerOptions.RewriteQuery).
	Question, Query string
	// Text is the answer, with inline citations [n] of Passages. Citation
	// numbers that named no passage have been removed from it.
	Text string
	// Citations are the passages the answer cites, in the order of their
	// first citation. Passages given to the model but not cited are not
	// among them.
	Citations []Passage
	// Passages are all the passages given to the model, by number.
	Passages []Passage
	// InvalidCitations are the numbers the model cited that name no
	// passage, in order of first appearance.
	InvalidCitations []int
	// FinishReason is the model's: llm.FinishStop, or llm.FinishLength
	// when the answer reached MaxTokens.
	FinishReason string
	// Usage adds up every model call made for the answer: the
	// conversation summary, the query rewrite and the answer.
	Usage llm.Usage
	// UsageReported says every one of those calls reported its usage.
	// When false (a server that streams no usage chunk, say), Usage adds
	// up only the calls that did, and may be zero without meaning zero
	// tokens.
	UsageReported bool
}

// AnswerDelta is one item of AnswerStream: a piece of the answer's text,
// or, last, the whole answer with its citations.
type AnswerDelta struct {
	Text string
	// Citations are the passages first cited in Text, in order, as soon as
	// their marker [n] is complete, so a UI can show the sources while the
	// answer is written. Together, the chunks' Citations are exactly the
	// final Answer's Citations.
	Citations []Passage
	Answer    *Answer // set on the last chunk only
}

// generation is the pipeline's chat model and enrichment.
type generation struct {
	model  llm.Model        // with retries; nil when the pipeline has none
	enrich *enrich.Enricher // nil when enrichment is off
}

func (p *Pipeline) initGeneration(opts Options) error {
	m := opts.Model
	if m == nil {
		if om, err := llm.OpenAIFromEnv(llm.OpenAIOptions{}); err == nil {
			m = om
		}
	}
	if m != nil {
		p.gen.model = p.retrying(m)
	}
	if opts.Enrich != nil {
		e, err := newEnricher(p, *opts.Enrich)
		if err != nil {
			return err
		}
		p.gen.enrich = e
	}
	return nil
}

// retrying wraps m with the pipeline's retry policy, unless it retries
// already, and traces its calls (retries included).
func (p *Pipeline) retrying(m llm.Model) llm.Model {
	for x := m; x != nil; {
		if _, ok := x.(*llm.Retrier); ok {
			return telemetry.TraceModel(p.tel, m, p.logger)
		}
		u, ok := x.(interface{ Unwrap() llm.Model })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	policy := p.modelRetry
	onRetry := policy.OnRetry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		telemetry.LogRetry(p.logger, telemetry.OpChat, attempt, wait, err)
		if onRetry != nil {
			onRetry(attempt, err, wait)
		}
	}
	return telemetry.TraceModel(p.tel, llm.Retry(m, policy), p.logger)
}

// answerRun is one answer being prepared and generated.
type answerRun struct {
	p               *Pipeline
	model           llm.Model
	question, query string
	passages        []Passage
	req             llm.Request
	usage           llm.Usage     // of the calls made before the answer
	unreported      bool          // one of those calls did not report its usage
	conv            *Conversation // the caller's, updated on success
	condensed       *Conversation // the history after summarising, if it was
}

// Answer answers question from the pipeline's documents: it retrieves
// passages (Search with opts.Search, the pipeline's reranker included),
// keeps the best that fit the token budget without duplicates, numbers
// them [1], [2], ..., asks the model for an answer grounded in them with
// inline citations, and returns the answer with the passages it cited.
//
// An empty question fails with ErrEmptyQuery, a pipeline without a model
// with ErrNoModel, both before any call. Errors of the search or of the
// model are returned wrapped; the conversation, if any, is then left as
// it was.
func (p *Pipeline) Answer(ctx context.Context, question string, opts *AnswerOptions) (*Answer, error) {
	return p.own.Answer(ctx, question, opts)
}

// Answer is Pipeline.Answer within the scope.
func (sc *scope) Answer(ctx context.Context, question string, opts *AnswerOptions) (a *Answer, err error) {
	p := sc.p
	sctx, op := p.startAnswer(ctx, question, opts, false)
	defer func() { endAnswer(ctx, op, a, err) }()
	ctx = sctx
	r, err := sc.prepareAnswer(ctx, question, opts)
	if err != nil {
		return nil, err
	}
	resp, err := r.model.Generate(ctx, r.req)
	if err != nil {
		return nil, fmt.Errorf("rag: generating the answer: %w", err)
	}
	f := cite.New(len(r.passages))
	text := f.Write(resp.Text) + f.Flush()
	return r.finish(text, f, resp.FinishReason, resp.Usage, reported(resp)), nil
}

// AnswerStream is Answer with the text streamed: it yields the text in
// pieces as the model writes it, then one last chunk whose Answer holds
// the whole answer and its citations.
//
// The work starts when the iteration does; each iteration answers anew.
// An error is yielded once, as the last item: the pieces already yielded
// stay valid but the answer is incomplete, and a failure after the model
// started writing is not retried. Stopping the iteration (break) or
// cancelling ctx ends the model call before the iteration returns, and
// leaves no goroutine behind; once ctx is cancelled no further text is
// yielded, the next item is the error. Citation markers are final when yielded: a
// piece that may begin a marker is held back until the marker is complete.
func (p *Pipeline) AnswerStream(ctx context.Context, question string, opts *AnswerOptions) iter.Seq2[AnswerDelta, error] {
	return p.own.AnswerStream(ctx, question, opts)
}

// AnswerStream is Pipeline.AnswerStream within the scope.
func (sc *scope) AnswerStream(ctx context.Context, question string, opts *AnswerOptions) iter.Seq2[AnswerDelta, error] {
	p := sc.p
	return func(yield func(AnswerDelta, error) bool) {
		var (
			a   *Answer
			err error
		)
		ctx, op := p.startAnswer(ctx, question, opts, true)
		defer func() { endAnswer(ctx, op, a, err) }()
		r, err := sc.prepareAnswer(ctx, question, opts)
		if err != nil {
			yield(AnswerDelta{}, err)
			return
		}
		f := cite.New(len(r.passages))
		var (
			text   strings.Builder
			finish string
			usage  *llm.Usage
		)
		fail := func(cause error) {
			err = fmt.Errorf("rag: generating the answer: %w", cause)
			yield(AnswerDelta{}, err)
		}
		for c, cerr := range r.model.Stream(ctx, r.req) {
			if cerr == nil {
				// A piece already buffered when the caller cancelled is
				// not yielded: after a cancel the next item is the error.
				cerr = context.Cause(ctx)
			}
			if cerr != nil {
				fail(cerr)
				return
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
			if c.Usage != nil {
				usage = c.Usage
			}
			if out := f.Write(c.Text); out != "" {
				text.WriteString(out)
				if !yield(AnswerDelta{Text: out, Citations: r.passagesOf(f.NewlyCited())}, nil) {
					return
				}
			}
		}
		if cerr := context.Cause(ctx); cerr != nil {
			fail(cerr)
			return
		}
		if out := f.Flush(); out != "" {
			text.WriteString(out)
			if !yield(AnswerDelta{Text: out, Citations: r.passagesOf(f.NewlyCited())}, nil) {
				return
			}
		}
		var u llm.Usage
		if usage != nil {
			u = *usage
		}
		a = r.finish(text.String(), f, finish, u, usage != nil)
		yield(AnswerDelta{Answer: a}, nil)
	}
}

// startAnswer starts the span of an answer, "answer {model}", parent of
// the retrieval and chat spans.
func (p *Pipeline) startAnswer(ctx context.Context, question string, opts *AnswerOptions, streamed bool) (context.Context, *telemetry.Op) {
	m := p.gen.model
	if opts != nil && opts.Model != nil {
		m = opts.Model
	}
	prov, model := "", ""
	if n, ok := m.(llm.Namer); ok && n.Name() != "" {
		prov, model = telemetry.SplitName(n.Name())
	}
	ctx, op := p.tel.Start(ctx, telemetry.OpAnswer, prov, model, trace.SpanKindInternal, false, telemetry.Streamed.Bool(streamed))
	if p.tel.Content() {
		op.Set(telemetry.Question.String(question))
	}
	return ctx, op
}

// endAnswer ends the span of an answer with what it became.
func endAnswer(ctx context.Context, op *telemetry.Op, a *Answer, err error) {
	if a != nil {
		op.Set(telemetry.Passages.Int(len(a.Passages)), telemetry.Citations.Int(len(a.Citations)))
		if a.FinishReason != "" {
			op.Set(telemetry.ResponseFinish.StringSlice([]string{a.FinishReason}))
		}
		if a.UsageReported {
			op.InputTokens(a.Usage.PromptTokens)
			op.OutputTokens(a.Usage.CompletionTokens)
		}
	}
	op.End(ctx, err)
}

// prepareAnswer checks the call, condenses the conversation, rewrites the
// query, retrieves and packs the passages and builds the request.
func (sc *scope) prepareAnswer(ctx context.Context, question string, opts *AnswerOptions) (*answerRun, error) {
	p := sc.p
	var o AnswerOptions
	if opts != nil {
		o = *opts
	}
	if strings.TrimSpace(question) == "" {
		return nil, ErrEmptyQuery
	}
	if !utf8.ValidString(question) {
		return nil, fmt.Errorf("rag: answer: question is not valid UTF-8: %w", ErrInvalidUTF8)
	}
	model := p.gen.model
	if o.Model != nil {
		model = p.retrying(o.Model)
	}
	if model == nil {
		return nil, ErrNoModel
	}
	if o.ContextTokens <= 0 {
		o.ContextTokens = DefaultContextTokens
	}
	if o.HistoryTokens <= 0 {
		o.HistoryTokens = DefaultHistoryTokens
	}
	so := SearchOptions{TopK: DefaultAnswerTopK}
	if o.Search != nil {
		so = *o.Search
		if so.TopK <= 0 {
			so.TopK = DefaultAnswerTopK
		}
	}
	if err := so.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("rag: answer: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &answerRun{p: p, model: model, question: question, query: question, conv: o.Conversation}

	var hist Conversation
	if o.Conversation != nil {
		var err error
		if hist, err = r.condense(ctx, *o.Conversation, o.HistoryTokens); err != nil {
			return nil, err
		}
	}
	if o.RewriteQuery && !hist.empty() {
		if err := r.rewriteQuery(ctx, hist); err != nil {
			return nil, err
		}
	}
	hits, err := sc.Search(ctx, r.query, &so)
	if err != nil {
		return nil, err
	}
	r.passages = packPassages(hits, o.ContextTokens, tokenizer.CL100K())
	if o.Neighbors > 0 && len(r.passages) > 0 {
		if err := sc.addNeighbors(ctx, r.query, r.passages, o.Neighbors, o.ContextTokens, tokenizer.CL100K()); err != nil {
			return nil, err
		}
	}

	tmpl := o.Template
	if tmpl == nil {
		tmpl = defaultTemplate
	}
	var user strings.Builder
	if err := tmpl.Execute(&user, PromptData{Question: question, Passages: r.passages, Context: formatPassages(r.passages)}); err != nil {
		return nil, fmt.Errorf("rag: answer: executing the prompt template: %w", err)
	}
	system := o.SystemPrompt
	if system == "" {
		system = DefaultSystemPrompt
	}
	if o.Instructions != "" {
		system += "\n\n" + o.Instructions
	}
	if hist.Summary != "" {
		system += "\n\nSummary of the conversation so far:\n" + hist.Summary
	}
	msgs := make([]llm.Message, 0, 2+2*len(hist.Turns))
	msgs = append(msgs, llm.Message{Role: llm.System, Content: system})
	for _, t := range hist.Turns {
		msgs = append(msgs,
			llm.Message{Role: llm.User, Content: t.Question},
			llm.Message{Role: llm.Assistant, Content: cite.Strip(t.Answer)})
	}
	msgs = append(msgs, llm.Message{Role: llm.User, Content: user.String()})
	r.req = llm.Request{Messages: msgs, MaxTokens: o.MaxTokens, Temperature: o.Temperature}
	return r, nil
}

// reported says whether a model's response reported its usage.
func reported(resp *llm.Response) bool { return resp.UsageReported || resp.Usage != (llm.Usage{}) }

// addUsage counts the usage of a call made before the answer.
func (r *answerRun) addUsage(resp *llm.Response) {
	r.usage = r.usage.Add(resp.Usage)
	r.unreported = r.unreported || !reported(resp)
}

// finish builds the answer and records the turn in the conversation;
// u is the answer call's usage, and usageReported whether it was reported.
func (r *answerRun) finish(text string, f *cite.Filter, reason string, u llm.Usage, usageReported bool) *Answer {
	a := &Answer{
		Question: r.question, Query: r.query, Text: text,
		Passages: r.passages, InvalidCitations: f.Invalid(),
		FinishReason: reason, Usage: r.usage.Add(u), UsageReported: usageReported && !r.unreported,
	}
	a.Citations = r.passagesOf(f.Cited())
	if len(f.Invalid()) > 0 {
		r.p.logger.Debug("rag: the answer cited passages that do not exist", "numbers", f.Invalid(), "passages", len(r.passages))
	}
	if r.conv != nil {
		if r.condensed != nil {
			*r.conv = *r.condensed
		}
		r.conv.Turns = append(r.conv.Turns, Turn{Question: r.question, Answer: text})
	}
	return a
}

// passagesOf returns the passages numbered nums, or nil for none.
func (r *answerRun) passagesOf(nums []int) []Passage {
	var out []Passage
	for _, n := range nums {
		out = append(out, r.passages[n-1])
	}
	return out
}

// packPassages keeps the best hits that fit budget tokens once formatted,
// in order, without duplicates (the same record, or the same text up to
// white space), and numbers them. When not even the best one fits, it is
// cut to the budget.
func packPassages(hits []Hit, budget int, tok tokenizer.Tokenizer) []Passage {
	var (
		out     []Passage
		ids     = map[string]bool{}
		texts   = map[string]bool{}
		used    int
		skipped *Hit
	)
	for _, h := range hits {
		key := strings.Join(strings.Fields(h.Text), " ")
		if key == "" || ids[h.ID] || texts[key] {
			continue
		}
		ids[h.ID], texts[key] = true, true
		p := Passage{N: len(out) + 1, Hit: h}
		cost := tok.Count(formatPassage(p)) + 1 // and the blank line between passages
		if used+cost > budget {
			if skipped == nil {
				skipped = &h
			}
			continue
		}
		used += cost
		out = append(out, p)
	}
	if len(out) == 0 && skipped != nil {
		if p, ok := truncatePassage(*skipped, budget, tok); ok {
			out = append(out, p)
		}
	}
	return out
}

// minPassageTokens is the least text worth giving the model when the best
// passage has to be cut.
const minPassageTokens = 16

// truncatePassage cuts h's text to fit budget tokens once formatted.
func truncatePassage(h Hit, budget int, tok tokenizer.Tokenizer) (Passage, bool) {
	p := Passage{N: 1, Hit: h}
	p.Text = ""
	room := budget - tok.Count(formatPassage(p)) - 2
	if room < minPassageTokens {
		return Passage{}, false
	}
	ids := tok.Encode(h.Text)
	if len(ids) > room {
		ids = ids[:room]
	}
	// A cut inside a multi-byte character leaves invalid bytes at the end.
	p.Text = strings.ToValidUTF8(tok.Decode(ids), "")
	if strings.HasPrefix(h.Text, p.Text) {
		p.End = p.Start + len(p.Text)
	}
	return p, true
}

// formatPassage formats a passage for the prompt: a header line with its
// number, title, location ("p. 12"), source and kind, then its text.
func formatPassage(p Passage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d]", p.N)
	if p.Title != "" {
		b.WriteString(" " + p.Title)
	}
	if loc := p.Location(); loc != "" {
		b.WriteString(", " + loc)
	}
	if p.Source != "" {
		b.WriteString(" (" + p.Source + ")")
	}
	if p.IsSummary() {
		b.WriteString(" — summary of the document")
	}
	b.WriteByte('\n')
	text := p.Text
	if p.Context != "" {
		text = p.Context
	}
	b.WriteString(strings.TrimSpace(text))
	return b.String()
}

func formatPassages(ps []Passage) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = formatPassage(p)
	}
	return strings.Join(parts, "\n\n")
}

// neighborSpan is a passage's run of consecutive chunks, lo to hi by index.
type neighborSpan struct {
	lo, hi int
	open   [2]bool // whether growth may go on before (0) and after (1)
}

// addNeighbors grows each passage by up to n neighbouring chunks a side
// within budget tokens (see AnswerOptions.Neighbors), writing
// Passage.Context.
func (sc *scope) addNeighbors(ctx context.Context, query string, ps []Passage, n, budget int, tok tokenizer.Tokenizer) error {
	used := 0
	for _, x := range ps {
		used += tok.Count(formatPassage(x)) + 1
	}
	chunks, err := sc.neighborChunks(ctx, query, ps, n)
	if err != nil {
		return err
	}
	shown := make(map[string]bool, len(ps))
	for _, x := range ps {
		shown[x.ID] = true
	}
	spans := make([]neighborSpan, len(ps))
	for i, x := range ps {
		own, ok := chunks[x.DocID][x.Chunk]
		// A summary, or a passage cut to fit, does not grow.
		grow := ok && !x.IsSummary() && own.Text == x.Text
		spans[i] = neighborSpan{lo: x.Chunk, hi: x.Chunk, open: [2]bool{grow, grow}}
	}
	for d := 1; d <= n; d++ {
		for i := range ps {
			for side := range 2 {
				sp := &spans[i]
				if !sp.open[side] {
					continue
				}
				next := sp.lo - 1
				if side == 1 {
					next = sp.hi + 1
				}
				c, ok := chunks[ps[i].DocID][next]
				if !ok || shown[c.ID] || c.IsSummary() || !slices.Equal(c.Headings, ps[i].Headings) {
					sp.open[side] = false
					continue
				}
				grown := *sp
				if side == 0 {
					grown.lo = next
				} else {
					grown.hi = next
				}
				cand := ps[i]
				cand.Context = joinChunks(chunks[ps[i].DocID], grown.lo, grown.hi)
				extra := tok.Count(formatPassage(cand)) - tok.Count(formatPassage(ps[i]))
				if used+extra > budget {
					sp.open[side] = false
					continue
				}
				used += extra
				ps[i].Context = cand.Context
				*sp = grown
				shown[c.ID] = true
			}
		}
	}
	return nil
}

// neighborChunks reads from the store the chunks of the passages'
// documents, by document and index, until it holds every chunk within n
// of each passage or the whole document. The store is searched with the
// query's vector (from the query cache) and a filter on the document ID:
// the Store interface has no lookup by record ID.
func (sc *scope) neighborChunks(ctx context.Context, query string, ps []Passage, n int) (map[string]map[int]Hit, error) {
	want := map[string][]int{} // document ID to the chunk indices wanted
	for _, x := range ps {
		for i := max(x.Chunk-n, 0); i <= x.Chunk+n; i++ {
			want[x.DocID] = append(want[x.DocID], i)
		}
	}
	qvec, err := sc.p.queries.embed(ctx, sc.ns, query)
	if err != nil {
		return nil, fmt.Errorf("rag: answer: embedding the query: %w", err)
	}
	out := make(map[string]map[int]Hit, len(want))
	for doc, idx := range want {
		for k := 64; ; k *= 4 {
			res, err := sc.store.Search(ctx, store.Query{Vector: qvec, TopK: k, Filter: store.Eq(store.FieldDocID, doc)})
			if err != nil {
				return nil, fmt.Errorf("rag: answer: reading the chunks around a passage: %w", err)
			}
			byIndex := make(map[int]Hit, len(res))
			for _, r := range res {
				byIndex[r.Chunk] = hitOf(r)
			}
			out[doc] = byIndex
			if len(res) < k || !slices.ContainsFunc(idx, func(i int) bool { _, ok := byIndex[i]; return !ok }) {
				break
			}
		}
	}
	return out, nil
}

// joinChunks joins the texts of chunks lo to hi of a document in order.
// Where neighbours overlap in the document's content, the overlap is
// written once; a gap between them becomes a line break.
func joinChunks(chunks map[int]Hit, lo, hi int) string {
	var b strings.Builder
	end := -1
	for i := lo; i <= hi; i++ {
		c := chunks[i]
		text := c.Text
		plain := len(c.Text) == c.End-c.Start // Text is the content's span, not prefixed
		switch {
		case i == lo:
		case plain && c.Start < end:
			text = c.Text[min(end-c.Start, len(c.Text)):]
		case c.Start == end:
		default:
			b.WriteByte('\n')
		}
		b.WriteString(text)
		end = max(end, c.End)
	}
	return b.String()
}
