package vecmath

import (
	"math"
	"testing"
)

func TestFinite(t *testing.T) {
	for n := range 11 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i) - 3.5
		}
		if !Finite(v) {
			t.Fatalf("finite vector of %d reported not finite", n)
		}
		for i := range n {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				w := append([]float32(nil), v...)
				w[i] = bad
				if Finite(w) {
					t.Fatalf("%v at %d of %d not found", bad, i, n)
				}
			}
		}
	}
	big := []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}
	if !Finite(big) {
		t.Fatal("extreme finite values reported not finite")
	}
}
