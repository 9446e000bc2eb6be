package rag_test

import (
	"context"
	"math"
	"testing"

	"github.com/ragkit-go/rag"
)

// TestDocumentResults: Documents collapses chunk hits to one per
// document, scored by the max or the sum of its chunks' scores, with its
// best chunk as the hit; TopK counts documents.
func TestDocumentResults(t *testing.T) {
	ctx := context.Background()
	p := lexicalPipeline(t, "", nil)
	docs := []rag.Document{
		{ID: "long", Content: "A kiwi orchard in spring.\n\nPruning kiwi vines in winter.\n\nHarvesting kiwi fruit by hand in autumn."},
		{ID: "short", Content: "Kiwi, kiwi and more kiwi: the kiwi fruit."},
		{ID: "other", Content: "Apples and a single kiwi in a bowl of fruit salad with grapes, pears and cherries."},
		{ID: "none", Content: "Nothing about that fruit here."},
	}
	if _, err := p.Ingest(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	chunks, err := p.Search(ctx, "kiwi", &rag.SearchOptions{Mode: rag.LexicalSearch, TopK: 20})
	if err != nil {
		t.Fatal(err)
	}
	// What each document should get, from its chunks' scores.
	maxOf, sumOf, best := map[string]float64{}, map[string]float64{}, map[string]string{}
	for _, h := range chunks {
		if _, ok := best[h.DocID]; !ok {
			best[h.DocID], maxOf[h.DocID] = h.ID, h.Score
		}
		sumOf[h.DocID] += h.Score
	}
	if len(chunks) != 5 || chunks[0].DocID != "short" || sumOf["long"] <= maxOf["short"] {
		t.Fatalf("fixture: want short's chunk first and long's chunks adding up to more: %v", chunks)
	}
	for _, c := range []struct {
		how   rag.DocumentScore
		score map[string]float64
		first string
	}{{rag.DocumentMax, maxOf, "short"}, {rag.DocumentSum, sumOf, "long"}} {
		hits, err := p.Search(ctx, "kiwi", &rag.SearchOptions{Mode: rag.LexicalSearch, Documents: c.how, TopK: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 3 || hits[0].DocID != c.first {
			t.Fatalf("%v: %v, want 3 documents, %s first", c.how, ids(hits), c.first)
		}
		for i, h := range hits {
			if math.Abs(h.Score-c.score[h.DocID]) > 1e-9 || h.ID != best[h.DocID] {
				t.Errorf("%v: %s scored %v with chunk %s, want %v with its best chunk %s", c.how, h.DocID, h.Score, h.ID, c.score[h.DocID], best[h.DocID])
			}
			if i > 0 && h.Score > hits[i-1].Score {
				t.Errorf("%v: not best first: %v", c.how, ids(hits))
			}
		}
		// TopK counts documents, not chunks: long's three chunks do not
		// fill the two places.
		two, err := p.Search(ctx, "kiwi", &rag.SearchOptions{Mode: rag.LexicalSearch, Documents: c.how, TopK: 2})
		if err != nil || len(two) != 2 || two[0].DocID == two[1].DocID || two[0].DocID != c.first {
			t.Errorf("%v, TopK 2: %v %v", c.how, ids(two), err)
		}
	}
	// Vector and hybrid search collapse too.
	for _, mode := range []rag.SearchMode{rag.VectorSearch, rag.HybridSearch} {
		hits, err := p.Search(ctx, "kiwi", &rag.SearchOptions{Mode: mode, Documents: rag.DocumentMax, TopK: 10})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, h := range hits {
			if seen[h.DocID] {
				t.Fatalf("mode %v: %s twice: %v", mode, h.DocID, ids(hits))
			}
			seen[h.DocID] = true
		}
		if len(hits) != len(docs) {
			t.Errorf("mode %v: %d documents, want %d", mode, len(hits), len(docs))
		}
	}
}
