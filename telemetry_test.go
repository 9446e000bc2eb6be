package rag_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store/chromem"
	"github.com/ragkit-go/rag/tokenizer"
)

// namedReranker scores passages by their length and names itself.
type namedReranker struct{}

func (namedReranker) Name() string { return "testrank:len-1" }

func (namedReranker) Rerank(_ context.Context, _ string, passages []string) ([]float64, error) {
	out := make([]float64, len(passages))
	for i, p := range passages {
		out[i] = float64(len(p))
	}
	return out, nil
}

// observed is a pipeline on an openaitest server whose spans and metrics
// are recorded by the SDK's in-memory reader and recorder.
type observed struct {
	p      *rag.Pipeline
	srv    *openaitest.Server
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newObserved(t *testing.T, content bool, reply string) *observed {
	t.Helper()
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{reply}})
	t.Cleanup(srv.Close)
	cfg := provider.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: srv.Client()}
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	s, err := chromem.New(chromem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rag.New(rag.Options{
		Embedder: embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: cfg, Dimensions: 64}),
		Model:    llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: cfg}),
		Store:    s, Chunker: byParagraph, Reranker: namedReranker{},
		TracerProvider: tp, MeterProvider: mp, RecordContent: content,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &observed{p: p, srv: srv, spans: spans, reader: reader}
}

// attrs returns a span's attributes as a map of their values.
func attrs(s sdktrace.ReadOnlySpan) map[string]any {
	m := map[string]any{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// checkSpan checks a span's name, kind, status and attributes, exactly:
// every attribute it has is in want, with the value given.
func checkSpan(t *testing.T, s sdktrace.ReadOnlySpan, name string, kind trace.SpanKind, want map[string]any) {
	t.Helper()
	if s.Name() != name || s.SpanKind() != kind || s.Status().Code == codes.Error {
		t.Errorf("span %q (%v, %v), want %q (%v)", s.Name(), s.SpanKind(), s.Status(), name, kind)
	}
	got := attrs(s)
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: attribute %s missing, want %v", name, k, v)
		} else if fmt.Sprint(g) != fmt.Sprint(v) {
			t.Errorf("%s: %s = %v, want %v", name, k, g, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected attribute %s = %v", name, k, v)
		}
	}
}

// children returns the spans whose parent is s, in start order.
func children(all []sdktrace.ReadOnlySpan, s sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, c := range all {
		if c.Parent().SpanID() == s.SpanContext().SpanID() {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime().Before(out[j].StartTime()) })
	return out
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// traceTree prints spans as trees, roots in start order, each span with
// its attributes.
func traceTree(all []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		var kv []string
		for _, a := range s.Attributes() {
			v := a.Value.Emit()
			if len(v) > 60 {
				v = v[:57] + "..."
			}
			kv = append(kv, string(a.Key)+"="+v)
		}
		fmt.Fprintf(&b, "%s%s [%s]\n", strings.Repeat("    ", depth), s.Name(), strings.ToLower(s.SpanKind().String()))
		for _, a := range kv {
			fmt.Fprintf(&b, "%s    · %s\n", strings.Repeat("    ", depth), a)
		}
		for _, c := range children(all, s) {
			walk(c, depth+1)
		}
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range all {
		if !s.Parent().IsValid() {
			roots = append(roots, s)
		}
	}
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].StartTime().Before(roots[j].StartTime()) })
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

