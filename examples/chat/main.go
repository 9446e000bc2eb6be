// Command chat is a terminal chat over a directory of documents: it
// indexes the files under the directory (every format the library's
// loaders read, with Pipeline.Sync), then answers
// your questions from them, streaming each answer and listing the sources
// it cites. Follow-up questions are understood in the context of the
// conversation.
//
// It talks to OpenAI or to any OpenAI-compatible server:
//
//	OPENAI_API_KEY=sk-... go run ./examples/chat -dir ./docs
//	go run ./examples/chat -dir ./docs -base-url http://localhost:11434/v1 -model llama3.2
//
// With OpenAI, documents are embedded with text-embedding-3-small. With
// another server, they are embedded locally with the Hashing embedder
// (lexical, no network) unless -embed-model names an embedding model the
// server has (for Ollama: nomic-embed-text).
//
// Type /reset to start a new conversation and /quit (or end of input) to
// leave. Ctrl-C stops the answer being written.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/provider"
)

// config is what the flags and the environment say.
type config struct {
	dir        string
	baseURL    string
	apiKey     string
	model      string
	embedModel string
	topK       int
	noRewrite  bool
	enrich     bool
	exts       []string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if err := run(context.Background(), cfg, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errNoServer) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	exts := ""
	fs.StringVar(&cfg.dir, "dir", ".", "directory of documents to chat about")
	fs.StringVar(&cfg.baseURL, "base-url", getenv("OPENAI_BASE_URL"), "base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1 for Ollama (env OPENAI_BASE_URL)")
	fs.StringVar(&cfg.model, "model", getenv("CHAT_MODEL"), "chat model (env CHAT_MODEL; default gpt-4o-mini on OpenAI)")
	fs.StringVar(&cfg.embedModel, "embed-model", getenv("EMBED_MODEL"), "embedding model on the server (env EMBED_MODEL; default text-embedding-3-small on OpenAI, the local Hashing embedder elsewhere)")
	fs.IntVar(&cfg.topK, "top-k", rag.DefaultAnswerTopK, "passages retrieved per question")
	fs.BoolVar(&cfg.noRewrite, "no-rewrite", false, "search follow-up questions as asked, without rewriting them into standalone questions")
	fs.BoolVar(&cfg.enrich, "enrich", false, "have the model summarise and tag each document at indexing (one call per document)")
	fs.StringVar(&exts, "ext", exts, "comma-separated file extensions to index (default: every format the loaders read)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.apiKey = getenv("OPENAI_API_KEY")
	for e := range strings.SplitSeq(exts, ",") {
		if e = strings.TrimSpace(e); e != "" {
			if !strings.HasPrefix(e, ".") {
				e = "." + e
			}
			cfg.exts = append(cfg.exts, strings.ToLower(e))
		}
	}
	return cfg, nil
}

var errNoServer = errors.New("no API key and no server")

const howToConnect = `chat needs a chat model on an OpenAI-compatible API. Either:

  - use OpenAI:   export OPENAI_API_KEY=sk-...
  - or point it at any compatible server with -base-url (or OPENAI_BASE_URL)
    and name its model with -model (or CHAT_MODEL). With a local Ollama:

        ollama pull llama3.2
        go run ./examples/chat -dir ./docs -base-url http://localhost:11434/v1 -model llama3.2

    vLLM, LiteLLM and llama.cpp's server work the same way. Documents are then
    embedded locally (Hashing), or by the server with -embed-model nomic-embed-text.
`

// run indexes cfg.dir and chats on in and out until /quit or the end of
// in.
func run(ctx context.Context, cfg config, in io.Reader, out, errOut io.Writer) error {
	if cfg.apiKey == "" && cfg.baseURL == "" {
		fmt.Fprint(errOut, howToConnect)
		return errNoServer
	}
	openAI := cfg.baseURL == "" || cfg.baseURL == llm.DefaultOpenAIBaseURL
	if cfg.model == "" {
		if !openAI {
			fmt.Fprintln(errOut, "chat: -model is needed with -base-url: the name of a chat model the server has (e.g. llama3.2 on Ollama)")
			return errNoServer
		}
		cfg.model = llm.DefaultOpenAIModel
	}
	model := llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: cfg.apiKey, BaseURL: cfg.baseURL}, Model: cfg.model})

	var embedder embed.Embedder
	embedName := cfg.embedModel
	switch {
	case cfg.embedModel != "":
		embedder = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: cfg.apiKey, BaseURL: cfg.baseURL}, Model: cfg.embedModel})
	case openAI:
		embedder = embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{APIKey: cfg.apiKey}})
		embedName = embed.DefaultOpenAIModel
	default:
		embedder = embed.NewHashing(embed.HashingOptions{})
		embedName = "local Hashing (lexical)"
	}
	opts := rag.Options{
		Embedder:   embedder,
		Model:      model,
		ChunkerFor: chunkerFor,
		Logger:     slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if cfg.enrich {
		opts.Enrich = &rag.EnrichOptions{}
	}
	p, err := rag.New(opts)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "Indexing %s (embeddings: %s)...\n", cfg.dir, embedName)
	rep, err := index(ctx, p, cfg.dir, cfg.exts, errOut)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Indexed %d files as %d passages. Chatting with %s: ask a question, /reset, /quit.\n", rep.Stored+rep.Unchanged, rep.Ingest.Chunks, cfg.model)

	var conv rag.Conversation
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		fmt.Fprint(out, "\n> ")
		if !lines.Scan() {
			fmt.Fprintln(out)
			return lines.Err()
		}
		q := strings.TrimSpace(lines.Text())
		switch q {
		case "":
			continue
		case "/quit", "/exit":
			return nil
		case "/reset":
			conv.Reset()
			fmt.Fprintln(out, "(new conversation)")
			continue
		}
		if err := ask(ctx, p, &conv, q, cfg, out); err != nil {
			fmt.Fprintf(out, "\n[error: %v]\n", err)
		}
	}
}

