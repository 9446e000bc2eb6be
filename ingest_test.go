package rag_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragkit-go/rag"
	"github.com/ragkit-go/rag/document"
	"github.com/ragkit-go/rag/embed"
	"github.com/ragkit-go/rag/openaitest"
	"github.com/ragkit-go/rag/provider"
	"github.com/ragkit-go/rag/store"
)

// threeParagraphs makes n documents of three paragraphs each.
func threeParagraphs(n int, version string) []rag.Document {
	docs := make([]rag.Document, n)
	for i := range docs {
		docs[i] = rag.Document{
			ID:      fmt.Sprint("doc-", i),
			Content: fmt.Sprintf("%s first part of document %d\n\n%s second part %d\n\n%s third part %d", version, i, version, i, version, i),
		}
	}
	return docs
}

// allRecords returns every record in the pipeline's store.
func allRecords(t *testing.T, p *rag.Pipeline) []rag.Hit {
	t.Helper()
	hits, err := p.Search(context.Background(), "everything", &rag.SearchOptions{TopK: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestIngestUnreliableProvider ingests through a real HTTP client against a
// server that answers 10% of requests 500, every 15th 429 with Retry-After,
// and 1% and every 50th never: every document ends stored whole or reported failed, none
// lost, duplicated or partial, and the retries are bounded and respect the
// backoff and Retry-After.
func TestIngestUnreliableProvider(t *testing.T) {
	const retryAfter = 30 * time.Millisecond
	srv := openaitest.NewServer(openaitest.Options{
		Dimensions: 32, Seed: 7, ErrorRate: 0.10, TimeoutRate: 0.01,
		Fault: func(r openaitest.Request) *openaitest.Fault {
			switch {
			case r.Seq%15 == 0:
				return &openaitest.Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
			case r.Seq%50 == 0:
				return &openaitest.Fault{Hang: true} // a sure timeout besides the random ones
			}
			return nil
		},
	})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "k"}, Dimensions: 32})
	const minBackoff, maxRetries = 4 * time.Millisecond, 8
	p := newPipeline(t, e, func(o *rag.Options) {
		o.Ingest.BatchSize = 16
		o.Ingest.Retry.MinBackoff = minBackoff
		o.Ingest.Retry.MaxBackoff = 40 * time.Millisecond
		o.Ingest.Retry.MaxRetries = maxRetries
		o.Ingest.Retry.RequestTimeout = 300 * time.Millisecond
	})
	docs := threeParagraphs(600, "v1")
	rep, err := p.Ingest(context.Background(), docs...)
	if rep.Stored+rep.Failed != len(docs) || len(rep.Documents) != len(docs) {
		t.Fatalf("documents lost: %d stored + %d failed of %d (err %v)", rep.Stored, rep.Failed, len(docs), err)
	}
	if rep.Failed > 0 {
		// Nine attempts at ~11% failure each: a failure is a bug, not luck.
		t.Errorf("%d documents failed: %v", rep.Failed, err)
	}
	if rep.Retries == 0 {
		t.Fatal("no retries: the faults were not exercised")
	}

	// The store holds each stored document whole, exactly once.
	seen := map[string]bool{}
	perDoc := map[string]int{}
	for _, h := range allRecords(t, p) {
		if seen[h.ID] {
			t.Fatalf("record %s duplicated", h.ID)
		}
		seen[h.ID] = true
		perDoc[h.DocID]++
	}
	for _, d := range rep.Documents {
		want := 0
		if d.Status == rag.Stored {
			want = 3
		}
		if perDoc[d.ID] != want {
			t.Errorf("%s (%v) has %d chunks stored, want %d", d.ID, d.Status, perDoc[d.ID], want)
		}
	}

	// Retries are bounded, and each retry of an input waited at least the
	// least backoff, or the Retry-After of a 429.
	reqs := srv.Requests()
	st := srv.Stats()
	if st.Status[429] == 0 || st.Status[500] == 0 || st.Status[0] == 0 {
		t.Fatalf("faults not injected: %v", st.Status)
	}
	after429 := map[string]time.Time{} // input -> time of a 429 it got
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			for _, in := range r.Inputs {
				after429[in] = r.Time
			}
		}
	}
	for _, d := range docs {
		for _, text := range strings.Split(d.Content, "\n\n") {
			times := srv.InputTimes(text)
			if len(times) == 0 || len(times) > maxRetries+1 {
				t.Fatalf("input %q sent %d times (at most %d allowed)", text, len(times), maxRetries+1)
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i].Sub(times[i-1]); gap < minBackoff/2 {
					t.Errorf("input %q retried after %v, less than the least backoff %v", text, gap, minBackoff/2)
				}
			}
			if t429, ok := after429[text]; ok {
				for _, tm := range times {
					if tm.After(t429) && tm.Sub(t429) < retryAfter {
						t.Errorf("input %q retried %v after a 429 asking for %v", text, tm.Sub(t429), retryAfter)
					}
				}
			}
		}
	}
	t.Logf("%d requests (%d retries) for %d chunks; statuses %v; %d connections", rep.Requests, rep.Retries, rep.Chunks, st.Status, st.Connections)
}

