package rag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/loader"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
)

// openAPIRoutes returns the "METHOD /path" operations of the document.
func openAPIRoutes(t *testing.T, doc map[string]any) []string {
	t.Helper()
	var out []string
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(out)
	return out
}

func decodeOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v, want 3.1.0", doc["openapi"])
	}
	return doc
}

// TestOpenAPIMatchesRoutes: every route the handler serves is in the
// OpenAPI document, and every operation of the document is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := decodeOpenAPI(t)
	var served []string
	for _, rt := range routes {
		served = append(served, rt.method+" "+strings.ReplaceAll(rt.path, "...}", "}"))
	}
	slices.Sort(served)
	documented := openAPIRoutes(t, doc)
	if !slices.Equal(served, documented) {
		t.Fatalf("routes served %q, documented %q", served, documented)
	}

	// And the handler answers each documented operation with something
	// other than "no such route".
	p, err := New(Options{Embedder: embed.NewHashing(embed.HashingOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(p, nil))
	defer srv.Close()
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		req, _ := http.NewRequest(method, srv.URL+strings.ReplaceAll(path, "{id}", "some/doc"), strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var pr problem
		json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		if pr.Code == ProblemNotFound || pr.Code == ProblemMethodNotAllowed {
			t.Errorf("%s: answered %s, though documented", op, pr.Code)
		}
	}
}

// TestOpenAPIReferences: every $ref of the document names a component
// it defines, and every component is used.
func TestOpenAPIReferences(t *testing.T) {
	doc := decodeOpenAPI(t)
	used := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				used[ref] = true
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
	components := doc["components"].(map[string]any)
	defined := map[string]bool{}
	for kind, set := range components {
		for name := range set.(map[string]any) {
			defined["#/components/"+kind+"/"+name] = true
		}
	}
	for ref := range used {
		if !defined[ref] {
			t.Errorf("$ref %q names no component", ref)
		}
	}
	for ref := range defined {
		if !used[ref] {
			t.Errorf("component %q is never used", ref)
		}
	}
}

// TestOpenAPIProblemCodes: the document's enum of problem codes is the
// package's.
func TestOpenAPIProblemCodes(t *testing.T) {
	doc := decodeOpenAPI(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var documented []string
	for _, c := range schemas["ProblemCode"].(map[string]any)["enum"].([]any) {
		documented = append(documented, c.(string))
	}
	slices.Sort(documented)
	var defined []string
	for c := range maps.Keys(problems) {
		defined = append(defined, string(c))
	}
	slices.Sort(defined)
	if !slices.Equal(documented, defined) {
		t.Fatalf("documented codes %q, defined %q", documented, defined)
	}
	for c, info := range problems {
		if info.name == "" || info.title == "" || info.status < 400 {
			t.Errorf("code %q: %+v", c, info)
		}
	}
}

func TestProblemOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		code ProblemCode
	}{
		{fmt.Errorf("rag: ingest: %w", errors.Join(&IngestError{Failed: 1}, fmt.Errorf("x: %w", context.Canceled))), ProblemCanceled},
		{&DocumentError{DocID: "a", Err: ErrEmptyContent}, ProblemInvalidDocument},
		{&DocumentError{DocID: "a", Err: &provider.Error{StatusCode: 400, Err: fmt.Errorf("%w: 9000 tokens", embed.ErrInputTooLong)}}, ProblemInvalidDocument},
		{&provider.Error{StatusCode: 400}, ProblemProviderError},
		{&provider.Error{StatusCode: 401}, ProblemProviderError},
		{&provider.Error{StatusCode: 500}, ProblemProviderUnavailable},
		{&provider.Error{StatusCode: 429}, ProblemProviderUnavailable},
		{fmt.Errorf("rag: %w", ErrNoLexical), ProblemUnsupported},
		{ErrNoModel, ProblemNoModel},
		{fmt.Errorf("x: %w", store.ErrInvalidFilter), ProblemInvalidFilter},
		{fmt.Errorf("x: %w", store.ErrClosed), ProblemUnavailable},
		{&loader.Error{Name: "a.pdf", Err: loader.ErrEncrypted}, ProblemUnreadableFile},
		{&loader.Error{Name: "a.pdf", Err: loader.ErrUnsupported}, ProblemUnsupportedMediaType},
		{&loader.Error{Name: "a.pdf", Err: loader.ErrTooLarge}, ProblemFileTooLarge},
		{&http.MaxBytesError{Limit: 3}, ProblemBodyTooLarge},
		{errors.New("boom"), ProblemInternal},
	} {
		pr := problemOf(c.err)
		if pr.Code != c.code || pr.Status != problems[c.code].status {
			t.Errorf("%v: %s (%d), want %s", c.err, pr.Code, pr.Status, c.code)
		}
		if pr.Status >= 500 && strings.Contains(pr.Detail, c.err.Error()) {
			t.Errorf("%v: a 5xx detail shows the cause", c.err)
		}
	}
}
