// Package enrich has a chat model read each document at ingestion and
// write a short summary, stored as one more record of the document, and a
// few topic tags, stored in the metadata of every record.
package enrich

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/store"
	"github.com/ragkit-go/rag/tokenizer"
)

// DefaultPrompt is the system prompt of enrichment. The model's reply is
// read as a "SUMMARY:" line (or paragraph) and a "TAGS:" line of
// comma-separated tags.
const DefaultPrompt = `You write catalogue entries for documents. Reply in exactly this form, with nothing else:
SUMMARY: <two or three sentences on what the document is about and the main facts it gives>
TAGS: <at most %d short lowercase topic tags, separated by commas>`

// Options configure New. Model is required; zero values take defaults.
type Options struct {
	Model          llm.Model           // writes the summaries and tags
	Concurrency    int                 // documents enriched at once; default 4
	MaxInputTokens int                 // document text sent, in cl100k tokens; default 4000
	MaxTags        int                 // tags kept; default 5, negative for none
	Prompt         string              // replaces DefaultPrompt; "%d" becomes MaxTags
	Tokenizer      tokenizer.Tokenizer // counts the summary's tokens; default cl100k
	MaxChunkTokens int                 // the embedder's input limit: longer summaries are cut; 0 for none
	Logger         *slog.Logger        // default slog.Default()
}

// New returns an Enricher.
func New(o Options) *Enricher {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxInputTokens <= 0 {
		o.MaxInputTokens = 4000
	}
	if o.MaxTags == 0 {
		o.MaxTags = 5
	}
	if o.Tokenizer == nil {
		o.Tokenizer = tokenizer.CL100K()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	prompt := o.Prompt
	if prompt == "" {
		prompt = DefaultPrompt
	}
	prompt = strings.ReplaceAll(prompt, "%d", strconv.Itoa(max(o.MaxTags, 0)))
	m := o.Model
	name := fmt.Sprintf("%T", m)
	if n, ok := m.(llm.Namer); ok && n.Name() != "" {
		name = n.Name()
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", prompt, o.MaxTags, o.MaxInputTokens))
	return &Enricher{
		logger: o.Logger, tok: o.Tokenizer, maxChunkTokens: o.MaxChunkTokens,
		model: m, o: o, prompt: prompt,
		sem:     make(chan struct{}, o.Concurrency),
		version: "enrich/1:" + name + ":" + hex.EncodeToString(sum[:8]),
	}
}

// Version identifies the model, prompt and limits: documents enriched
// with another version make other records, so it goes into their hashes.
func (e *Enricher) Version() string { return e.version }

// Concurrency is the number of documents enriched at once.
func (e *Enricher) Concurrency() int { return e.o.Concurrency }

// Enricher writes the summaries and tags of documents.
type Enricher struct {
	logger         *slog.Logger
	tok            tokenizer.Tokenizer // counts the summary's tokens
	maxChunkTokens int                 // the embedder's input limit, 0 for none
	model          llm.Model
	o              Options
	prompt         string
	sem            chan struct{}
	version        string // mixed into content hashes
}

// Enrich has the model write the summary and tags of a chunked document
// (it is an ingest.Config.Enrich): it adds the tags to the records' metadata and
// appends the summary record, with its token count.
func (e *Enricher) Enrich(ctx context.Context, d *document.Document, recs []store.Record, tokens []int) ([]store.Record, []int, error) {
	summary, tags, err := e.describe(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	if summary == "" {
		e.logger.Warn("rag: enrichment wrote no summary", "doc", d.ID)
	}
	if summary == "" && len(tags) == 0 {
		return recs, tokens, nil
	}
	// Metadata is the document's: every record carries the same.
	md := maps.Clone(d.Metadata)
	if md == nil {
		md = make(map[string]any, 2)
	}
	if len(tags) > 0 {
		md[document.MetaTags] = tags
	}
	if summary != "" {
		n := e.tok.Count(summary)
		if e.maxChunkTokens > 0 && n > e.maxChunkTokens {
			summary = cutTokens(e.tok, summary, e.maxChunkTokens)
			n = e.tok.Count(summary)
		}
		i := len(recs)
		md[document.MetaSummaryChunk] = float64(i)
		recs = append(recs, store.Record{
			ID: document.RecordID(d.ID, i), DocID: d.ID, Chunk: i, Text: summary,
			Title: d.Title, Source: d.Source, Tags: d.Tags,
		})
		tokens = append(tokens, n)
	}
	for i := range recs {
		recs[i].Metadata = md
	}
	return recs, tokens, nil
}

// describe asks the model for the summary and tags of d, at most
// Options.Concurrency calls at once.
func (e *Enricher) describe(ctx context.Context, d *document.Document) (string, []string, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return "", nil, context.Cause(ctx)
	}
	defer func() { <-e.sem }()

	var b strings.Builder
	if d.Title != "" {
		b.WriteString("Title: " + d.Title + "\n")
	}
	if d.Source != "" {
		b.WriteString("Source: " + d.Source + "\n")
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(cutTokens(tokenizer.CL100K(), d.Content, e.o.MaxInputTokens))
	resp, err := e.model.Generate(ctx, llm.Request{
		Messages:    []llm.Message{{Role: llm.System, Content: e.prompt}, {Role: llm.User, Content: b.String()}},
		MaxTokens:   300,
		Temperature: llm.Temperature(0),
	})
	if err != nil {
		return "", nil, err
	}
	summary, tags := parseEnrichment(resp.Text, e.o.MaxTags)
	return summary, tags, nil
}

// cutTokens returns text cut to at most n tokens.
func cutTokens(tok tokenizer.Tokenizer, text string, n int) string {
	ids := tok.Encode(text)
	if len(ids) <= n {
		return text
	}
	return strings.ToValidUTF8(tok.Decode(ids[:n]), "")
}

// parseEnrichment reads a reply in the form of DefaultEnrichPrompt: the
// text after "SUMMARY:" up to the "TAGS:" line, and the tags on that line.
// A reply without labels is all summary.
func parseEnrichment(reply string, maxTags int) (string, []string) {
	var summary []string
	var tags []string
	for line := range strings.Lines(reply) {
		t := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "*#-• "))
		t = strings.ReplaceAll(t, "**", "")
		if rest, ok := cutLabel(t, "tags:"); ok {
			tags = append(tags, parseTags(rest)...)
			continue
		}
		if rest, ok := cutLabel(t, "summary:"); ok {
			t = rest
		}
		if t != "" {
			summary = append(summary, t)
		}
	}
	if maxTags < 0 {
		tags = nil
	} else if len(tags) > maxTags {
		tags = tags[:maxTags]
	}
	return strings.Join(summary, " "), tags
}

func cutLabel(s, label string) (string, bool) {
	if len(s) >= len(label) && strings.EqualFold(s[:len(label)], label) {
		return strings.TrimSpace(s[len(label):]), true
	}
	return "", false
}

// maxTagLen bounds a tag, in bytes.
const maxTagLen = 40

// parseTags splits a tag list on commas and semicolons and normalises the
// tags: lower case, single spaces, no '#' or quotes, no duplicates.
func parseTags(s string) []string {
	var out []string
	for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ';' }) {
		t := strings.ToLower(strings.Join(strings.Fields(strings.Trim(part, " #\"'`.")), " "))
		if t == "" || len(t) > maxTagLen || !utf8.ValidString(t) {
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
