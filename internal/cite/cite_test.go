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
		{"Line\n[9] next", "Line\n next", 3, nil, []int{9}},
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

func TestStripCitations(t *testing.T) {
	if got := Strip("Tides follow the Moon [1][2], see [3-4]. [sic]"); got != "Tides follow the Moon, see. [sic]" {
		t.Fatalf("%q", got)
	}
}
