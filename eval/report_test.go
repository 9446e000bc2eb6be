package eval

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestEvaluateAveragesOverJudgedQueries(t *testing.T) {
	qrels := Qrels{
		"q1": {"a": 1},
		"q2": {"b": 1, "c": 1},
		"q3": {"z": 0}, // no relevant document: not part of the query set
	}
	run := Run{
		"q1": {"a", "x"},   // RR 1, recall@1 1
		"q3": {"z"},        // ignored
		"q9": {"whatever"}, // not judged: ignored
		// q2 has no ranking: scores 0
	}
	rep := Evaluate("sys", qrels, run, MRR(10), Recall(1))
	if rep.Queries != 2 {
		t.Fatalf("Queries = %d, want 2 (q1, q2)", rep.Queries)
	}
	if got, want := rep.Mean[0], (1.0+0.0)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("mean MRR = %v, want %v", got, want)
	}
	if _, ok := rep.PerQuery["q3"]; ok {
		t.Error("q3 (no relevant document) was scored")
	}
	if got := rep.PerQuery["q2"]; len(got) != 2 || got[0] != 0 || got[1] != 0 {
		t.Errorf("q2 (unranked) = %v, want zeros", got)
	}
	if v, ok := rep.Value("Recall@1"); !ok || math.Abs(v-0.5) > 1e-12 {
		t.Errorf("Value(Recall@1) = %v, %v; want 0.5, true", v, ok)
	}
	if _, ok := rep.Value("nDCG@10"); ok {
		t.Error("Value of an absent metric reported present")
	}
}

func TestTable(t *testing.T) {
	qrels := Qrels{"q": {"a": 1}}
	r1 := Evaluate("bm25", qrels, Run{"q": {"a"}}, NDCG(10), Recall(100))
	r2 := Evaluate("dense|v2", qrels, Run{"q": {"x", "a"}}, NDCG(10), MRR(10))
	got := Table(r1, r2)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want 4:\n%s", len(lines), got)
	}
	if lines[0] != "| System | Queries | nDCG@10 | Recall@100 | MRR@10 |" {
		t.Errorf("header = %q", lines[0])
	}
	if lines[2] != "| bm25 | 1 | 1.0000 | 1.0000 | – |" {
		t.Errorf("row 1 = %q", lines[2])
	}
	// dense: a at rank 2 -> nDCG = (1/log2 3)/1, MRR = 1/2.
	want := "| dense\\|v2 | 1 | " + format4(1/math.Log2(3)) + " | – | 0.5000 |"
	if lines[3] != want {
		t.Errorf("row 2 = %q, want %q", lines[3], want)
	}
	if r1.String() != Table(r1) {
		t.Error("String differs from Table")
	}
}

func format4(v float64) string { return fmt.Sprintf("%.4f", v) }
