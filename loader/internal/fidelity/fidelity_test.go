package fidelity

import (
	"math"
	"testing"
)

func TestF1(t *testing.T) {
	for _, c := range []struct {
		got, want string
		f1        float64
	}{
		{"The cat sat.", "the  CAT\nsat", 1},
		{"a b", "a b c d", 2 * 1 * 0.5 / 1.5},
		{"x", "y", 0},
		{"", "", 1},
		{"", "word", 0},
		{"a a a", "a", 2 * (1.0 / 3) * 1 / (1.0/3 + 1)},
	} {
		if got := F1(c.got, c.want); math.Abs(got-c.f1) > 1e-12 {
			t.Errorf("F1(%q, %q) = %v, want %v", c.got, c.want, got, c.f1)
		}
	}
}
