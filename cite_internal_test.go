package rag

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ragkit-go/rag/tokenizer"
)

func TestCiteFilter(t *testing.T) {
	for _, c := range []struct {
		in, out        string
		n              int
		cited, invalid []int
	}{
		{"Go has goroutines [1].", "Go has goroutines [1].", 3, []int{1}, nil},
		{"A [2][1]. B [1, 3].", "A [2][1]. B [1, 3].", 3, []int{2, 1, 3}, nil},
		{"A [1-3] and [2–3].", "A [1-3] and [2–3].", 3, []int{1, 2, 3}, nil},
		{"A [1; 2].", "A [1; 2].", 2, []int{1, 2}, nil},
		{"Green [9].", "Green.", 3, nil, []int{9}},
		{"Green [9] and blue [2].", "Green and blue [2].", 3, []int{2}, []int{9}},
		{"X [1, 7, 2].", "X [1, 2].", 3, []int{1, 2}, []int{7}},
		{"X [2-5].", "X [2, 3].", 3, []int{2, 3}, []int{4, 5}},
		{"X [0].", "X.", 3, nil, []int{0}},
		{"X [4] [4] [5].", "X.", 3, nil, []int{4, 5}},
		{"Not citations: [sic], [a1], [], [ ], [2023], [1-99], [x](y).", "Not citations: [sic], [a1], [], [ ], [2023], [1-99], [x](y).", 3, nil, nil},
		{"Nested [[1]] brackets.", "Nested [[1]] brackets.", 1, []int{1}, nil},
		{"Unclosed [1, 2", "Unclosed [1, 2", 3, nil, nil},
		{"Trailing spaces kept   ", "Trailing spaces kept   ", 3, nil, nil},
		{"Line\n[9] next", "Line\n next", 3, nil, []int{9}},
	} {
		f := newCiteFilter(c.n)
		got := f.write(c.in) + f.flush()
		if got != c.out {
			t.Errorf("%q: got %q, want %q", c.in, got, c.out)
		}
		if !slices.Equal(f.cited, c.cited) || !slices.Equal(f.invalid, c.invalid) {
			t.Errorf("%q: cited %v invalid %v, want %v %v", c.in, f.cited, f.invalid, c.cited, c.invalid)
		}
	}
}

// The filter gives the same text however the input is cut into pieces,
// and what it writes out is never taken back.
func TestCiteFilterStreaming(t *testing.T) {
	texts := []string{
		"Goroutines are cheap [1]. Channels connect them [2][3], unlike [9]. See [1-2] and [4, 2].",
		"Tides [1–2] follow the Moon [7]; [sic] [2023] [ 1 ] [1,, 2] ok.",
		"[5] Leading, [1] middle, trailing [1]",
		strings.Repeat("word [1] ", 20) + "[" + strings.Repeat("1,", 40) + "1]",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, text := range texts {
		whole := newCiteFilter(3)
		want := whole.write(text) + whole.flush()
		for trial := range 300 {
			f := newCiteFilter(3)
			var got strings.Builder
			rest := text
			for rest != "" {
				k := 1 + rng.IntN(min(len(rest), 1+trial%12))
				got.WriteString(f.write(rest[:k]))
				rest = rest[k:]
			}
			got.WriteString(f.flush())
			if got.String() != want {
				t.Fatalf("pieces gave %q, whole gave %q", got.String(), want)
			}
			if !slices.Equal(f.cited, whole.cited) || !slices.Equal(f.invalid, whole.invalid) {
				t.Fatalf("pieces cited %v %v, whole %v %v", f.cited, f.invalid, whole.cited, whole.invalid)
			}
		}
	}
}

func TestStripCitations(t *testing.T) {
	if got := stripCitations("Tides follow the Moon [1][2], see [3-4]. [sic]"); got != "Tides follow the Moon, see. [sic]" {
		t.Fatalf("%q", got)
	}
}

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

func TestParseEnrichment(t *testing.T) {
	for _, c := range []struct {
		reply   string
		max     int
		summary string
		tags    []string
	}{
		{"SUMMARY: Zebras have stripes.\nTAGS: Animals, #Stripes, animals, africa", 5, "Zebras have stripes.", []string{"animals", "stripes", "africa"}},
		{"**Summary:** A long\nsummary on two lines.\n**Tags:** a; b", 5, "A long summary on two lines.", []string{"a", "b"}},
		{"Just a summary without labels.", 5, "Just a summary without labels.", nil},
		{"SUMMARY: s\nTAGS: a, b, c, d", 2, "s", []string{"a", "b"}},
		{"SUMMARY: s\nTAGS: a, b", -1, "s", nil},
		{"TAGS: " + strings.Repeat("x", 41) + ", ok", 5, "", []string{"ok"}},
	} {
		s, tags := parseEnrichment(c.reply, c.max)
		if s != c.summary || !slices.Equal(tags, c.tags) {
			t.Errorf("%q: %q %q, want %q %q", c.reply, s, tags, c.summary, c.tags)
		}
	}
}

func TestCleanRewrite(t *testing.T) {
	for in, want := range map[string]string{
		"What causes tides?":                            "What causes tides?",
		"\n  Standalone question: \"Why?\"\nExtra line": "Why?",
		"question: what is Go?":                         "what is Go?",
		"   \n":                                         "",
	} {
		if got := cleanRewrite(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