// ask answers one question, streaming the answer, then lists its sources.
// Ctrl-C stops the answer, not the program.
func ask(ctx context.Context, p *rag.Pipeline, conv *rag.Conversation, q string, cfg config, out io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	opts := &rag.AnswerOptions{
		Conversation: conv,
		RewriteQuery: !cfg.noRewrite,
		Search:       &rag.SearchOptions{TopK: cfg.topK},
	}
	fmt.Fprintln(out)
	for c, err := range p.AnswerStream(ctx, q, opts) {
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(out, "\n[stopped]")
				return nil
			}
			return err
		}
		if c.Answer == nil {
			fmt.Fprint(out, c.Text)
			continue
		}
		a := c.Answer
		fmt.Fprintln(out)
		if a.Query != a.Question {
			fmt.Fprintf(out, "\n(searched for: %s)\n", a.Query)
		}
		if len(a.Citations) > 0 {
			fmt.Fprintln(out, "\nSources:")
			for _, s := range a.Citations {
				fmt.Fprintf(out, "  [%d] %s — %s\n", s.N, s.Title, location(s))
			}
		} else if len(a.Passages) > 0 {
			fmt.Fprintf(out, "\n(no source cited; %d passages were retrieved)\n", len(a.Passages))
		}
	}
	return nil
}

// location says where a passage comes from: the file, or that it is the
// summary of one.
func location(s rag.Passage) string {
	if s.IsSummary() {
		return s.Source + " (summary)"
	}
	return s.Source
}

// chunkerFor splits Markdown files by their structure, and other files
// with the default chunker.
func chunkerFor(d rag.Document) chunk.Chunker {
	switch strings.ToLower(filepath.Ext(d.Source)) {
	case ".md", ".markdown":
		return markdown
	}
	return nil
}

var markdown = chunk.NewMarkdown(chunk.MarkdownOptions{})

// index syncs the files under dir with one of the extensions (all the
// formats the loaders read when exts is empty) into the pipeline, leaving
// out hidden files and directories, node_modules and vendor. Files that
// could not be indexed are listed on errOut, those of a type no loader
// reads only counted.
func index(ctx context.Context, p *rag.Pipeline, dir string, exts []string, errOut io.Writer) (*rag.SyncReport, error) {
	o := &rag.SyncOptions{Exclude: []string{".*", "node_modules", "vendor"}}
	for _, e := range exts {
		o.Include = append(o.Include, "*"+e)
	}
	rep, err := p.Sync(ctx, os.DirFS(dir), o)
	if err != nil {
		return nil, fmt.Errorf("indexing: %w", err)
	}
	unsupported := 0
	for _, f := range rep.Files {
		switch {
		case f.Status != rag.FileFailed:
		case errors.Is(f.Err, loader.ErrUnsupported):
			unsupported++
		default:
			fmt.Fprintf(errOut, "chat: not indexed: %v\n", f.Err)
		}
	}
	if unsupported > 0 {
		fmt.Fprintf(errOut, "chat: %d files of a type no loader reads were not indexed\n", unsupported)
	}
	if rep.Stored+rep.Unchanged == 0 {
		what := "readable"
		if len(exts) > 0 {
			what = strings.Join(exts, ", ")
		}
		return nil, fmt.Errorf("no %s files under %s", what, dir)
	}
	return rep, nil
}
