package rank_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/ragkit-go/rag/rank"
)

func TestCollapse(t *testing.T) {
	items := []rank.Scored{{ID: "a#0", Score: 0.9}, {ID: "b#2", Score: 0.8}, {ID: "b#0", Score: 0.7}, {ID: "c#0", Score: 0.5}, {ID: "b#1", Score: 0.1}, {ID: "n", Score: math.NaN()}}
	keys := []string{"a", "b", "b", "c", "b", "n"}
	got := rank.Collapse(items, keys, rank.Max)
	want := []rank.Group{{Key: "a", Best: 0, Size: 1, Score: 0.9}, {Key: "b", Best: 1, Size: 3, Score: 0.8}, {Key: "c", Best: 3, Size: 1, Score: 0.5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Max: got %+v, want %+v", got, want)
	}
	got = rank.Collapse(items, keys, rank.Sum)
	if len(got) != 3 || got[0].Key != "b" || math.Abs(got[0].Score-1.6) > 1e-12 || got[0].Best != 1 || got[1].Key != "a" || got[2].Key != "c" {
		t.Errorf("Sum: got %+v", got)
	}
}

func TestCollapseBestAndTies(t *testing.T) {
	// Unsorted input: the best item is the highest-scoring, the first
	// among equals; equal groups keep the order of their best items.
	items := []rank.Scored{{ID: "x1", Score: 1}, {ID: "y1", Score: 2}, {ID: "x2", Score: 2}, {ID: "y2", Score: 2}}
	got := rank.Collapse(items, []string{"x", "y", "x", "y"}, rank.Max)
	want := []rank.Group{{Key: "y", Best: 1, Size: 2, Score: 2}, {Key: "x", Best: 2, Size: 2, Score: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := rank.Collapse(nil, nil, rank.Sum); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
}