// The spans and metrics of one Ingest, one Search and one streamed
// Answer, attribute by attribute.
func TestTelemetry(t *testing.T) {
	ctx := context.Background()
	reply := "Tides come from the Moon [1]."
	o := newObserved(t, false, reply)
	tok := tokenizer.CL100K()

	// Ingest.
	rep, err := o.p.Ingest(ctx, answerDocs...)
	if err != nil {
		t.Fatal(err)
	}
	ingestSpans := o.spans.Ended()
	if len(ingestSpans) != 2 {
		t.Fatalf("ingest spans %v", names(ingestSpans))
	}
	root := ingestSpans[len(ingestSpans)-1]
	checkSpan(t, root, "ingest text-embedding-3-small", trace.SpanKindInternal, map[string]any{
		"gen_ai.operation.name": "ingest", "gen_ai.provider.name": "openai", "gen_ai.request.model": "text-embedding-3-small",
		"gen_ai.usage.input_tokens": rep.Tokens,
		"rag.ingest.documents":      3, "rag.ingest.stored": 3, "rag.ingest.unchanged": 0, "rag.ingest.failed": 0,
		"rag.ingest.chunks": 4, "rag.ingest.bytes": rep.Bytes, "rag.requests": 1, "rag.ingest.retries": 0,
	})
	emb := children(ingestSpans, root)
	if len(emb) != 1 {
		t.Fatalf("ingest children %v", names(emb))
	}
	checkSpan(t, emb[0], "embeddings text-embedding-3-small", trace.SpanKindClient, map[string]any{
		"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai", "gen_ai.request.model": "text-embedding-3-small",
		"gen_ai.usage.input_tokens": rep.Tokens, "gen_ai.embeddings.dimension.count": 64,
		"rag.embeddings.inputs": 4, "rag.requests": 1,
	})

	// Search.
	query := "moon and tides"
	hits, err := o.p.Search(ctx, query, &rag.SearchOptions{TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	all := o.spans.Ended()
	search := all[len(all)-1]
	checkSpan(t, search, "retrieval", trace.SpanKindInternal, map[string]any{
		"gen_ai.operation.name": "retrieval", "gen_ai.request.top_k": 2, "rag.search.mode": "vector", "rag.retrieval.hits": len(hits),
	})
	sc := children(all, search)
	if !slices.Equal(names(sc), []string{"embeddings text-embedding-3-small", "rerank len-1"}) {
		t.Fatalf("search children %v", names(sc))
	}
	checkSpan(t, sc[0], "embeddings text-embedding-3-small", trace.SpanKindClient, map[string]any{
		"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai", "gen_ai.request.model": "text-embedding-3-small",
		"gen_ai.usage.input_tokens": tok.Count(query), "gen_ai.embeddings.dimension.count": 64,
		"rag.embeddings.inputs": 1, "rag.requests": 1,
	})
	checkSpan(t, sc[1], "rerank len-1", trace.SpanKindClient, map[string]any{
		"gen_ai.operation.name": "rerank", "gen_ai.provider.name": "testrank", "gen_ai.request.model": "len-1",
		"rag.rerank.documents": 4,
	})

	// A streamed answer.
	question := "What causes the tides?"
	var final *rag.Answer
	for c, err := range o.p.AnswerStream(ctx, question, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Answer != nil {
			final = c.Answer
		}
	}
	if final == nil || final.Text != reply || !final.UsageReported {
		t.Fatalf("%+v", final)
	}
	all = o.spans.Ended()
	answer := all[len(all)-1]
	checkSpan(t, answer, "answer gpt-4o-mini", trace.SpanKindInternal, map[string]any{
		"gen_ai.operation.name": "answer", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
		"rag.answer.streamed": true, "rag.answer.passages": len(final.Passages), "rag.answer.citations": 1,
		"gen_ai.response.finish_reasons": []string{"stop"},
		"gen_ai.usage.input_tokens":      final.Usage.PromptTokens, "gen_ai.usage.output_tokens": final.Usage.CompletionTokens,
	})
	ac := children(all, answer)
	if !slices.Equal(names(ac), []string{"retrieval", "chat gpt-4o-mini"}) {
		t.Fatalf("answer children %v", names(ac))
	}
	checkSpan(t, ac[0], "retrieval", trace.SpanKindInternal, map[string]any{
		"gen_ai.operation.name": "retrieval", "gen_ai.request.top_k": rag.DefaultAnswerTopK, "rag.search.mode": "vector",
		"rag.retrieval.hits": len(final.Passages),
	})
	if got := names(children(all, ac[0])); !slices.Equal(got, []string{"embeddings text-embedding-3-small", "rerank len-1"}) {
		t.Fatalf("answer retrieval children %v", got)
	}
	checkSpan(t, ac[1], "chat gpt-4o-mini", trace.SpanKindClient, map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
		"gen_ai.response.finish_reasons": []string{"stop"},
		"gen_ai.usage.input_tokens":      final.Usage.PromptTokens, "gen_ai.usage.output_tokens": final.Usage.CompletionTokens,
	})
	if final.Usage.PromptTokens == 0 || final.Usage.CompletionTokens != tok.Count(reply) {
		t.Fatalf("usage %+v", final.Usage)
	}
	t.Logf("trace tree of one Ingest, one Search and one streamed Answer:\n%s", traceTree(all))

	// Metrics.
	var rm metricdata.ResourceMetrics
	if err := o.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	durations := map[string]uint64{} // count by operation and model
	tokens := map[string]int64{}     // sum by operation, model and token type
	var units []string
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/ragkit-go/rag" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			units = append(units, m.Name+" "+m.Unit)
			switch m.Name {
			case "gen_ai.client.operation.duration":
				for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					durations[key(dp.Attributes, "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "error.type")] += dp.Count
					if dp.Sum <= 0 {
						t.Errorf("duration sum %v", dp.Sum)
					}
				}
			case "gen_ai.client.token.usage":
				for _, dp := range m.Data.(metricdata.Histogram[int64]).DataPoints {
					tokens[key(dp.Attributes, "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.token.type")] += dp.Sum
				}
			default:
				t.Errorf("unexpected metric %s", m.Name)
			}
		}
	}
	slices.Sort(units)
	if !slices.Equal(units, []string{"gen_ai.client.operation.duration s", "gen_ai.client.token.usage {token}"}) {
		t.Errorf("metrics %v", units)
	}
	wantDurations := map[string]uint64{
		"embeddings/openai/text-embedding-3-small/": 3, // ingest, search, answer
		"rerank/testrank/len-1/":                    2,
		"chat/openai/gpt-4o-mini/":                  1,
	}
	if fmt.Sprint(durations) != fmt.Sprint(wantDurations) {
		t.Errorf("duration counts %v, want %v", durations, wantDurations)
	}
	wantTokens := map[string]int64{
		"embeddings/openai/text-embedding-3-small/input": int64(rep.Tokens + tok.Count(query) + tok.Count(question)),
		"chat/openai/gpt-4o-mini/input":                  int64(final.Usage.PromptTokens),
		"chat/openai/gpt-4o-mini/output":                 int64(final.Usage.CompletionTokens),
	}
	if fmt.Sprint(tokens) != fmt.Sprint(wantTokens) {
		t.Errorf("token sums %v, want %v", tokens, wantTokens)
	}
}

