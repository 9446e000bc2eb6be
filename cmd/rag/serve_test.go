package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServe ingests a tree, serves the store, searches it over HTTP as the
// default tenant and as another (which sees nothing), and stops on cancel.
func TestServe(t *testing.T) {
	offline(t)
	dir := writeTree(t, map[string]string{"tides.txt": "Tides are caused by the gravity of the Moon and the Sun."})
	store := filepath.Join(t.TempDir(), "store")
	if code, out, errOut := cmd(t, "ingest", dir, "--store", store); code != 0 {
		t.Fatalf("ingest: status %d\n%s%s", code, out, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--store", store, "--addr", "127.0.0.1:0", "--tenant-header", "X-Tenant"}, io.Discard, pw)
		pw.Close()
	}()
	var base string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := regexp.MustCompile(`on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("serve printed no address (status %d)", <-code)
	}
	go io.Copy(io.Discard, pr) // the server's log

	search := func(tenant string) []map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/search", strings.NewReader(`{"query": "what causes tides"}`))
		req.Header.Set("Content-Type", "application/json")
		if tenant != "" {
			req.Header.Set("X-Tenant", tenant)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("search as %q: %d %s", tenant, resp.StatusCode, b)
		}
		var body struct {
			Hits []map[string]any `json:"hits"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return body.Hits
	}
	if hits := search(""); len(hits) == 0 || !strings.Contains(hits[0]["text"].(string), "Moon") {
		t.Errorf("default tenant: hits %v, want the tides file", hits)
	}
	if hits := search("acme"); len(hits) != 0 {
		t.Errorf("tenant acme sees %d hits of the default tenant's documents", len(hits))
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("serve exited with %d after cancel, want 0", c)
	}
}
