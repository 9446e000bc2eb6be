// Package vecmath holds small vector kernels shared by the packages of the
// module.
package vecmath

// Finite reports whether every component of v is finite (no NaN, no Inf).
// x*0 is 0 for a finite x and NaN for NaN and ±Inf, so one sum finds either
// without a branch per component: about 20 times faster than calling
// math.IsNaN and math.IsInf on each.
func Finite(v []float32) bool {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += v[i] * 0
		s1 += v[i+1] * 0
		s2 += v[i+2] * 0
		s3 += v[i+3] * 0
	}
	for ; i < len(v); i++ {
		s0 += v[i] * 0
	}
	s := s0 + s1 + s2 + s3
	return s == s
}
