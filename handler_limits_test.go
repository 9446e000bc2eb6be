package rag_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed/embedtest"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/provider"
)

// unsized hides a body's length, so the client sends it chunked and the
// handler learns its size only by reading it.
type unsized struct{ r io.Reader }

func (u unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

func TestHandlerRejectsBadBodies(t *testing.T) {
	env := newHandlerEnv(t, nil, nil, &rag.HandlerOptions{MaxBodyBytes: 1 << 10, MaxDocuments: 2})
	big := strings.Repeat("word ", 400) // 2,000 bytes of content
	valid := `{"id": "ok", "content": "fine"}`
	for _, c := range []struct {
		name, contentType string
		body              io.Reader
		status            int
		code              rag.ProblemCode
	}{
		{"oversize, with a length", "application/json", strings.NewReader(`{"content": "` + big + `"}`), 413, rag.ProblemBodyTooLarge},
		{"oversize, chunked", "application/json", unsized{strings.NewReader(`{"content": "` + big + `"}`)}, 413, rag.ProblemBodyTooLarge},
		{"too many documents", "application/json", strings.NewReader(`{"documents": [` + valid + `,` + valid + `,` + valid + `]}`), 413, rag.ProblemTooManyDocuments},
		{"not JSON", "application/json", strings.NewReader(`{"content": "cut`), 400, rag.ProblemMalformedBody},
		{"wrong type", "application/json", strings.NewReader(`{"content": 3}`), 400, rag.ProblemMalformedBody},
		{"unknown field", "application/json", strings.NewReader(`{"content": "x", "body": "y"}`), 400, rag.ProblemMalformedBody},
		{"data after the value", "application/json", strings.NewReader(valid + ` {}`), 400, rag.ProblemMalformedBody},
		{"one document and a list", "application/json", strings.NewReader(`{"content": "x", "documents": [` + valid + `]}`), 400, rag.ProblemMalformedBody},
		{"no media type", "", strings.NewReader(valid), 415, rag.ProblemUnsupportedMediaType},
		{"a form", "application/x-www-form-urlencoded", strings.NewReader("content=x"), 415, rag.ProblemUnsupportedMediaType},
		{"no documents", "application/json", strings.NewReader(`{"documents": []}`), 422, rag.ProblemNoDocuments},
		{"empty content", "application/json", strings.NewReader(`{"content": "  "}`), 422, rag.ProblemInvalidDocument},
		{"multipart without boundary", "multipart/form-data", strings.NewReader("x"), 400, rag.ProblemMalformedBody},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := env.do(t, "POST", "/documents", c.contentType, c.body)
			wantProblem(t, resp, body, c.status, c.code)
			env.assertNothingStored(t)
			if env.emb.Calls() != 0 {
				t.Fatalf("a rejected body was embedded (%d calls)", env.emb.Calls())
			}
		})
	}

	// One invalid document among valid ones: each invalid one is listed,
	// and the valid ones are not written either.
	resp, body := env.postJSON(t, "/documents", `{"documents": [`+valid+`, {"id": "bad", "content": "x", "metadata": {"nested": {"a": 1}}}]}`)
	pb := wantProblem(t, resp, body, 422, rag.ProblemInvalidDocument)
	if len(pb.Errors) != 1 || pb.Errors[0].Index != 1 || pb.Errors[0].ID != "bad" || pb.Errors[0].Code != string(rag.ProblemInvalidDocument) || pb.Errors[0].Detail == "" {
		t.Fatalf("errors %+v, want document 1 listed", pb.Errors)
	}
	env.assertNothingStored(t)

	// The same limits hold for searches and answers.
	resp, body = env.postJSON(t, "/search", `{"query": "`+big+`"}`)
	wantProblem(t, resp, body, 413, rag.ProblemBodyTooLarge)
	resp, body = env.postJSON(t, "/answer", `{"question": "`+big+`"}`)
	wantProblem(t, resp, body, 413, rag.ProblemBodyTooLarge)
	if env.emb.Calls() != 0 || env.model.Calls() != 0 {
		t.Fatalf("oversize queries reached the providers")
	}
}

// testRegistry is a loader registry with one test format, ".note": its
// content is the file's text, its title the first line. A file holding
// "MALFORMED" fails; "SPLIT" makes two documents.
func testRegistry() *loader.Registry {
	reg := &loader.Registry{}
	reg.Register("note", loader.LoaderFunc(func(ctx context.Context, f *loader.File) ([]document.Document, error) {
		text := string(f.Data)
		switch strings.TrimSpace(text) {
		case "MALFORMED":
			return nil, fmt.Errorf("%w: not a note", loader.ErrMalformed)
		case "SPLIT":
			return []document.Document{{Content: "first half"}, {Content: "second half"}}, nil
		}
		title, _, _ := strings.Cut(text, "\n")
		return []document.Document{{Title: title, Content: text, Metadata: map[string]any{loader.MetaMIMEType: "text/x-note"}}}, nil
	}), []string{".note"}, []string{"text/x-note"})
	return reg
}