// key joins the values of the named attributes ("" when absent).
func key(set attribute.Set, names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		if v, ok := set.Value(attribute.Key(n)); ok {
			parts[i] = v.Emit()
		}
	}
	return strings.Join(parts, "/")
}

// Content is recorded only when the user opts in; errors set error.type.
func TestTelemetryContent(t *testing.T) {
	ctx := context.Background()
	for _, content := range []bool{false, true} {
		o := newObserved(t, content, "Tides [1].")
		if _, err := o.p.Ingest(ctx, answerDocs...); err != nil {
			t.Fatal(err)
		}
		if _, err := o.p.Answer(ctx, "What causes the tides?", nil); err != nil {
			t.Fatal(err)
		}
		found := map[string]string{}
		for _, s := range o.spans.Ended() {
			for k, v := range attrs(s) {
				switch k {
				case "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.retrieval.query.text", "rag.answer.question":
					found[k] = fmt.Sprint(v)
				}
			}
		}
		if !content {
			if len(found) != 0 {
				t.Fatalf("content recorded without opting in: %v", found)
			}
			continue
		}
		if len(found) != 4 || found["gen_ai.retrieval.query.text"] != "What causes the tides?" ||
			found["rag.answer.question"] != "What causes the tides?" ||
			!strings.Contains(found["gen_ai.input.messages"], `"role":"system"`) ||
			found["gen_ai.output.messages"] != `[{"role":"assistant","parts":[{"type":"text","content":"Tides [1]."}],"finish_reason":"stop"}]` {
			t.Fatalf("content %v", found)
		}
	}

	// A refused chat call: error.type is its status, on the span and the
	// duration metric.
	o := newObserved(t, false, "unused")
	if _, err := o.p.Ingest(ctx, answerDocs...); err != nil {
		t.Fatal(err)
	}
	refusing := openaitest.NewServer(openaitest.Options{Models: []string{"another-model"}})
	t.Cleanup(refusing.Close)
	bad := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: refusing.URL(), HTTPClient: refusing.Client()}})
	if _, err := o.p.Answer(ctx, "tides?", &rag.AnswerOptions{Model: bad}); err == nil {
		t.Fatal("no error")
	}
	var chat sdktrace.ReadOnlySpan
	for _, s := range o.spans.Ended() {
		if strings.HasPrefix(s.Name(), "chat ") {
			chat = s
		}
	}
	if chat == nil || attrs(chat)["error.type"] != "404" || chat.Status().Code != codes.Error {
		t.Fatalf("chat span %v", chat)
	}
	var rm metricdata.ResourceMetrics
	if err := o.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var failed uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					if key(dp.Attributes, "gen_ai.operation.name", "error.type") == "chat/404" {
						failed += dp.Count
					}
				}
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed chat durations recorded", failed)
	}
}
