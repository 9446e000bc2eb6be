package rag_test

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/llm/llmtest"
	"github.com/ragkit-go/rag/provider"
)

// tenantHeader carries the tenant in TestHandlerTenantIsolation; a real
// service takes it from its authentication instead.
const tenantHeader = "X-Test-Tenant"

// tenantTag is the word every document of tenant carries in its content,
// so that a hit, a citation or a prompt shows whose it is.
func tenantTag(tenant string) string { return "owner" + strings.ToUpper(cmp.Or(tenant, "default")) }

// TestHandlerTenantIsolation runs random operations of several tenants
// with colliding document IDs through the handler, over HTTP: every hit,
// citation and passage a tenant gets must carry its own tag, every status
// must match what that tenant alone wrote and deleted, and the model must
// never see another tenant's text.
func TestHandlerTenantIsolation(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	defer func() {
		if t.Failed() {
			t.Logf("seed %d", seed)
		}
	}()
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	var (
		leak   = make(chan string, 1)
		others = []string{"", "acme", "globex", "initech"}
	)
	model := &llmtest.Model{Reply: func(req llm.Request) string {
		// The prompt holds the passages; their tags must be the asker's
		// (the question says who asks).
		prompt := req.Messages[len(req.Messages)-1].Content
		asker := ""
		for _, tn := range others {
			if strings.Contains(prompt, "asker "+tenantTag(tn)) {
				asker = tn
			}
		}
		for _, tn := range others {
			if tn != asker && strings.Contains(prompt, tenantTag(tn)+" ") {
				select {
				case leak <- fmt.Sprintf("tenant %q's prompt holds %s", asker, tenantTag(tn)):
				default:
				}
			}
		}
		return "It says so [1]."
	}}
	p, err := rag.New(rag.Options{
		Embedder: &embedtest.Fake{}, Model: model, Lexical: &rag.LexicalOptions{},
		Logger:     slog.New(slog.DiscardHandler),
		ModelRetry: provider.RetryPolicy{MaxRetries: -1},
		Ingest:     rag.IngestOptions{Retry: provider.RetryPolicy{MaxRetries: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := httptest.NewServer(rag.NewHandler(p, &rag.HandlerOptions{
		Tenant: func(r *http.Request) (string, error) { return r.Header.Get(tenantHeader), nil },
	}))
	defer srv.Close()

	send := func(tenant, method, path, accept, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tenant != "" {
			req.Header.Set(tenantHeader, tenant)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return doRequest(t, req)
	}

	// The default store serves tenants: a 501 here means the handler
	// lost its tenancy, not that the test has nothing to check.
	if resp, body := send("acme", "GET", "/documents/d0", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET as tenant acme on an empty store: %d %s, want 404", resp.StatusCode, body)
	}

	// A tenant ID the store refuses is a 403, and writes nothing.
	resp, body := send(strings.Repeat("t", 4096), "POST", "/documents", "", `{"id": "d0", "content": "x"}`)
	wantProblem(t, resp, body, 403, rag.ProblemForbidden)
	(&handlerEnv{p: p}).assertNothingStored(t)

	ops := 10_000
	if testing.Short() {
		ops = 1_000
	}
	tenants := others
	ids := []string{"d0", "d1", "d2", "d3", "d4", "docs/d5"}
	stored := map[string]map[string]bool{} // tenant → its stored IDs
	for _, tn := range tenants {
		stored[tn] = map[string]bool{}
	}
	content := func(tn, id string, v int) string {
		return fmt.Sprintf("%s writes %s version %d about goroutines channels tides moon", tenantTag(tn), id, v)
	}
	checkText := func(tn, what, text string) {
		t.Helper()
		for _, other := range tenants {
			if other != tn && strings.Contains(text, tenantTag(other)+" ") {
				t.Fatalf("op on tenant %q: %s %q belongs to tenant %q", tn, what, text, other)
			}
		}
		if !strings.Contains(text, tenantTag(tn)+" ") {
			t.Fatalf("op on tenant %q: %s %q is not its own", tn, what, text)
		}
	}
	queries := []string{"goroutines channels", "tides moon", "version about", "writes d1"}
	searchBodies := []string{
		`{"query": %q, "top_k": 10}`,
		`{"query": %q, "top_k": 10, "mode": "lexical"}`,
		`{"query": %q, "top_k": 10, "mode": "hybrid"}`,
		`{"query": %q, "top_k": 5, "mmr": true}`,
		`{"query": %q, "top_k": 5, "documents": "max"}`,
		`{"query": %q, "filter": {"op": "eq", "field": "_id", "value": "d1"}}`,
	}
	kinds := map[string]int{}
	for i := range ops {
		tn := tenants[rng.IntN(len(tenants))]
		id := ids[rng.IntN(len(ids))]
		r := rng.IntN(100)
		kinds[[]string{"ingest", "delete", "status", "search", "answer"}[slices.IndexFunc([]int{30, 40, 55, 92, 100}, func(b int) bool { return r < b })]]++
		switch {
		case r < 30: // ingest one or two documents
			docs := []map[string]any{{"id": id, "content": content(tn, id, i)}}
			if rng.IntN(2) == 0 {
				id2 := ids[rng.IntN(len(ids))]
				docs = append(docs, map[string]any{"id": id2, "content": content(tn, id2, i)})
			}
			b, _ := json.Marshal(map[string]any{"documents": docs})
			resp, body := send(tn, "POST", "/documents", "", string(b))
			wantStatus(t, resp, body, 200)
			for _, d := range docs {
				stored[tn][d["id"].(string)] = true
			}
		case r < 40:
			resp, body := send(tn, "DELETE", "/documents/"+id, "", "")
			wantStatus(t, resp, body, 204)
			delete(stored[tn], id)
		case r < 55:
			resp, body := send(tn, "GET", "/documents/"+id, "", "")
			if stored[tn][id] {
				wantStatus(t, resp, body, 200)
			} else {
				wantProblem(t, resp, body, 404, rag.ProblemDocumentNotFound)
			}
		case r < 92:
			q := fmt.Sprintf(searchBodies[rng.IntN(len(searchBodies))], queries[rng.IntN(len(queries))])
			resp, body := send(tn, "POST", "/search", "", q)
			wantStatus(t, resp, body, 200)
			var out struct {
				Hits []struct {
					DocID string `json:"doc_id"`
					Text  string `json:"text"`
				} `json:"hits"`
			}
			decode(t, body, &out)
			for _, h := range out.Hits {
				checkText(tn, "hit", h.Text)
				if !stored[tn][h.DocID] {
					t.Fatalf("op %d on tenant %q: hit of %q, which it has not stored", i, tn, h.DocID)
				}
			}
		default: // an answer, as JSON or streamed
			q, _ := json.Marshal(map[string]any{"question": "asker " + tenantTag(tn) + " asks about " + queries[rng.IntN(len(queries))]})
			accept := ""
			if rng.IntN(2) == 0 {
				accept = "text/event-stream"
			}
			resp, body := send(tn, "POST", "/answer", accept, string(q))
			wantStatus(t, resp, body, 200)
			var citations []struct {
				Text string `json:"text"`
			}
			if accept == "" {
				var a struct {
					Citations *[]struct {
						Text string `json:"text"`
					} `json:"citations"`
				}
				a.Citations = &citations
				decode(t, body, &a)
			} else {
				r := &sseReader{r: bufio.NewReader(strings.NewReader(string(body)))}
				for {
					ev, err := r.next()
					if err == io.EOF {
						break
					}
					if ev.Name == "error" {
						t.Fatalf("op %d: error event %s", i, ev.Data)
					}
					if ev.Name == "citations" {
						var c struct {
							Citations *[]struct {
								Text string `json:"text"`
							} `json:"citations"`
						}
						c.Citations = &citations
						decode(t, []byte(ev.Data), &c)
					}
				}
			}
			for _, c := range citations {
				checkText(tn, "citation", c.Text)
			}
		}
		select {
		case msg := <-leak:
			t.Fatalf("op %d: %s", i, msg)
		default:
		}
	}
	// Each tenant's final statuses are its own.
	for _, tn := range tenants {
		for _, id := range ids {
			resp, body := send(tn, "GET", "/documents/"+id, "", "")
			if stored[tn][id] != (resp.StatusCode == 200) {
				t.Fatalf("tenant %q, %q: status %d, stored %v", tn, id, resp.StatusCode, stored[tn][id])
			}
			_ = body
		}
	}
	t.Logf("%d operations over HTTP: %v", ops, kinds)
	if !slices.ContainsFunc(tenants, func(tn string) bool { return len(stored[tn]) > 0 }) {
		t.Fatal("the run stored nothing: it tested nothing")
	}
}
