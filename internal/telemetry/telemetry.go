// Package telemetry instruments the pipeline with OpenTelemetry, on the
// API only (go.opentelemetry.io/otel, whose providers are no-ops until an
// application installs an SDK): spans and metrics that follow the GenAI
// semantic conventions, and the slog records of retries and pauses.
//
// The attribute names are constants of this package: the Go semconv
// packages dropped the GenAI ones after v1.41.
package telemetry

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/ragkit-go/rag/provider"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/ragkit-go/rag"

// Attributes of the GenAI semantic conventions.
const (
	OperationName       = attribute.Key("gen_ai.operation.name")
	ProviderName        = attribute.Key("gen_ai.provider.name")
	RequestModel        = attribute.Key("gen_ai.request.model")
	RequestTopK         = attribute.Key("gen_ai.request.top_k")
	RequestMaxTokens    = attribute.Key("gen_ai.request.max_tokens")
	RequestTemperature  = attribute.Key("gen_ai.request.temperature")
	UsageInputTokens    = attribute.Key("gen_ai.usage.input_tokens")
	UsageOutputTokens   = attribute.Key("gen_ai.usage.output_tokens")
	ResponseFinish      = attribute.Key("gen_ai.response.finish_reasons")
	EmbeddingsDimension = attribute.Key("gen_ai.embeddings.dimension.count")
	DataSourceID        = attribute.Key("gen_ai.data_source.id")
	TokenType           = attribute.Key("gen_ai.token.type")
	InputMessages       = attribute.Key("gen_ai.input.messages")  // opt-in content
	OutputMessages      = attribute.Key("gen_ai.output.messages") // opt-in content
	RetrievalQueryText  = attribute.Key("gen_ai.retrieval.query.text")
	ErrorType           = attribute.Key("error.type")
	TokenTypeInput      = "input"
	TokenTypeOutput     = "output"
	MetricDuration      = "gen_ai.client.operation.duration"
	MetricTokenUsage    = "gen_ai.client.token.usage"
	unknownProvider     = "_OTHER"
	errorTypeOther      = "_OTHER"
	errorTypeCanceled   = "canceled"
	errorTypeDeadline   = "timeout"
	errorTypeIncomplete = "incomplete"
)

// Attributes of the pipeline's own, for what the conventions do not name.
const (
	Inputs          = attribute.Key("rag.embeddings.inputs")
	Requests        = attribute.Key("rag.requests")
	SearchMode      = attribute.Key("rag.search.mode")
	Hits            = attribute.Key("rag.retrieval.hits")
	RerankDocuments = attribute.Key("rag.rerank.documents")
	Documents       = attribute.Key("rag.ingest.documents")
	Stored          = attribute.Key("rag.ingest.stored")
	Unchanged       = attribute.Key("rag.ingest.unchanged")
	Failed          = attribute.Key("rag.ingest.failed")
	Chunks          = attribute.Key("rag.ingest.chunks")
	Bytes           = attribute.Key("rag.ingest.bytes")
	Retries         = attribute.Key("rag.ingest.retries")
	Passages        = attribute.Key("rag.answer.passages")
	Citations       = attribute.Key("rag.answer.citations")
	Streamed        = attribute.Key("rag.answer.streamed")
	Question        = attribute.Key("rag.answer.question") // opt-in content
)

// Operation names: the conventions' where they have one.
const (
	OpEmbeddings = "embeddings"
	OpChat       = "chat"
	OpRetrieval  = "retrieval"
	OpRerank     = "rerank"
	OpIngest     = "ingest"
	OpAnswer     = "answer"
)

// Telemetry is a pipeline's tracer and instruments. Its methods may be
// called concurrently. A nil *Telemetry records nothing.
type Telemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	tokens   metric.Int64Histogram
	content  bool
}

// New returns the telemetry of tp and mp, or of the global providers
// (otel.GetTracerProvider, otel.GetMeterProvider) where they are nil.
// content says the user opted in to recording messages and queries.
func New(tp trace.TracerProvider, mp metric.MeterProvider, content bool) *Telemetry {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	t := &Telemetry{tracer: tp.Tracer(ScopeName), content: content}
	// The instruments of the conventions; the API's no-op instruments
	// stand in if the SDK refuses them.
	t.duration, _ = m.Float64Histogram(MetricDuration, metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration."),
		metric.WithExplicitBucketBoundaries(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92))
	t.tokens, _ = m.Int64Histogram(MetricTokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used."),
		metric.WithExplicitBucketBoundaries(1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864))
	return t
}

