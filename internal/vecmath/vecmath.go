// Package vecmath holds small vector kernels shared by the packages of the
// module.
package vecmath

import (
	"math"
	"unsafe"
)

// A float32 is NaN or infinite exactly when its eight exponent bits are all
// set. Masked to them, and plus one at the exponent's lowest bit, a float's
// bits reach bit 31 only then, with no carry beyond it.
const (
	expBits  = 0x7f800000
	expCarry = 0x00800000
	signBit  = 0x80000000
)

// Finite reports whether every component of v is finite (no NaN, no Inf).
// It tests the exponent bits of two components at a time, read as one
// uint64, and ORs the carries together: no branch and no floating-point
// dependency chain. That is about three times faster, on 1,536
// dimensions, than the sum of x*0 it replaced (NaN for a NaN or an
// infinity), itself some 20 times faster than math.IsNaN and math.IsInf
// on each component.
func Finite(v []float32) bool {
	var a0, a1, a2, a3 uint64
	if len(v) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(v)))%8 != 0 {
		// An 8-byte read must be aligned; the first component alone.
		a0 = uint64(math.Float32bits(v[0])&expBits + expCarry)
		v = v[1:]
	}
	if len(v) >= 2 {
		const m, c = expBits<<32 | expBits, expCarry<<32 | expCarry
		u := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(v))), len(v)/2)
		i := 0
		for ; i+4 <= len(u); i += 4 {
			w := u[i : i+4 : i+4]
			a0 |= w[0]&m + c
			a1 |= w[1]&m + c
			a2 |= w[2]&m + c
			a3 |= w[3]&m + c
		}
		for ; i < len(u); i++ {
			a0 |= u[i]&m + c
		}
	}
	if len(v)%2 == 1 {
		a0 |= uint64(math.Float32bits(v[len(v)-1])&expBits + expCarry)
	}
	return (a0|a1|a2|a3)&(signBit<<32|signBit) == 0
}