// TestIngestCancelAbortsRequests cancels an ingest whose requests never get
// an answer: Ingest must abort them and return, leave no goroutine behind,
// and the store must hold only whole documents.
func TestIngestCancelAbortsRequests(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 16, Latency: time.Hour})
	defer srv.Close()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "k", HTTPClient: hc}, Dimensions: 16})
	p := newPipeline(t, e, func(o *rag.Options) { o.Ingest.BatchSize = 8; o.Ingest.Concurrency = 4 })
	// Some documents are stored before the provider stalls: they come from
	// the cache, so they need no request.
	warm := threeParagraphs(5, "warm")
	if err := primeCache(p, warm); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	docs := append(warm, threeParagraphs(200, "cold")[5:]...)
	var stored atomic.Int64
	go func() {
		// Cancel once requests are in flight.
		for srv.Stats().InFlight < 4 {
			runtime.Gosched()
		}
		cancel()
	}()
	rep, err := p.Ingest(ctx, docs...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	stored.Store(int64(rep.Stored))
	if rep.Stored+rep.Failed != len(docs) {
		t.Fatalf("report %d stored + %d failed of %d", rep.Stored, rep.Failed, len(docs))
	}
	// Read the store through a pipeline whose embedder answers.
	reader, err := rag.New(rag.Options{Embedder: embed.NewHashing(embed.HashingOptions{Dimensions: 16}), Store: p.Store()})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range allRecords(t, reader) {
		if !strings.HasPrefix(h.Text, "warm") {
			t.Fatalf("a document whose requests never returned was written: %+v", h)
		}
	}
	hc.CloseIdleConnections()
	waitGoroutines(t, before)
	for srv.Stats().InFlight > 0 {
		runtime.Gosched() // the server sees the aborted requests go
	}
}

// primeCache ingests docs into a throwaway pipeline sharing p's cache... it
// cannot reach p's cache, so it ingests them into p itself with a local
// embedder of the same dimension instead.
func primeCache(p *rag.Pipeline, docs []rag.Document) error {
	s := p.Store()
	recs := make([]store.StoredDocument, len(docs))
	h := embed.NewHashing(embed.HashingOptions{Dimensions: 16})
	for i, d := range docs {
		parts := strings.Split(d.Content, "\n\n")
		vecs, err := h.Embed(context.Background(), parts)
		if err != nil {
			return err
		}
		recs[i].ID = d.ID
		off := 0
		for k, part := range parts {
			recs[i].Records = append(recs[i].Records, store.Record{ID: document.RecordID(d.ID, k), DocID: d.ID, Chunk: k, Start: off, End: off + len(part), Text: part, Vector: vecs[k]})
			off += len(part) + 2
		}
	}
	return s.Upsert(context.Background(), recs)
}

// TestIngestSeqBoundedMemory streams many documents through IngestSeq: the
// pipeline pulls documents only as it has room, so the number pulled but
// not finished stays under a bound that does not grow with the stream.
func TestIngestSeqBoundedMemory(t *testing.T) {
	const n = 20000
	var pulled, finished atomic.Int64
	var worst int64
	p := newPipeline(t, hashing(), func(o *rag.Options) {
		o.Ingest.BatchSize = 16
		o.Ingest.Concurrency = 2
		o.Ingest.MaxPendingChunks = 64
		o.Ingest.NoCache = true
		o.Ingest.Progress = func(pr rag.Progress) {
			finished.Store(int64(pr.Documents))
			worst = max(worst, pulled.Load()-finished.Load())
		}
	})
	var seq iter.Seq[rag.Document] = func(yield func(rag.Document) bool) {
		for i := range n {
			pulled.Add(1)
			if !yield(rag.Document{ID: fmt.Sprint(i), Content: fmt.Sprintf("streamed document number %d", i)}) {
				return
			}
		}
	}
	rep, err := p.IngestSeq(context.Background(), seq)
	if err != nil || rep.Stored != n {
		t.Fatalf("%+v %v", rep.Stored, err)
	}
	if len(rep.Documents) != 0 {
		t.Errorf("IngestSeq kept %d results of stored documents", len(rep.Documents))
	}
	// Pending chunks (64) + a batch in each stage + channel buffers: a few
	// hundred at most, whatever n is.
	if worst > 400 {
		t.Errorf("%d documents pulled but unfinished at once: memory is not bounded", worst)
	}
	t.Logf("at most %d documents in flight of %d", worst, n)
}

