package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFinite: every length and alignment (a vector starting at an odd
// component of its array), a NaN or an infinity at every position found,
// every finite value (the extremes, subnormals, -0) passed.
func TestFinite(t *testing.T) {
	for n := range 20 {
		for off := range 2 {
			arr := make([]float32, n+off)
			v := arr[off:]
			for i := range v {
				v[i] = float32(i) - 3.5
			}
			if !Finite(v) {
				t.Fatalf("finite vector of %d (offset %d) reported not finite", n, off)
			}
			for i := range n {
				for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0xffc00001)} {
					w := make([]float32, n+off)[off:]
					copy(w, v)
					w[i] = bad
					if Finite(w) {
						t.Fatalf("%v at %d of %d (offset %d) not found", bad, i, n, off)
					}
				}
			}
		}
	}
	extremes := []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		float32(math.Copysign(0, -1)), math.Float32frombits(0x7f7fffff), math.Float32frombits(0x00800000), math.Float32frombits(0x007fffff)}
	for off := range len(extremes) {
		if !Finite(extremes[off:]) {
			t.Fatalf("extreme finite values %v reported not finite", extremes[off:])
		}
	}
}

// TestFiniteRandomBits: on random bit patterns, Finite agrees with
// math.IsNaN and math.IsInf.
func TestFiniteRandomBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		v := make([]float32, 1+rng.IntN(9))
		want := true
		for i := range v {
			b := rng.Uint32()
			if rng.IntN(4) == 0 {
				b |= expBits // exponent all ones: NaN or Inf
			}
			v[i] = math.Float32frombits(b)
			if math.IsNaN(float64(v[i])) || math.IsInf(float64(v[i]), 0) {
				want = false
			}
		}
		if got := Finite(v); got != want {
			t.Fatalf("Finite(%v) = %v, want %v", v, got, want)
		}
	}
}

// BenchmarkFinite: one 1,536-dimension vector.
//
//	go test ./internal/vecmath -run '^$' -bench Finite -count 8
func BenchmarkFinite(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	v := make([]float32, 1536)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	b.SetBytes(4 * int64(len(v)))
	for b.Loop() {
		if !Finite(v) {
			b.Fatal("reported not finite")
		}
	}
}

// TestSumSquares: the sum of squares of random vectors agrees with a plain
// float64 loop, and is finite exactly when every component is.
func TestSumSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 40 {
		v := make([]float32, n)
		var want float64
		for i := range v {
			v[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
			want += float64(v[i]) * float64(v[i])
		}
		if got := SumSquares(v); math.Abs(got-want) > 1e-12*want {
			t.Fatalf("SumSquares of %d components = %v, want %v", n, got, want)
		}
		for i := range n {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				w := append([]float32(nil), v...)
				w[i] = bad
				if s := SumSquares(w); !math.IsNaN(s) && !math.IsInf(s, 0) {
					t.Fatalf("%v at %d of %d: SumSquares = %v, want NaN or Inf", bad, i, n, s)
				}
			}
		}
	}
	huge := make([]float32, 1<<16)
	for i := range huge {
		huge[i] = -math.MaxFloat32
	}
	if s := SumSquares(huge); math.IsInf(s, 0) || math.IsNaN(s) {
		t.Fatalf("65,536 components of -MaxFloat32: SumSquares = %v, want finite", s)
	}
}
