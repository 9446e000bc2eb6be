package rag

import (
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/tokenizer"
)

func hitN(id, text string) Hit {
	return Hit{ID: id, DocID: strings.Split(id, "#")[0], Title: "T " + id, Source: "s", Text: text, End: len(text)}
}

func TestPackPassages(t *testing.T) {
	tok := tokenizer.CL100K()
	words := func(n int, w string) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }
	hits := []Hit{
		hitN("a#0", words(50, "alpha")),
		hitN("a#0", words(50, "alpha")),           // same record
		hitN("b#0", "  "+words(50, "alpha")+"\n"), // same text, other white space
		hitN("c#0", words(400, "gamma")),          // too big for what is left
		hitN("d#0", words(30, "delta")),           // fits
		hitN("e#0", ""),                           // empty
		hitN("f#0", words(30, "epsilon")),         // fits
		hitN("g#0", words(200, "zeta")),           // too big
	}
	budget := 200
	ps := packPassages(hits, budget, tok)
	var ids []string
	used := 0
	for i, p := range ps {
		if p.N != i+1 {
			t.Fatalf("passage %d numbered %d", i, p.N)
		}
		ids = append(ids, p.ID)
		used += tok.Count(formatPassage(p)) + 1
	}
	if want := []string{"a#0", "d#0", "f#0"}; !slices.Equal(ids, want) {
		t.Fatalf("packed %v, want %v", ids, want)
	}
	if used > budget {
		t.Fatalf("%d tokens packed in a budget of %d", used, budget)
	}
	if ctx := formatPassages(ps); !strings.HasPrefix(ctx, "[1] T a#0 (s)\nalpha alpha") || !strings.Contains(ctx, "\n\n[2] T d#0 (s)\ndelta") {
		t.Fatalf("context %q", ctx)
	}

	// Nothing fits whole: the best passage is cut to the budget.
	big := hitN("h#0", words(1000, "eta"))
	big.Start = 10
	big.End = 10 + len(big.Text)
	ps = packPassages([]Hit{big, hitN("i#0", words(900, "theta"))}, 100, tok)
	if len(ps) != 1 || ps[0].ID != "h#0" {
		t.Fatalf("%+v", ps)
	}
	if n := tok.Count(formatPassage(ps[0])); n > 100 || n < 80 {
		t.Fatalf("cut passage has %d tokens for a budget of 100", n)
	}
	if !strings.HasPrefix(big.Text, ps[0].Text) || ps[0].End != 10+len(ps[0].Text) {
		t.Fatalf("cut passage is not a prefix: end %d", ps[0].End)
	}
	// A budget too small for any text gives nothing.
	if ps := packPassages([]Hit{big}, 10, tok); len(ps) != 0 {
		t.Fatalf("%d passages in 10 tokens", len(ps))
	}
	if ps := packPassages(nil, 100, tok); len(ps) != 0 {
		t.Fatal("passages from no hits")
	}
}