// TestIngestInputTooLong: a chunk over the model's input limit fails its
// document, not the ingest.
func TestIngestInputTooLong(t *testing.T) {
	p := newPipeline(t, hashing(), func(o *rag.Options) { o.Ingest.MaxInputTokens = 5 })
	rep, err := p.Ingest(context.Background(),
		rag.Document{ID: "short", Content: "a short one"},
		rag.Document{ID: "long", Content: "this paragraph has far more than five words in it"},
	)
	if rep.Stored != 1 || rep.Failed != 1 || !errors.Is(err, embed.ErrInputTooLong) {
		t.Fatalf("%+v %v", rep, err)
	}
}

// TestIngestBatchLimits: requests never exceed the inputs and tokens per
// request, and texts shared by several chunks are sent once.
func TestIngestBatchLimits(t *testing.T) {
	srv := openaitest.NewServer(openaitest.Options{Dimensions: 16, MaxInputs: 7, MaxRequestTokens: 60, CountTokens: func(s string) int { return len(strings.Fields(s)) }})
	defer srv.Close()
	e := embed.NewOpenAI(embed.OpenAIOptions{OpenAIConfig: provider.OpenAIConfig{BaseURL: srv.URL(), APIKey: "k"}, Dimensions: 16, MaxInputs: 7, MaxRequestTokens: 60})
	p := newPipeline(t, e, func(o *rag.Options) { o.Ingest.BatchTokens = 60; o.Ingest.NoCache = true })
	docs := threeParagraphs(100, "v")
	rep, err := p.Ingest(context.Background(), docs...)
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Status[400] != 0 || st.Inputs != rep.Chunks {
		t.Fatalf("%d requests over the limits; %d inputs for %d chunks", st.Status[400], st.Inputs, rep.Chunks)
	}
	for _, r := range srv.Requests() {
		if len(r.Inputs) > 7 || r.Tokens > 60 {
			t.Fatalf("request with %d inputs, %d tokens", len(r.Inputs), r.Tokens)
		}
	}

	// A text shared by several chunks of a batch is sent once. (Linger is
	// long so the document's chunks surely share one batch.)
	p = newPipeline(t, e, func(o *rag.Options) { o.Ingest.Linger = time.Hour; o.Ingest.NoCache = true })
	before := srv.Stats().Inputs
	rep, err = p.Ingest(context.Background(), rag.Document{ID: "echo", Content: "same words\n\nsame words\n\nsame words"})
	if err != nil || rep.Chunks != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	if n := srv.Stats().Inputs - before; n != 1 {
		t.Errorf("3 identical chunks sent as %d inputs, want 1", n)
	}
	if hits := chunksOf(t, p, "echo"); len(hits) != 3 {
		t.Fatalf("%d chunks stored", len(hits))
	}
}

// TestConcurrentIngestAndSearch: ingests of changing versions and searches
// run at once on one pipeline; every search sees each document whole, in
// one version.
func TestConcurrentIngestAndSearch(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, hashing(), func(o *rag.Options) { o.Lexical = &rag.LexicalOptions{} })
	const docs, versions = 8, 15
	version := func(d, v int) rag.Document {
		n := 2 + (d+v)%3 // the number of chunks changes between versions
		var parts []string
		for k := range n {
			parts = append(parts, fmt.Sprintf("v%d document %d part %d", v, d, k))
		}
		return rag.Document{ID: fmt.Sprint("doc-", d), Content: strings.Join(parts, "\n\n"), Metadata: map[string]any{"v": v}}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range 3 {
		wg.Go(func() {
			for v := range versions {
				var batch []rag.Document
				for d := w; d < docs; d += 3 {
					batch = append(batch, version(d, v))
				}
				if _, err := p.Ingest(ctx, batch...); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			mode := []rag.SearchMode{rag.VectorSearch, rag.LexicalSearch}[r%2]
			for {
				select {
				case <-done:
					return
				default:
				}
				d := r % docs
				hits, err := p.Search(ctx, fmt.Sprintf("document %d part", d), &rag.SearchOptions{Mode: mode, TopK: 10, Filter: store.Eq(store.FieldDocID, fmt.Sprint("doc-", d))})
				if err != nil {
					t.Error(err)
					return
				}
				if len(hits) == 0 {
					continue // not ingested yet
				}
				v := hits[0].Metadata["v"]
				want := 2 + (d+int(v.(float64)))%3
				if len(hits) != want {
					t.Errorf("doc-%d version %v: %d chunks seen, want %d", d, v, len(hits), want)
				}
				for _, h := range hits {
					if h.Metadata["v"] != v || !strings.HasPrefix(h.Text, fmt.Sprintf("v%v ", v)) {
						t.Errorf("doc-%d: chunks of versions %v and %v seen together", d, v, h.Metadata["v"])
					}
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
}
