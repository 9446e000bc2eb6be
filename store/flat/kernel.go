package flat

// The scan kernels. Each scores a block of consecutive rows of a row-major
// matrix against one query and writes one score a row. The portable
// versions below are the reference; kernel_amd64.go swaps in AVX2 versions
// when the CPU has them (build with -tags purego to keep the portable ones).

// dotRows sets out[r] = dot(q, x[r*dim:(r+1)*dim]) for r in [0, len(out)).
// x holds at least len(out)*dim values and len(q) == dim.
var dotRows = dotRowsGeneric

// dotRowsInt8 sets out[r] to the integer dot product of q (int8 codes
// widened to int16) and row r of the int8 matrix x.
var dotRowsInt8 = dotRowsInt8Generic

// kernelName names the kernels in use, for benchmarks and reports.
var kernelName = "generic"

// dotRowsGeneric is the portable float32 kernel: eight independent
// accumulators so the additions pipeline, and re-sliced blocks so the
// compiler drops the bounds checks in the loop body.
func dotRowsGeneric(q, x []float32, dim int, out []float32) {
	q = q[:dim]
	for r := range out {
		out[r] = dotGeneric(q, x[r*dim:(r+1)*dim:(r+1)*dim])
	}
}

// dotGeneric returns the dot product of a and b, which have the same length.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dotRowsInt8Generic is the portable int8 kernel.
func dotRowsInt8Generic(q []int16, x []int8, dim int, out []int32) {
	q = q[:dim]
	for r := range out {
		out[r] = dotInt8Generic(q, x[r*dim:(r+1)*dim:(r+1)*dim])
	}
}

func dotInt8Generic(a []int16, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += int32(aa[0])*int32(bb[0]) + int32(aa[4])*int32(bb[4])
		s1 += int32(aa[1])*int32(bb[1]) + int32(aa[5])*int32(bb[5])
		s2 += int32(aa[2])*int32(bb[2]) + int32(aa[6])*int32(bb[6])
		s3 += int32(aa[3])*int32(bb[3]) + int32(aa[7])*int32(bb[7])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}
