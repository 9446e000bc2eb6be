package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/openaitest"
)

// offline clears the environment the command reads, so that it runs on
// the Hashing embedder.
func offline(t *testing.T) {
	for _, k := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "EMBED_MODEL", "CHAT_MODEL"} {
		t.Setenv(k, "")
	}
}

// cmd runs the command line in-process.
func cmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestIngestSearchAgainAndDelete(t *testing.T) {
	offline(t)
	dir := writeTree(t, map[string]string{
		"tides.txt":          "Tides are caused by the gravity of the Moon and the Sun.",
		"notes/go.txt":       "Goroutines communicate over channels.",
		"image.png":          "\x89PNG\r\n\x1a\n\x00\x00\x00binary",
		".hidden/secret.txt": "not to be indexed",
	})
	store := filepath.Join(t.TempDir(), "store")

	code, out, errOut := cmd(t, "ingest", dir, "--store", store)
	if code != 0 {
		t.Fatalf("ingest: status %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "embedder: Hashing (offline") {
		t.Errorf("ingest does not say it runs offline: %q", errOut)
	}
	if !strings.Contains(out, "2 stored, 0 unchanged, 0 deleted, 0 failed, 1 of an unsupported type (1 excluded)") {
		t.Errorf("ingest summary: %q", out)
	}
	if !strings.Contains(errOut, "files 3/3") { // stderr is not a terminal: plain lines
		t.Errorf("no final progress line: %q", errOut)
	}
	if strings.Contains(errOut, "\r") {
		t.Errorf("progress redrawn in place on a non-terminal: %q", errOut)
	}

	code, out, _ = cmd(t, "search", "--store", store, "channels goroutines")
	if code != 0 || !strings.HasPrefix(out, "1. ") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "notes/go.txt") {
		t.Errorf("search: status %d, %q", code, out)
	}
	code, out, _ = cmd(t, "search", "--store", store, "--json", "-k", "1", "--mode", "lexical", "moon gravity")
	var hit hitJSON
	if code != 0 || json.Unmarshal([]byte(out), &hit) != nil || hit.Source != "tides.txt" || hit.Rank != 1 {
		t.Errorf("search --json: status %d, %q", code, out)
	}

	code, out, _ = cmd(t, "ingest", "--store", store, dir)
	if code != 0 || !strings.Contains(out, "0 stored, 2 unchanged") || !strings.Contains(out, "0 embedding requests") || !strings.Contains(out, " 0 chunks") {
		t.Errorf("second ingest: status %d, %q", code, out)
	}
	// Nothing read: the image, which no loader reads, is remembered.
	if !strings.Contains(out, "; 0 files read (0.0 MB) in") || !strings.Contains(out, "1 of an unsupported type") {
		t.Errorf("second ingest read files: %q", out)
	}

	if err := os.Remove(filepath.Join(dir, "tides.txt")); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cmd(t, "ingest", "--store", store, dir)
	if code != 0 || !strings.Contains(out, "0 stored, 1 unchanged, 1 deleted") {
		t.Errorf("ingest after a deletion: status %d, %q", code, out)
	}
	code, out, _ = cmd(t, "search", "--store", store, "--json", "--mode", "lexical", "moon gravity")
	if code != 0 || strings.Contains(out, "tides.txt") {
		t.Errorf("the deleted file is still found: %q", out)
	}
}

func TestIngestFailures(t *testing.T) {
	offline(t)
	store := filepath.Join(t.TempDir(), "store")
	if code, _, errOut := cmd(t, "ingest", "--store", store, filepath.Join(t.TempDir(), "missing")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing directory: status %d, %q", code, errOut)
	}
	if code, _, _ := cmd(t, "ingest", "--store", store); code != 2 {
		t.Errorf("no directory: status %d, want 2", code)
	}
	if os.Geteuid() == 0 {
		return // permissions do not bind root
	}
	dir := writeTree(t, map[string]string{"ok.txt": "readable", "locked.txt": "unreadable"})
	if err := os.Chmod(filepath.Join(dir, "locked.txt"), 0); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cmd(t, "ingest", "--store", store, dir)
	if code != 1 || !strings.Contains(errOut, "failed: locked.txt: ") || !strings.Contains(errOut, "permission denied") || !strings.Contains(out, "1 stored") {
		t.Errorf("unreadable file: status %d\n%s%s", code, out, errOut)
	}
}

func TestSearchWithoutStore(t *testing.T) {
	offline(t)
	code, _, errOut := cmd(t, "search", "--store", filepath.Join(t.TempDir(), "none"), "anything")
	if code != 1 || !strings.Contains(errOut, "rag ingest DIR first") {
		t.Errorf("status %d, %q", code, errOut)
	}
}

func TestStoreRemembersItsEmbedder(t *testing.T) {
	offline(t)
	dir := writeTree(t, map[string]string{"a.txt": "some text"})
	store := filepath.Join(t.TempDir(), "store")
	if code, _, errOut := cmd(t, "ingest", "--store", store, dir); code != 0 {
		t.Fatal(errOut)
	}
	srv := openaitest.NewServer(openaitest.Options{})
	defer srv.Close()
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	code, _, errOut := cmd(t, "search", "--store", store, "--embed-model", "text-embedding-3-small", "text")
	if code != 1 || !strings.Contains(errOut, "was built with the embedder") {
		t.Errorf("status %d, %q", code, errOut)
	}
}

func TestExtract(t *testing.T) {
	offline(t)
	dir := writeTree(t, map[string]string{"a.txt": "Hello, extracted world.\n"})
	a := filepath.Join(dir, "a.txt")
	code, out, _ := cmd(t, "extract", a)
	if code != 0 || !strings.HasPrefix(out, "== "+a+"\n") || !strings.Contains(out, "Hello, extracted world.") {
		t.Errorf("extract: status %d, %q", code, out)
	}
	code, out, errOut := cmd(t, "extract", "--json", a, filepath.Join(dir, "missing.txt"), filepath.Join(dir, "a.unknown"))
	if code != 1 || !strings.Contains(errOut, "2 of 3 files could not be extracted") {
		t.Errorf("extract with bad files: status %d, %q", code, errOut)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var e extracted
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.File != a || e.Content != "Hello, extracted world.\n" {
			t.Errorf("line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d JSON lines, want 1", n)
	}
}

func TestAsk(t *testing.T) {
	offline(t)
	dir := writeTree(t, map[string]string{"tides.txt": "Tides are caused by the gravity of the Moon."})
	store := filepath.Join(t.TempDir(), "store")
	if code, _, errOut := cmd(t, "ingest", "--store", store, dir); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := cmd(t, "ask", "--store", store, "what causes tides?")
	if code != 2 || !strings.Contains(errOut, "OPENAI_API_KEY") || !strings.Contains(errOut, "OPENAI_BASE_URL") {
		t.Errorf("ask without a model: status %d, %q", code, errOut)
	}
	srv := openaitest.NewServer(openaitest.Options{ChatReplies: []string{"The Moon's gravity [1]."}})
	defer srv.Close()
	t.Setenv("OPENAI_BASE_URL", srv.URL())
	if code, _, errOut := cmd(t, "ask", "--store", store, "what causes tides?"); code != 2 || !strings.Contains(errOut, "--model") {
		t.Errorf("ask at a server without --model: status %d, %q", code, errOut)
	}
	code, out, errOut := cmd(t, "ask", "--store", store, "--model", "llama3.2", "what causes tides?")
	if code != 0 || !strings.HasPrefix(out, "The Moon's gravity [1].") || !strings.Contains(out, "[1] tides — tides.txt") {
		t.Errorf("ask: status %d\n%s%s", code, out, errOut)
	}
}

func TestEval(t *testing.T) {
	offline(t)
	data := writeTree(t, map[string]string{
		"corpus.jsonl":   `{"_id":"d1","title":"Tides","text":"The Moon's gravity causes tides."}` + "\n" + `{"_id":"d2","title":"Bread","text":"Yeast makes sourdough rise."}` + "\n",
		"queries.jsonl":  `{"_id":"q1","text":"what causes tides"}` + "\n" + `{"_id":"q2","text":"why does sourdough rise"}` + "\n",
		"qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n",
	})
	code, out, errOut := cmd(t, "eval", "-data", data, "-modes", "bm25,vector")
	if code != 0 || !strings.Contains(out, "2 documents") || !strings.Contains(out, "| bm25 |") {
		t.Errorf("eval: status %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := cmd(t, "eval", "-modes", "nonsense", "-data", data); code != 1 {
		t.Errorf("eval with a bad mode: status %d", code)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := cmd(t); code != 2 || !strings.Contains(errOut, "usage: rag") {
		t.Errorf("no command: %d %q", code, errOut)
	}
	if code, _, _ := cmd(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: %d", code)
	}
	if code, _, _ := cmd(t, "search", "-h"); code != 0 {
		t.Errorf("-h: %d", code)
	}
}