// Content reports whether messages and queries may be recorded.
func (t *Telemetry) Content() bool { return t != nil && t.content }

// Op is one operation being traced: its span, and its metrics when it is
// a call to a model provider. Its methods are called by the goroutine
// that started it.
type Op struct {
	span     trace.Span
	t        *Telemetry
	start    time.Time
	metered  bool
	base     []attribute.KeyValue // of the metrics
	in, out  int
	hasIn    bool
	hasOut   bool
	finished bool
}

// Start starts the span of operation op on model of providerName, named
// "{op} {model}" (or "{op}" without a model). metered says the operation
// is a call to a model provider, whose duration and token usage are
// recorded as the conventions' metrics.
func (t *Telemetry) Start(ctx context.Context, op, providerName, model string, kind trace.SpanKind, metered bool, attrs ...attribute.KeyValue) (context.Context, *Op) {
	if t == nil {
		return ctx, nil
	}
	name := op
	if model != "" {
		name += " " + model
	}
	base := []attribute.KeyValue{OperationName.String(op)}
	if providerName != "" {
		base = append(base, ProviderName.String(providerName))
	}
	if model != "" {
		base = append(base, RequestModel.String(model))
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(append(base, attrs...)...))
	return ctx, &Op{span: span, t: t, start: time.Now(), metered: metered, base: base}
}

// Set adds attributes to the span.
func (o *Op) Set(attrs ...attribute.KeyValue) {
	if o != nil {
		o.span.SetAttributes(attrs...)
	}
}

// Recording reports whether the span records, so that costly attributes
// are computed only then.
func (o *Op) Recording() bool { return o != nil && o.span.IsRecording() }

// InputTokens records the input tokens of the operation.
func (o *Op) InputTokens(n int) {
	if o != nil {
		o.in, o.hasIn = n, true
		o.span.SetAttributes(UsageInputTokens.Int(n))
	}
}

// OutputTokens records the output tokens of the operation.
func (o *Op) OutputTokens(n int) {
	if o != nil {
		o.out, o.hasOut = n, true
		o.span.SetAttributes(UsageOutputTokens.Int(n))
	}
}

// End ends the operation with err (nil for success): the span's status
// and error.type, and for a metered operation its duration and tokens.
// Only the first End counts.
func (o *Op) End(ctx context.Context, err error) {
	if o == nil || o.finished {
		return
	}
	o.finished = true
	attrs := o.base
	if err != nil {
		et := ErrorTypeOf(err)
		o.span.SetAttributes(ErrorType.String(et))
		o.span.SetStatus(codes.Error, err.Error())
		attrs = append(attrs[:len(attrs):len(attrs)], ErrorType.String(et))
	}
	o.span.End()
	if !o.metered {
		return
	}
	ctx = trace.ContextWithSpan(ctx, o.span)
	o.t.duration.Record(ctx, time.Since(o.start).Seconds(), metric.WithAttributes(attrs...))
	if o.hasIn {
		o.t.tokens.Record(ctx, int64(o.in), metric.WithAttributes(append(o.base[:len(o.base):len(o.base)], TokenType.String(TokenTypeInput))...))
	}
	if o.hasOut {
		o.t.tokens.Record(ctx, int64(o.out), metric.WithAttributes(append(o.base[:len(o.base):len(o.base)], TokenType.String(TokenTypeOutput))...))
	}
}

// ErrorTypeOf is the low-cardinality class of err for error.type: the
// HTTP status of a provider's refusal, else its code, "timeout",
// "canceled", "incomplete", or "_OTHER".
func ErrorTypeOf(err error) string {
	var pe *provider.Error
	switch {
	case errors.As(err, &pe) && pe.StatusCode != 0:
		return strconv.Itoa(pe.StatusCode)
	case errors.Is(err, context.Canceled):
		return errorTypeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return errorTypeDeadline
	case pe != nil && pe.Code != "":
		return pe.Code
	case pe != nil:
		return errorTypeIncomplete
	}
	return errorTypeOther
}

// SplitName splits a component's name ("openai:text-embedding-3-small:1536",
// "openai:gpt-4o-mini") into the provider and the model. A name without
// a provider part has the provider "_OTHER"; a local embedder named by
// its dimension ("hashing:384") is its own model.
func SplitName(name string) (providerName, model string) {
	p, rest, ok := strings.Cut(name, ":")
	if !ok {
		return unknownProvider, name
	}
	model, _, _ = strings.Cut(rest, ":")
	if strings.Trim(model, "0123456789") == "" {
		model = p
	}
	return p, model
}
