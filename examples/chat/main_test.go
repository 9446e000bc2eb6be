package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/openaitest"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var corpus = map[string]string{
	"tides.md":           "# Tides\n\nTides are caused by the gravity of the Moon and the Sun.\n",
	"notes/go.txt":       "Goroutines communicate over channels.\n",
	"image.png":          "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
	".hidden/secret.md":  "# Secret\n\nNot to be indexed.\n",
	"empty.md":           "   \n",
	"notes/sourdough.md": "Sourdough rises because wild yeast ferments the dough.\n",
}

func TestNoServerSaysHow(t *testing.T) {
	cfg, err := parseFlags(nil, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), cfg, strings.NewReader(""), &out, &errOut)
	if !errors.Is(err, errNoServer) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"OPENAI_API_KEY", "-base-url", "http://localhost:11434/v1", "-model"} {
		if !strings.Contains(errOut.String(), want) {
			t.Fatalf("message lacks %q:\n%s", want, errOut.String())
		}
	}
	// A base URL needs a model name.
	cfg.baseURL = "http://localhost:11434/v1"
	errOut.Reset()
	if err := run(context.Background(), cfg, strings.NewReader(""), &out, &errOut); !errors.Is(err, errNoServer) || !strings.Contains(errOut.String(), "-model") {
		t.Fatalf("err %v: %s", err, errOut.String())
	}
}

func TestFlagsAndEnv(t *testing.T) {
	env := map[string]string{"OPENAI_BASE_URL": "http://x/v1", "CHAT_MODEL": "m1", "OPENAI_API_KEY": "k"}
	cfg, err := parseFlags([]string{"-model", "m2", "-ext", "md, rst"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.baseURL != "http://x/v1" || cfg.model != "m2" || cfg.apiKey != "k" || strings.Join(cfg.exts, " ") != ".md .rst" {
		t.Fatalf("%+v", cfg)
	}
}

func TestChat(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ChatReply: func(r openaitest.ChatRequest) string {
		switch {
		case strings.Contains(r.Messages[0].Content, "rewrite follow-up questions"):
			return "Why does the Moon cause tides?"
		case strings.Contains(r.LastUserMessage(), "] Tides (tides.md)"):
			return "The Moon's gravity causes them [1]."
		}
		return "The documents do not say."
	}})
	defer srv.Close()
	dir := writeFiles(t, corpus)
	cfg, err := parseFlags([]string{"-dir", dir, "-base-url", srv.URL(), "-model", "llama3.2", "-top-k", "1"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.NewReader("What causes tides?\nAnd why?\n/reset\nWho won the match?\n/quit\nnever read\n")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), cfg, in, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	o := out.String()
	for _, want := range []string{
		"Indexed 3 files as 3 passages",
		"The Moon's gravity causes them [1].\n\nSources:\n  [1] Tides — tides.md\n",
		"(searched for: Why does the Moon cause tides?)",
		"(new conversation)",
		"The documents do not say.\n\n(no source cited; 1 passages were retrieved)",
	} {
		if !strings.Contains(o, want) {
			t.Fatalf("output lacks %q:\n%s", want, o)
		}
	}
	// Answer, rewrite + answer, answer (no rewrite after /reset).
	if n := srv.Stats().ChatRequests; n != 4 {
		t.Fatalf("%d chat requests", n)
	}
	// Nothing left out silently: the empty file failed, the image is of
	// a type no loader reads; the hidden directory is excluded.
	if e := errOut.String(); !strings.Contains(e, "chat: not indexed: ") || !strings.Contains(e, "empty.md") ||
		!strings.Contains(e, "chat: 1 files of a type no loader reads were not indexed") || strings.Contains(e, "secret") {
		t.Fatalf("stderr: %s", e)
	}
}

// With -embed-model the server embeds the documents too.
func TestChatServerEmbeddings(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"Channels [1]."}})
	defer srv.Close()
	dir := writeFiles(t, corpus)
	cfg := config{dir: dir, baseURL: srv.URL(), model: "m", embedModel: "nomic-embed-text", topK: 2, exts: []string{".txt"}}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), cfg, strings.NewReader("How do goroutines talk?\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "[1] go — notes/go.txt") {
		t.Fatalf("%s", out.String())
	}
	st := srv.Stats()
	if st.EmbedRequests < 2 || st.ChatRequests != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestChatEmptyDir(t *testing.T) {
	cfg := config{dir: t.TempDir(), baseURL: "http://127.0.0.1:1/v1", model: "m", exts: []string{".md"}}
	err := run(context.Background(), cfg, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no .md files") {
		t.Fatalf("err %v", err)
	}
}
