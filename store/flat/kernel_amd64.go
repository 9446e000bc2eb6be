//go:build amd64 && !purego

package flat

import "unsafe"

// The AVX2 kernels (kernel_amd64.s) use fused multiply-add on eight floats
// at a time, which keeps a core ahead of memory bandwidth; the portable Go
// loop cannot, because Go has no SIMD. They are used only when the CPU and
// the operating system support AVX2 and FMA.

//go:noescape
func dotRowsAVX2(q, x *float32, dim, rows int, out *float32)

//go:noescape
func dotRowsInt8AVX2(q *int16, x *int8, dim, rows int, out *int32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

var hasAVX2 = detectAVX2()

func detectAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	// The OS must save the XMM and YMM registers on context switches.
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

func init() {
	if hasAVX2 {
		dotRows = dotRowsAsm
		dotRowsInt8 = dotRowsInt8Asm
		kernelName = "avx2"
	}
}

func dotRowsAsm(q, x []float32, dim int, out []float32) {
	if len(out) == 0 || dim == 0 {
		clear(out)
		return
	}
	_ = q[dim-1]
	_ = x[len(out)*dim-1]
	dotRowsAVX2(unsafe.SliceData(q), unsafe.SliceData(x), dim, len(out), unsafe.SliceData(out))
}

func dotRowsInt8Asm(q []int16, x []int8, dim int, out []int32) {
	if len(out) == 0 || dim == 0 {
		clear(out)
		return
	}
	_ = q[dim-1]
	_ = x[len(out)*dim-1]
	dotRowsInt8AVX2(unsafe.SliceData(q), unsafe.SliceData(x), dim, len(out), unsafe.SliceData(out))
}
