package rag_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/llm/llmtest"
)

func ExampleNewHandler() {
	model := llmtest.New("The Moon's gravity raises the tides [1].")
	p, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{}), Model: model})
	if err != nil {
		panic(err)
	}
	// Mount the handler under a prefix of the service's mux.
	// HandlerOptions.Tenant would read the tenant that the service's
	// authentication middleware established.
	mux := http.NewServeMux()
	mux.Handle("/rag/", http.StripPrefix("/rag", rag.NewHandler(p, nil)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(path, accept, body string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
		return resp
	}

	resp := post("/rag/documents", "", `{"documents": [
		{"id": "tides", "title": "Tides", "content": "The Moon's gravity raises the tides of the oceans."},
		{"id": "go", "title": "Go", "content": "Goroutines communicate over channels."}]}`)
	var report struct{ Stored int }
	json.NewDecoder(resp.Body).Decode(&report)
	resp.Body.Close()
	fmt.Println("stored:", report.Stored)

	resp = post("/rag/search", "", `{"query": "what raises the tides?", "top_k": 1}`)
	var found struct {
		Hits []struct{ DocID, Text string } `json:"hits"`
	}
	json.NewDecoder(resp.Body).Decode(&found)
	resp.Body.Close()
	fmt.Println("hit:", found.Hits[0].Text)

	// The answer as Server-Sent Events: deltas, citations, done.
	resp = post("/rag/answer", "text/event-stream", `{"question": "What raises the tides?", "search": {"top_k": 1}}`)
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			events = append(events, name)
		}
	}
	resp.Body.Close()
	fmt.Println(strings.Join(events, " "))

	// Errors are RFC 9457 problems with a stable code.
	resp = post("/rag/search", "", `{"query": ""}`)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(b))
	// Output:
	// 200 OK application/json
	// stored: 2
	// 200 OK application/json
	// hit: The Moon's gravity raises the tides of the oceans.
	// 200 OK text/event-stream
	// delta delta delta delta delta delta delta citations done
	// 422 Unprocessable Entity application/problem+json
	// {"type":"https://pkg.go.dev/github.com/ragkit-go/rag#ProblemEmptyQuery","title":"Empty query","status":422,"detail":"rag: empty query","code":"empty_query"}
}
