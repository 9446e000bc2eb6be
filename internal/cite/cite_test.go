package cite

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
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
		{"Line\n[9] next", "Line\nnext", 3, nil, []int{9}},
		// Code is never read: inline spans and fenced blocks keep their brackets.
		{"Use `os.Args[0]` or `os.Args[5]` [1].", "Use `os.Args[0]` or `os.Args[5]` [1].", 3, []int{1}, nil},
		{"A ``x[2]`y[3]`` span [2].", "A ``x[2]`y[3]`` span [2].", 3, []int{2}, nil},
		{"Code:\n```go\nx := a[1] + b[9]\n```\nAfter [9] it [1].", "Code:\n```go\nx := a[1] + b[9]\n```\nAfter it [1].", 3, []int{1}, []int{9}},
		{"~~~\n[2]\n~~~~\n[2]", "~~~\n[2]\n~~~~\n[2]", 3, []int{2}, nil},
		{"Open ```\n[1] never closed", "Open ```\n[1] never closed", 3, nil, nil},
		{"Unclosed `span [1]\n\nnext [2]", "Unclosed `span [1]\n\nnext [2]", 3, []int{2}, nil},
		// Removing an invalid citation leaves clean prose.
		{"See the references [1] and [9].", "See the references [1].", 3, []int{1}, []int{9}},
		{"See [2], [7]; and [1] or [8] then.", "See [2]; and [1] then.", 3, []int{2, 1}, []int{7, 8}},
		{"[1] and apples [9] , or [8] [2]", "[1] and apples, or [2]", 3, []int{1, 2}, []int{9, 8}},
		{"[1] android", "[1] android", 3, []int{1}, nil},
		{"The references [8] and [9].", "The references.", 3, nil, []int{8, 9}},
		{"See references [9] and [1].", "See references [1].", 3, []int{1}, []int{9}},
		{"A [7], [1] and [8] or [2].", "A [1] or [2].", 3, []int{1, 2}, []int{7, 8}},
	} {
		f := New(c.n)
		got := f.Write(c.in) + f.Flush()
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
		"Use `os.Args[0]` [1] and [9], ``a`[2]`` then\n```go\nx[1]\n  ```\n[9] ok [2] or [3]\n~~~~\n[1]\n~~~\n~~~~~ [1] and",
		"`unclosed [1]\n\n[2] and [7] or [1]` done",
		"The references [8] and [9]. See [9] and [1], [7]; [2] and tides [5] , or [3]",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, text := range texts {
		whole := New(3)
		want := whole.Write(text) + whole.Flush()
		for trial := range 300 {
			f := New(3)
			var got strings.Builder
			rest := text
			for rest != "" {
				k := 1 + rng.IntN(min(len(rest), 1+trial%12))
				got.WriteString(f.Write(rest[:k]))
				rest = rest[k:]
			}
			got.WriteString(f.Flush())
			if got.String() != want {
				t.Fatalf("pieces gave %q, whole gave %q", got.String(), want)
			}
			if !slices.Equal(f.cited, whole.cited) || !slices.Equal(f.invalid, whole.invalid) {
				t.Fatalf("pieces cited %v %v, whole %v %v", f.cited, f.invalid, whole.cited, whole.invalid)
			}
		}
	}
}

// NewlyCited hands each valid citation out once, with the piece of text
// that completed its marker.
func TestNewlyCited(t *testing.T) {
	f := New(3)
	var got [][]int
	for _, piece := range []string{"Tides [", "2] rise [2, ", "1] `[3]` [3", "]."} {
		f.Write(piece)
		got = append(got, slices.Clone(f.NewlyCited()))
	}
	f.Flush()
	want := [][]int{{}, {2}, {1}, {3}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("newly cited by piece: %v, want %v", got, want)
		}
	}
	if !slices.Equal(f.Cited(), []int{2, 1, 3}) {
		t.Fatalf("cited %v", f.Cited())
	}
}

func TestStripCitations(t *testing.T) {
	if got := Strip("Tides follow the Moon [1][2], see [3-4]. [sic]"); got != "Tides follow the Moon, see. [sic]" {
		t.Fatalf("%q", got)
	}
}

func TestLocator(t *testing.T) {
	for _, c := range []struct{ kind, label, want string }{
		{"page", "12", "p. 12"},
		{"page", "xii", "p. xii"},
		{"slide", "4", "slide 4"},
		{"sheet", "Q3", "sheet Q3"},
		{"chapter", "The Sea", "The Sea"},
		{"chapter", "3", "chapter 3"},
		{"section", "Install", "Install"},
		{"track", "2", "track 2"},
		{"", "Appendix", "Appendix"},
		{"page", " ", ""},
	} {
		if got := Locator(c.kind, c.label); got != c.want {
			t.Errorf("Locator(%q, %q) = %q, want %q", c.kind, c.label, got, c.want)
		}
	}
}
