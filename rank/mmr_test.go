package rank

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func TestMMRPrefersDiversity(t *testing.T) {
	q := []float32{1, 0, 0}
	cands := [][]float32{
		{1, 0.1, 0},     // 0: most relevant
		{1, 0.12, 0.01}, // 1: near-duplicate of 0, slightly less relevant
		{0.8, 0, 0.6},   // 2: less relevant, different
	}
	// Setup check: relevance order is 0, 1, 2.
	if !(cosine(q, cands[0]) > cosine(q, cands[1]) && cosine(q, cands[1]) > cosine(q, cands[2])) {
		t.Fatal("setup: relevance order")
	}
	// With lambda = 1, MMR is plain relevance order.
	got, err := MMR(q, cands, 1, 3)
	if err != nil || !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("lambda 1: %v, %v; want [0 1 2]", got, err)
	}
	// With lambda = 0.5, after picking 0 the second step compares
	//   1: 0.5·cos(q,c1) − 0.5·cos(c1,c0)   and   2: 0.5·cos(q,c2) − 0.5·cos(c2,c0)
	s1 := 0.5*cosine(q, cands[1]) - 0.5*cosine(cands[1], cands[0])
	s2 := 0.5*cosine(q, cands[2]) - 0.5*cosine(cands[2], cands[0])
	if !(s2 > s1) {
		t.Fatalf("setup: want the diverse candidate to win step 2 (%v vs %v)", s2, s1)
	}
	got, err = MMR(q, cands, DefaultLambda, 2)
	if err != nil || !reflect.DeepEqual(got, []int{0, 2}) {
		t.Errorf("lambda 0.5: %v, %v; want [0 2]", got, err)
	}
}

func TestMMRProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vec := func(d int) []float32 {
		v := make([]float32, d)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for range 100 {
		d, n := 1+rng.IntN(8), rng.IntN(12)
		q := vec(d)
		cands := make([][]float32, n)
		for i := range cands {
			cands[i] = vec(d)
		}
		lambda := rng.Float64()
		k := rng.IntN(n + 3)
		got, err := MMR(q, cands, lambda, k)
		if err != nil {
			t.Fatal(err)
		}
		want := min(k, n)
		if k == 0 {
			want = n
		}
		if len(got) != want {
			t.Fatalf("k=%d n=%d: %d picks", k, n, len(got))
		}
		seen := map[int]bool{}
		for _, i := range got {
			if i < 0 || i >= n || seen[i] {
				t.Fatalf("bad or repeated index in %v", got)
			}
			seen[i] = true
		}
		// The first pick is the most relevant candidate when lambda > 0.
		if n > 0 && lambda > 0 {
			best := 0
			for i := range cands {
				if cosine(q, cands[i]) > cosine(q, cands[best]) {
					best = i
				}
			}
			if math.Abs(cosine(q, cands[got[0]])-cosine(q, cands[best])) > 1e-9 {
				t.Fatalf("first pick %d, most relevant %d", got[0], best)
			}
		}
		// lambda = 1 is a sort by relevance (ties by index).
		all, _ := MMR(q, cands, 1, 0)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return cosine(q, cands[idx[a]]) > cosine(q, cands[idx[b]])+1e-12 })
		for i := range idx {
			if math.Abs(cosine(q, cands[idx[i]])-cosine(q, cands[all[i]])) > 1e-9 {
				t.Fatalf("lambda 1 order %v, relevance order %v", all, idx)
			}
		}
	}
}

func TestMMRTiesAndZeroVectors(t *testing.T) {
	q := []float32{1, 0}
	// Identical candidates tie: the lower index wins each step.
	got, _ := MMR(q, [][]float32{{1, 1}, {1, 1}, {1, 1}}, 0.5, 0)
	if !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("ties: %v", got)
	}
	// A zero vector has cosine 0: with lambda 1 it comes after positive ones.
	got, _ = MMR(q, [][]float32{{0, 0}, {1, 0}}, 1, 0)
	if !reflect.DeepEqual(got, []int{1, 0}) {
		t.Errorf("zero vector: %v", got)
	}
	if got, err := MMR(q, nil, 0.5, 3); err != nil || len(got) != 0 {
		t.Errorf("no candidates: %v, %v", got, err)
	}
}

func TestMMRErrors(t *testing.T) {
	q := []float32{1, 0}
	for _, l := range []float64{-0.1, 1.1, math.NaN()} {
		if _, err := MMR(q, [][]float32{{1, 0}}, l, 1); !errors.Is(err, ErrInvalidLambda) {
			t.Errorf("lambda %v: err = %v", l, err)
		}
	}
	if _, err := MMR(q, [][]float32{{1, 0}, {1, 0, 0}}, 0.5, 1); !errors.Is(err, ErrDimensionMismatch) {
		t.Errorf("dimension mismatch: err = %v", err)
	}
}

func TestMMRWithRelevance(t *testing.T) {
	// Candidates 0 and 1 point the same way; 2 points elsewhere. By the
	// given relevance 0 > 1 > 2.
	cands := [][]float32{{1, 0}, {1, 0.01}, {0, 1}}
	rel := []float64{10, 9, 1}
	// lambda = 1: relevance alone.
	got, err := MMRWithRelevance(rel, cands, 1, 3)
	if err != nil || fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("lambda 1: %v %v", got, err)
	}
	// Balanced: after 0, candidate 1 is nearly a copy (redundancy ~1), and
	// 2 (relevance 0 after normalisation, redundancy 0) wins:
	// 1: 0.5*(8/9) - 0.5*~1 < 0;  2: 0.5*0 - 0.5*0 = 0.
	got, err = MMRWithRelevance(rel, cands, 0.5, 2)
	if err != nil || fmt.Sprint(got) != "[0 2]" {
		t.Fatalf("lambda 0.5: %v %v", got, err)
	}
	// Scale does not matter: the scores are normalised.
	scaled := []float64{1000, 900, 100}
	if g2, _ := MMRWithRelevance(scaled, cands, 0.5, 2); fmt.Sprint(g2) != fmt.Sprint(got) {
		t.Fatalf("scaled scores change the choice: %v vs %v", g2, got)
	}
	if _, err := MMRWithRelevance(rel[:2], cands, 0.5, 2); err == nil {
		t.Fatal("length mismatch accepted")
	}
	if _, err := MMRWithRelevance(rel, cands, 1.5, 2); !errors.Is(err, ErrInvalidLambda) {
		t.Fatalf("lambda 1.5: %v", err)
	}
}