// form builds a multipart/form-data body of files (name → content) and
// plain fields.
func form(t *testing.T, files [][2]string, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		w, err := mw.CreateFormFile("file", f[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

func TestHandlerUpload(t *testing.T) {
	env := newHandlerEnv(t, nil, nil, &rag.HandlerOptions{Loaders: testRegistry(), MaxBodyBytes: 4 << 10, MaxDocuments: 3})

	ct, body := form(t, [][2]string{{"notes/go.note", "Go\nGoroutines communicate over channels."}, {"split.note", "SPLIT"}}, nil)
	resp, data := env.do(t, "POST", "/documents", ct, body)
	wantStatus(t, resp, data, http.StatusOK)
	var rep reportBody
	decode(t, data, &rep)
	if rep.Stored != 3 {
		t.Fatalf("report %+v, want 3 stored", rep)
	}
	ids := env.storedIDs(t)
	if want := []string{"notes/go.note", "split.note#1", "split.note#2"}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("stored %q, want %q", ids, want)
	}
	hits, err := env.p.Search(context.Background(), "goroutines channels", &rag.SearchOptions{TopK: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].DocID != "notes/go.note" || hits[0].Title != "Go" || hits[0].Source != "notes/go.note" {
		t.Fatalf("hits %+v, want the uploaded note with its title and source", hits)
	}

	calls := env.emb.Calls()
	for _, c := range []struct {
		name   string
		files  [][2]string
		fields map[string]string
		status int
		code   rag.ProblemCode
	}{
		{"an unknown format", [][2]string{{"a.note", "fine"}, {"b.xyz", "\x00\x01\x02binary"}}, nil, 415, rag.ProblemUnsupportedMediaType},
		{"a malformed file", [][2]string{{"a.note", "fine"}, {"b.note", "MALFORMED"}}, nil, 422, rag.ProblemUnreadableFile},
		{"a plain field", [][2]string{{"a.note", "fine"}}, map[string]string{"title": "x"}, 400, rag.ProblemMalformedBody},
		{"no file", nil, nil, 422, rag.ProblemNoDocuments},
		{"too many documents", [][2]string{{"a.note", "one"}, {"b.note", "SPLIT"}, {"c.note", "SPLIT"}}, nil, 413, rag.ProblemTooManyDocuments},
		{"oversize", [][2]string{{"a.note", strings.Repeat("x", 5<<10)}}, nil, 413, rag.ProblemBodyTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct, body := form(t, c.files, c.fields)
			resp, data := env.do(t, "POST", "/documents", ct, unsized{body})
			wantProblem(t, resp, data, c.status, c.code)
			if got := env.storedIDs(t); len(got) != 3 {
				t.Fatalf("the store holds %q: a rejected upload wrote", got)
			}
			if env.emb.Calls() != calls {
				t.Fatal("a rejected upload was embedded")
			}
		})
	}

	// A file over the loader's limit.
	small := newHandlerEnv(t, nil, nil, &rag.HandlerOptions{Loaders: testRegistry(), LoadLimits: loader.Limits{MaxFileSize: 8}})
	ct, body = form(t, [][2]string{{"a.note", "more than eight bytes"}}, nil)
	resp, data = small.do(t, "POST", "/documents", ct, body)
	wantProblem(t, resp, data, 413, rag.ProblemFileTooLarge)
	small.assertNothingStored(t)
}

func TestHandlerTenant(t *testing.T) {
	var asked atomic.Int32
	env := newHandlerEnv(t, nil, nil, &rag.HandlerOptions{
		Challenge: `Bearer realm="rag"`,
		Tenant: func(r *http.Request) (string, error) {
			asked.Add(1)
			switch r.Header.Get("Authorization") {
			case "":
				return "", errors.New("no credentials: secret detail")
			case "Bearer reader":
				return "", fmt.Errorf("read-only key: %w", rag.ErrForbidden)
			}
			return "", nil
		},
		MaxBodyBytes: 64,
	})
	post := func(auth, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", env.srv.URL+"/documents", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return doRequest(t, req)
	}
	// The tenant is resolved before the body is read: an oversize or
	// malformed body from an unauthenticated client is refused as such.
	resp, body := post("", `{"content": "`+strings.Repeat("x", 100)+`"}`)
	pb := wantProblem(t, resp, body, 401, rag.ProblemUnauthenticated)
	if resp.Header.Get("WWW-Authenticate") != `Bearer realm="rag"` || strings.Contains(pb.Detail, "secret") {
		t.Fatalf("401 with WWW-Authenticate %q and detail %q", resp.Header.Get("WWW-Authenticate"), pb.Detail)
	}
	resp, body = post("Bearer reader", `not json`)
	wantProblem(t, resp, body, 403, rag.ProblemForbidden)
	env.assertNothingStored(t)
	resp, body = post("Bearer default", `{"content": "hello"}`)
	wantStatus(t, resp, body, 200)
	if n := asked.Load(); n != 3 {
		t.Fatalf("Tenant called %d times for 3 requests", n)
	}

	// Every route but the OpenAPI document is scoped.
	for _, rt := range [][2]string{{"GET", "/documents/x"}, {"DELETE", "/documents/x"}, {"POST", "/search"}, {"POST", "/answer"}} {
		resp, body := env.do(t, rt[0], rt[1], "application/json", strings.NewReader(`{}`))
		wantProblem(t, resp, body, 401, rag.ProblemUnauthenticated)
	}
	resp, body = env.do(t, "GET", "/openapi.json", "", nil)
	wantStatus(t, resp, body, 200)
}

func TestHandlerIngestFailures(t *testing.T) {
	t.Run("the client goes away: nothing written", func(t *testing.T) {
		entered := make(chan struct{})
		cancelled := make(chan error, 1)
		emb := &embedtest.Fake{OnCall: func(ctx context.Context, call int, texts []string) error {
			close(entered)
			<-ctx.Done()
			cancelled <- ctx.Err()
			return ctx.Err()
		}}
		env := newHandlerEnv(t, emb, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", env.srv.URL+"/documents", strings.NewReader(`{"content": "hello"}`))
		req.Header.Set("Content-Type", "application/json")
		errc := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		<-entered
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("client: %v, want cancelled", err)
		}
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Fatalf("embedding call ended with %v, want context.Canceled", err)
		}
		// The store is read after the embedding call saw the cancellation;
		// the pipeline writes only documents whose vectors all came back.
		env.srv.Close() // waits for the handler to return
		env.assertNothingStored(t)
	})

	t.Run("a provider refuses: 502 with the report", func(t *testing.T) {
		emb := &embedtest.Fake{OnCall: embedtest.ErrorOn(&provider.Error{Provider: "openai", StatusCode: 400, Message: "bad input: sk-secret"}, 1)}
		env := newHandlerEnv(t, emb, nil, nil)
		resp, body := env.postJSON(t, "/documents", `{"id": "a", "content": "hello"}`)
		pb := wantProblem(t, resp, body, 502, rag.ProblemProviderError)
		if pb.Report == nil || pb.Report.Failed != 1 || len(pb.Report.Documents) != 1 || pb.Report.Documents[0].ID != "a" ||
			pb.Report.Documents[0].Code != string(rag.ProblemProviderError) || strings.Contains(string(body), "secret") {
			t.Fatalf("problem %s, want the report of the failed document without the provider's text", body)
		}
		env.assertNothingStored(t)
	})

	t.Run("a provider is overloaded: 503 with Retry-After", func(t *testing.T) {
		emb := &embedtest.Fake{OnCall: func(context.Context, int, []string) error {
			return &provider.Error{Provider: "openai", StatusCode: 429, Message: "slow down", RetryAfter: 1500e6}
		}}
		env := newHandlerEnv(t, emb, nil, nil)
		resp, body := env.postJSON(t, "/search", `{"query": "hello"}`)
		wantProblem(t, resp, body, 503, rag.ProblemProviderUnavailable)
		if got := resp.Header.Get("Retry-After"); got != "2" {
			t.Fatalf("Retry-After %q, want 2 (1.5s rounded up)", got)
		}
	})
}

func TestHandlerMounted(t *testing.T) {
	env := newPipelineEnv(t, nil, nil)
	mux := http.NewServeMux()
	mux.Handle("/api/rag/", http.StripPrefix("/api/rag", rag.NewHandler(env.p, nil)))
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	env.srv = httptestServer(t, mux)

	resp, body := env.postJSON(t, "/api/rag/documents", `{"id": "a/b", "content": "Goroutines communicate over channels."}`)
	wantStatus(t, resp, body, 200)
	resp, body = env.do(t, "GET", "/api/rag/documents/a%2Fb", "", nil)
	wantStatus(t, resp, body, 200)
	resp, body = env.postJSON(t, "/api/rag/search", `{"query": "goroutines"}`)
	wantStatus(t, resp, body, 200)
	resp, body = env.do(t, "GET", "/api/rag/openapi.json", "", nil)
	wantStatus(t, resp, body, 200)
	if !bytes.Equal(body, rag.OpenAPI()) || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatal("GET /openapi.json is not the OpenAPI document")
	}
	resp, body = env.do(t, "GET", "/health", "", nil)
	wantStatus(t, resp, body, 200)

	resp, body = env.do(t, "GET", "/api/rag/nowhere", "", nil)
	wantProblem(t, resp, body, 404, rag.ProblemNotFound)
	resp, body = env.do(t, "GET", "/api/rag/search", "", nil)
	wantProblem(t, resp, body, 405, rag.ProblemMethodNotAllowed)
	if got := resp.Header.Get("Allow"); got != "POST" {
		t.Fatalf("Allow %q, want POST", got)
	}
	resp, body = env.do(t, "PUT", "/api/rag/documents/x", "", nil)
	wantProblem(t, resp, body, 405, rag.ProblemMethodNotAllowed)
	if got := resp.Header.Get("Allow"); got != "GET, HEAD, DELETE" {
		t.Fatalf("Allow %q, want GET, HEAD, DELETE", got)
	}
}
