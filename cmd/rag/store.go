package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/chunk"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store/flat"
)

// defaultStore is the store directory when --store is not given.
const defaultStore = ".rag"

// storeFlags are the flags of the commands that open the store.
type storeFlags struct {
	dir        string
	embedModel string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dir, "store", defaultStore, "store directory")
	fs.StringVar(&s.embedModel, "embed-model", os.Getenv("EMBED_MODEL"), "embedding model at the OpenAI-compatible server (env EMBED_MODEL; default "+embed.DefaultOpenAIModel+" when OPENAI_API_KEY is set, else the offline Hashing embedder)")
}

// manifest is what a store directory remembers of how it was built, in
// rag.json.
type manifest struct {
	Embedder string `json:"embedder"`
}

// errNoStore: search or ask before any ingest.
var errNoStore = errors.New("no store")

// opened is a pipeline on the store directory.
type opened struct {
	p     *rag.Pipeline
	store *flat.Store
}

// Close closes the pipeline, then the store (which folds its log into its
// snapshot).
func (o *opened) Close() error {
	return errors.Join(o.p.Close(), o.store.Close())
}

// openStore opens the pipeline on the store directory sf.dir, creating it
// when create is set. It says on stderr which embedder it uses when it is
// the offline one.
func openStore(sf *storeFlags, create bool, opts rag.Options, stderr io.Writer) (*opened, error) {
	mpath := filepath.Join(sf.dir, "rag.json")
	var m manifest
	switch b, err := os.ReadFile(mpath); {
	case err == nil:
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", mpath, err)
		}
	case errors.Is(err, fs.ErrNotExist) && !create:
		return nil, fmt.Errorf("%w at %s: run rag ingest DIR first, or name the store with --store", errNoStore, sf.dir)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	e, offline := embedder(sf.embedModel)
	name := embedderName(e)
	if m.Embedder != "" && m.Embedder != name {
		return nil, fmt.Errorf("the store %s was built with the embedder %s, and this run would use %s: set the environment (OPENAI_API_KEY, --embed-model) as when it was built, or use another --store", sf.dir, m.Embedder, name)
	}
	if offline {
		fmt.Fprintln(stderr, "rag: embedder: Hashing (offline, lexical); set OPENAI_API_KEY, or OPENAI_BASE_URL and --embed-model, for a semantic model")
	}
	if err := os.MkdirAll(sf.dir, 0o755); err != nil {
		return nil, err
	}
	if m.Embedder == "" {
		b, _ := json.Marshal(manifest{Embedder: name})
		if err := os.WriteFile(mpath, append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	s, err := flat.New(flat.Options{Path: filepath.Join(sf.dir, "vectors.flat")})
	if err != nil {
		return nil, err
	}
	opts.Embedder = e
	opts.Store = s
	opts.Lexical = &rag.LexicalOptions{Path: filepath.Join(sf.dir, "bm25.idx")}
	opts.ChunkerFor = chunkerFor
	p, err := rag.New(opts)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &opened{p: p, store: s}, nil
}

// embedder is OpenAI's (or the server's at OPENAI_BASE_URL) when
// OPENAI_API_KEY is set or a model is named, the offline Hashing embedder
// otherwise.
func embedder(model string) (e embed.Embedder, offline bool) {
	cfg := provider.OpenAIFromEnv()
	if cfg.APIKey == "" && model == "" {
		return embed.NewHashing(embed.HashingOptions{}), true
	}
	return embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: cfg, Model: model}), false
}

func embedderName(e embed.Embedder) string {
	if n, ok := e.(embed.Namer); ok {
		return n.Name()
	}
	return fmt.Sprintf("%T", e)
}

// markdownExts are the formats whose loaders write Markdown (headings
// kept): they are chunked by their structure.
var markdownExts = []string{".md", ".markdown", ".mdown", ".mkd", ".mdx", ".html", ".htm", ".xhtml", ".docx", ".pptx", ".xlsx", ".odt", ".epub"}

var markdownChunker = chunk.NewMarkdown(chunk.MarkdownOptions{})

func chunkerFor(d rag.Document) chunk.Chunker {
	if slices.Contains(markdownExts, strings.ToLower(path.Ext(d.Source))) {
		return markdownChunker
	}
	return nil
}
