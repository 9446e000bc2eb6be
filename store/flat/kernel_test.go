package flat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The portable kernels are the reference: every dimension from 1 to 70
// (covering each tail path of the unrolled loops) and a few realistic ones
// must give the same scores through whatever kernel init selected.
func TestKernelsMatchReference(t *testing.T) {
	t.Logf("kernel in use: %s", kernelName)
	rng := rand.New(rand.NewPCG(1, 2))
	dims := []int{}
	for d := 1; d <= 70; d++ {
		dims = append(dims, d)
	}
	dims = append(dims, 384, 768, 1536, 1537)
	for _, dim := range dims {
		const rows = 5
		q := make([]float32, dim)
		x := make([]float32, rows*dim)
		q16 := make([]int16, dim)
		x8 := make([]int8, rows*dim)
		for i := range q {
			q[i] = rng.Float32()*2 - 1
			q16[i] = int16(rng.IntN(255) - 127)
		}
		for i := range x {
			x[i] = rng.Float32()*2 - 1
			x8[i] = int8(rng.IntN(255) - 127)
		}
		got := make([]float32, rows)
		want := make([]float32, rows)
		dotRows(q, x, dim, got)
		for r := range want {
			var s float64
			for i := 0; i < dim; i++ {
				s += float64(q[i]) * float64(x[r*dim+i])
			}
			want[r] = float32(s)
		}
		for r := range got {
			// Summation order differs between kernels; allow float32
			// rounding proportional to the magnitude of the terms.
			tol := 1e-5 * float32(math.Sqrt(float64(dim))+1)
			if d := got[r] - want[r]; d > tol || d < -tol {
				t.Errorf("dim %d row %d: dotRows = %v, float64 reference %v", dim, r, got[r], want[r])
			}
		}
		gi := make([]int32, rows)
		dotRowsInt8(q16, x8, dim, gi)
		for r := range gi {
			var s int32
			for i := 0; i < dim; i++ {
				s += int32(q16[i]) * int32(x8[r*dim+i])
			}
			if gi[r] != s {
				t.Errorf("dim %d row %d: dotRowsInt8 = %d, want %d", dim, r, gi[r], s)
			}
		}
		// The generic kernels agree with the references too (when the
		// assembly is in use this is a separate check).
		gg := make([]float32, rows)
		dotRowsGeneric(q, x, dim, gg)
		for r := range gg {
			tol := 1e-5 * float32(math.Sqrt(float64(dim))+1)
			if d := gg[r] - want[r]; d > tol || d < -tol {
				t.Errorf("dim %d row %d: dotRowsGeneric = %v, want %v", dim, r, gg[r], want[r])
			}
		}
		dotRowsInt8Generic(q16, x8, dim, gi)
		for r := range gi {
			var s int32
			for i := 0; i < dim; i++ {
				s += int32(q16[i]) * int32(x8[r*dim+i])
			}
			if gi[r] != s {
				t.Errorf("dim %d row %d: dotRowsInt8Generic = %d, want %d", dim, r, gi[r], s)
			}
		}
	}
}

// Extreme int8 codes must not overflow the 16-bit multiply-add.
func TestKernelInt8Extremes(t *testing.T) {
	for _, dim := range []int{1, 16, 31, 32, 1536} {
		q := make([]int16, dim)
		x := make([]int8, 2*dim)
		for i := range q {
			q[i] = -127
			x[i] = -127
			x[dim+i] = 127
		}
		out := make([]int32, 2)
		dotRowsInt8(q, x, dim, out)
		if want := int32(127 * 127 * dim); out[0] != want || out[1] != -want {
			t.Errorf("dim %d: got %v, want [%d %d]", dim, out, want, -want)
		}
	}
}

func benchDims() []int { return []int{384, 1536} }

// BenchmarkKernel measures the float32 and int8 scan kernels over a block of
// rows that does not fit in cache (about 64 MiB of float32), reporting bytes
// scanned per second.
func BenchmarkKernel(b *testing.B) {
	for _, dim := range benchDims() {
		rows := (64 << 20) / (4 * dim)
		x := make([]float32, rows*dim)
		x8 := make([]int8, rows*dim)
		q := make([]float32, dim)
		q16 := make([]int16, dim)
		for i := range x {
			x[i] = float32(i%13) * 0.1
			x8[i] = int8(i % 13)
		}
		for i := range q {
			q[i] = 0.5
			q16[i] = 3
		}
		out := make([]float32, rows)
		outI := make([]int32, rows)
		kernels := []struct {
			name string
			f    func([]float32, []float32, int, []float32)
		}{{"generic", dotRowsGeneric}}
		if kernelName != "generic" {
			kernels = append(kernels, struct {
				name string
				f    func([]float32, []float32, int, []float32)
			}{kernelName, dotRows})
		}
		for _, k := range kernels {
			b.Run(fmt.Sprintf("float32/%s/dim=%d", k.name, dim), func(b *testing.B) {
				b.SetBytes(int64(len(x) * 4))
				for b.Loop() {
					k.f(q, x, dim, out)
				}
			})
		}
		ikernels := []struct {
			name string
			f    func([]int16, []int8, int, []int32)
		}{{"generic", dotRowsInt8Generic}}
		if kernelName != "generic" {
			ikernels = append(ikernels, struct {
				name string
				f    func([]int16, []int8, int, []int32)
			}{kernelName, dotRowsInt8})
		}
		for _, k := range ikernels {
			b.Run(fmt.Sprintf("int8/%s/dim=%d", k.name, dim), func(b *testing.B) {
				b.SetBytes(int64(len(x8)))
				for b.Loop() {
					k.f(q16, x8, dim, outI)
				}
			})
		}
	}
}
