package store_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ragkit-go/rag/store"
)

func ExampleFilter() {
	// Documents of the ops team from 2025 on, tagged "runbook" or not
	// archived.
	f := store.And(
		store.Eq("team", "ops"),
		store.Gte("published", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		store.Or(store.Eq(store.FieldTags, "runbook"), store.Ne("archived", true)),
	)
	recs := []store.Record{
		{DocID: "a", Tags: []string{"runbook"}, Metadata: map[string]any{"team": "ops", "published": time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "archived": true}},
		{DocID: "b", Metadata: map[string]any{"team": "ops", "published": time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}},
		{DocID: "c", Metadata: map[string]any{"team": "ops", "published": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{DocID: "d", Metadata: map[string]any{"team": "web", "published": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, r := range recs {
		fmt.Println(r.DocID, f.Match(&r))
	}
	// An operator applied to a value it cannot order is an error before
	// any search runs.
	err := store.Gt("team", "ops").Validate()
	fmt.Println(errors.Is(err, store.ErrInvalidFilter))
	// Output:
	// a true
	// b false
	// c true
	// d false
	// true
}

func ExampleBruteForce() {
	recs := []store.Record{
		{ID: "x#0", DocID: "x", Vector: []float32{1, 0}, Metadata: map[string]any{"lang": "en"}},
		{ID: "y#0", DocID: "y", Vector: []float32{0.6, 0.8}, Metadata: map[string]any{"lang": "fr"}},
		{ID: "z#0", DocID: "z", Vector: []float32{0, 1}, Metadata: map[string]any{"lang": "en"}},
	}
	// The exact filtered top-k every Store must return.
	for _, r := range store.BruteForce(recs, store.Query{Vector: []float32{1, 1}, TopK: 2, Filter: store.Eq("lang", "en")}) {
		fmt.Printf("%s %.3f\n", r.ID, r.Score)
	}
	// Output:
	// x#0 0.707
	// z#0 0.707
}
