package rank

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func scoresOf(items []Scored) map[string]float64 {
	m := map[string]float64{}
	for _, it := range items {
		m[it.ID] = it.Score
	}
	return m
}

func checkSorted(t *testing.T, items []Scored) {
	t.Helper()
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		if a.Score < b.Score || a.Score == b.Score && a.ID >= b.ID {
			t.Fatalf("not ordered by score desc, ID asc at %d: %v", i, items)
		}
	}
}

func TestRRFHandComputed(t *testing.T) {
	// Ranks from 1, k = 60:
	//   a: rank 1 in list 1                 -> 1/61
	//   b: rank 2 in list 1, rank 1 in 2    -> 1/62 + 1/61
	//   c: rank 3 in list 1, rank 2 in 2    -> 1/63 + 1/62
	//   d: rank 3 in list 2                 -> 1/63
	got := RRF(0, []string{"a", "b", "c"}, []string{"b", "c", "d"})
	want := []Scored{
		{"b", 1.0/62 + 1.0/61},
		{"c", 1.0/63 + 1.0/62},
		{"a", 1.0 / 61},
		{"d", 1.0 / 63},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].ID != want[i].ID || !near(got[i].Score, want[i].Score) {
			t.Errorf("item %d = %v, want %v", i, got[i], want[i])
		}
	}
	// k = 1: a = 1/2, b = 1/3 + 1/2.
	got = RRF(1, []string{"a", "b"}, []string{"b"})
	if got[0].ID != "b" || !near(got[0].Score, 1.0/3+1.0/2) || !near(got[1].Score, 1.0/2) {
		t.Errorf("k=1: %v", got)
	}
}

func TestRRFProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for range 200 {
		var lists [][]string
		for range 1 + rng.IntN(4) {
			l := slices.Clone(ids)
			rng.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
			lists = append(lists, l[:rng.IntN(len(l)+1)])
		}
		got := RRF(60, lists...)
		checkSorted(t, got)
		// The order of the lists does not matter.
		rev := slices.Clone(lists)
		slices.Reverse(rev)
		if again := RRF(60, rev...); !reflect.DeepEqual(IDs(again), IDs(got)) {
			t.Fatalf("list order changed the result: %v vs %v", again, got)
		}
		// Every ID of every list appears exactly once.
		union := map[string]bool{}
		for _, l := range lists {
			for _, id := range l {
				union[id] = true
			}
		}
		if len(got) != len(union) {
			t.Fatalf("%d results for %d distinct IDs", len(got), len(union))
		}
	}
	// One list: its order is kept.
	one := []string{"z", "y", "x"}
	if got := IDs(RRF(60, one)); !reflect.DeepEqual(got, one) {
		t.Errorf("single list reordered: %v", got)
	}
	// First in every list is first.
	if got := RRF(60, []string{"q", "a"}, []string{"q", "b"}, []string{"q"}); got[0].ID != "q" {
		t.Errorf("unanimous winner not first: %v", got)
	}
	if got := RRF(60); len(got) != 0 {
		t.Errorf("no lists: %v", got)
	}
}

func TestRRFDuplicatesCountOnce(t *testing.T) {
	// "a" twice in one list counts at rank 1 only; "b" keeps rank 3.
	got := scoresOf(RRF(60, []string{"a", "a", "b"}))
	if !near(got["a"], 1.0/61) || !near(got["b"], 1.0/63) {
		t.Errorf("got %v", got)
	}
}

func TestMinMaxScaling(t *testing.T) {
	in := []Scored{{"a", 10}, {"b", 0}, {"c", 5}, {"n", math.NaN()}, {"d", 2.5}}
	got := minMax(in)
	// (x - 0) / (10 - 0), order kept, NaN dropped.
	want := []Scored{{"a", 1}, {"b", 0}, {"c", 0.5}, {"d", 0.25}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("minMax = %v, want %v", got, want)
	}
	if in[0].Score != 10 {
		t.Error("input modified")
	}
	if got := minMax([]Scored{{"a", 3}, {"b", 3}}); got[0].Score != 1 || got[1].Score != 1 {
		t.Errorf("equal scores: %v", got)
	}
	if got := minMax([]Scored{{"a", math.Inf(1)}, {"b", 1}}); got[0].Score != 1 || got[1].Score != 0 {
		t.Errorf("infinite score: %v", got)
	}
}

func TestFuseHandComputed(t *testing.T) {
	dense := []Scored{{"a", 0.9}, {"b", 0.8}, {"c", 0.5}} // min 0.5, max 0.9
	bm25 := []Scored{{"c", 12}, {"d", 7}, {"a", 2}}       // min 2, max 12
	got := Fuse(ScoredList{dense, 0.7}, ScoredList{bm25, 0.3})
	want := map[string]float64{
		"a": 0.7*(0.9-0.5)/0.4 + 0.3*(2-2)/10.0,
		"b": 0.7 * (0.8 - 0.5) / 0.4,
		"c": 0.7*(0.5-0.5)/0.4 + 0.3*(12-2)/10.0,
		"d": 0.3 * (7 - 2) / 10.0,
	}
	checkSorted(t, got)
	if len(got) != 4 {
		t.Fatalf("got %v", got)
	}
	for _, it := range got {
		if !near(it.Score, want[it.ID]) {
			t.Errorf("%s = %v, want %v", it.ID, it.Score, want[it.ID])
		}
	}
	// Only the relative scores within a list matter: scaling a list does
	// not change the fusion.
	scaled := make([]Scored, len(bm25))
	for i, it := range bm25 {
		scaled[i] = Scored{it.ID, it.Score*1000 - 5}
	}
	again := Fuse(ScoredList{dense, 0.7}, ScoredList{scaled, 0.3})
	for i := range got {
		if again[i].ID != got[i].ID || !near(again[i].Score, got[i].Score) {
			t.Fatalf("affine rescaling changed the fusion: %v vs %v", again, got)
		}
	}
}

func TestFuseTiesAndDuplicates(t *testing.T) {
	// Equal fused scores are ordered by ID.
	got := Fuse(ScoredList{[]Scored{{"b", 1}, {"a", 0}}, 1}, ScoredList{[]Scored{{"a", 1}, {"b", 0}}, 1})
	if !reflect.DeepEqual(IDs(got), []string{"a", "b"}) || !near(got[0].Score, 1) || !near(got[1].Score, 1) {
		t.Errorf("ties: %v", got)
	}
	// A repeated ID counts with its first occurrence.
	got = Fuse(ScoredList{[]Scored{{"a", 0}, {"b", 1}, {"a", 1}}, 1})
	if s := scoresOf(got); s["a"] != 0 || s["b"] != 1 || len(got) != 2 {
		t.Errorf("duplicates: %v", got)
	}
}
