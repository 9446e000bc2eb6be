package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/provider"
)

// hitJSON is one hit in rag search --json's output.
type hitJSON struct {
	Rank   int     `json:"rank"`
	Score  float64 `json:"score"`
	DocID  string  `json:"doc_id"`
	Title  string  `json:"title,omitempty"`
	Source string  `json:"source,omitempty"`
	Start  int     `json:"start"`
	End    int     `json:"end"`
	Text   string  `json:"text"`
}

var modes = map[string]rag.SearchMode{"hybrid": rag.HybridSearch, "vector": rag.VectorSearch, "lexical": rag.LexicalSearch}

// search prints the store's best passages for a query.
func search(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("search", "[flags] QUERY", stderr)
	var sf storeFlags
	sf.register(fs)
	k := fs.Int("k", 5, "passages to print")
	mode := fs.String("mode", "hybrid", "hybrid, vector or lexical")
	asJSON := fs.Bool("json", false, "print a JSON object per hit, one a line")
	words, err := parse(fs, args)
	if err != nil {
		return err
	}
	m, ok := modes[*mode]
	if len(words) == 0 || !ok {
		fs.Usage()
		return errUsage
	}
	st, err := openStore(&sf, false, rag.Options{}, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	hits, err := st.p.Search(ctx, strings.Join(words, " "), &rag.SearchOptions{TopK: *k, Mode: m})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for i, h := range hits {
		if *asJSON {
			if err := enc.Encode(hitJSON{Rank: i + 1, Score: h.Score, DocID: h.DocID, Title: h.Title, Source: h.Source, Start: h.Start, End: h.End, Text: h.Text}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "%d. %.3f  %s — %s\n   %s\n", i+1, h.Score, h.Source, h.Title, snippet(h.Text, 200))
	}
	if len(hits) == 0 && !*asJSON {
		fmt.Fprintln(stdout, "no results")
	}
	return nil
}

// snippet is text on one line, cut at about n bytes.
func snippet(text string, n int) string {
	s := strings.Join(strings.Fields(text), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
	}
	return s[:cut] + " …"
}

// errNoModel: rag ask without a chat model.
var errNoModel = errors.New(`rag ask needs a chat model on an OpenAI-compatible API:
  - OpenAI:               export OPENAI_API_KEY=sk-...
  - any other server:     export OPENAI_BASE_URL=http://localhost:11434/v1 (Ollama), and --model llama3.2`)

// ask answers a question from the store, streaming the answer, then lists
// the passages it cites.
func ask(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ask", "[flags] QUESTION", stderr)
	var sf storeFlags
	sf.register(fs)
	model := fs.String("model", "", "chat model (env CHAT_MODEL; default "+llm.DefaultOpenAIModel+" at OpenAI)")
	k := fs.Int("k", rag.DefaultAnswerTopK, "passages given to the model")
	words, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		fs.Usage()
		return errUsage
	}
	m, err := chatModel(*model)
	if err != nil {
		return err
	}
	st, err := openStore(&sf, false, rag.Options{Model: m}, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	for d, err := range st.p.AnswerStream(ctx, strings.Join(words, " "), &rag.AnswerOptions{Search: &rag.SearchOptions{TopK: *k, Mode: rag.HybridSearch}}) {
		if err != nil {
			fmt.Fprintln(stdout)
			return err
		}
		fmt.Fprint(stdout, d.Text)
		if a := d.Answer; a != nil {
			fmt.Fprintln(stdout)
			if len(a.Citations) > 0 {
				fmt.Fprintln(stdout, "\nSources:")
			}
			for _, c := range a.Citations {
				fmt.Fprintf(stdout, "  [%d] %s — %s\n", c.N, c.Title, c.Source)
			}
		}
	}
	return nil
}

// chatModel is the OpenAI-compatible chat model the environment names
// (OPENAI_API_KEY, OPENAI_BASE_URL) with the model name given or
// CHAT_MODEL; errNoModel when the environment names no server.
func chatModel(model string) (llm.Model, error) {
	cfg := provider.OpenAIFromEnv()
	if model == "" {
		model = envOr("CHAT_MODEL", "")
	}
	switch {
	case cfg.APIKey == "" && cfg.BaseURL == "":
		return nil, &exitError{code: 2, err: errNoModel}
	case model == "" && cfg.URL() != provider.DefaultOpenAIBaseURL:
		return nil, &exitError{code: 2, err: fmt.Errorf("--model (or CHAT_MODEL) is needed with OPENAI_BASE_URL: the name of a chat model %s has", cfg.URL())}
	case model == "":
		model = llm.DefaultOpenAIModel
	}
	return llm.NewOpenAI(llm.OpenAIOptions{OpenAIConfig: cfg, Model: model}), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
