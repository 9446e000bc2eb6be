package eval

import (
	"fmt"
	"sort"
	"strings"
)

// Report holds the scores of one system on one query set: each metric per
// query and averaged.
type Report struct {
	Name     string               // system name, shown in tables
	Metrics  []string             // metric labels, such as "nDCG@10", in column order
	Mean     []float64            // Mean[i] is the average of Metrics[i] over the queries
	PerQuery map[string][]float64 // query ID to scores, in Metrics order
	Queries  int                  // number of queries averaged over
}

// Evaluate scores run against qrels with each metric.
//
// The query set is every query of qrels that has at least one relevant
// document (grade > 0); a query the run has no ranking for scores 0 on
// every metric, so a system cannot look better by skipping hard queries.
// Rankings of queries absent from qrels are ignored.
func Evaluate(name string, qrels Qrels, run Run, metrics ...Metric) *Report {
	r := &Report{
		Name:     name,
		Metrics:  make([]string, len(metrics)),
		Mean:     make([]float64, len(metrics)),
		PerQuery: make(map[string][]float64, len(qrels)),
	}
	for i, m := range metrics {
		r.Metrics[i] = m.String()
	}
	qids := make([]string, 0, len(qrels))
	for qid, rel := range qrels {
		if numRelevant(rel) > 0 {
			qids = append(qids, qid)
		}
	}
	sort.Strings(qids) // fixed summation order: reproducible means
	for _, qid := range qids {
		scores := make([]float64, len(metrics))
		for i, m := range metrics {
			scores[i] = m.Score(run[qid], qrels[qid])
			r.Mean[i] += scores[i]
		}
		r.PerQuery[qid] = scores
	}
	r.Queries = len(qids)
	if r.Queries > 0 {
		for i := range r.Mean {
			r.Mean[i] /= float64(r.Queries)
		}
	}
	return r
}

// Value returns the mean of the metric with the given label, such as
// "nDCG@10", and whether the report has it.
func (r *Report) Value(label string) (float64, bool) {
	for i, m := range r.Metrics {
		if m == label {
			return r.Mean[i], true
		}
	}
	return 0, false
}

// String returns the report as a one-row Markdown table.
func (r *Report) String() string { return Table(r) }

// Table formats reports as a Markdown table: one row a report, one column
// a metric (the union of the reports' metrics, in order of first
// appearance), means with four decimals. A report lacking a metric shows
// "–" in that column.
func Table(reports ...*Report) string {
	var labels []string
	seen := map[string]bool{}
	for _, r := range reports {
		for _, m := range r.Metrics {
			if !seen[m] {
				seen[m] = true
				labels = append(labels, m)
			}
		}
	}
	var b strings.Builder
	b.WriteString("| System | Queries |")
	for _, l := range labels {
		b.WriteString(" " + l + " |")
	}
	b.WriteString("\n| --- | ---: |")
	for range labels {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "| %s | %d |", escapeCell(r.Name), r.Queries)
		for _, l := range labels {
			if v, ok := r.Value(l); ok {
				fmt.Fprintf(&b, " %.4f |", v)
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
