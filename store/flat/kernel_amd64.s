//go:build amd64 && !purego

#include "textflag.h"

// func dotRowsAVX2(q, x *float32, dim, rows int, out *float32)
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ dim+16(FP), CX
	MOVQ rows+24(FP), R8
	MOVQ out+32(FP), R9
	MOVQ CX, R10
	ANDQ $-32, R10          // dim rounded down to 32
	MOVQ CX, R11
	ANDQ $-8, R11           // dim rounded down to 8
	TESTQ R8, R8
	JEQ  fdone

frow:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX

floop32:
	CMPQ AX, R10
	JGE  floop8
	VMOVUPS (DI)(AX*4), Y4
	VMOVUPS 32(DI)(AX*4), Y5
	VMOVUPS 64(DI)(AX*4), Y6
	VMOVUPS 96(DI)(AX*4), Y7
	VFMADD231PS (SI)(AX*4), Y4, Y0
	VFMADD231PS 32(SI)(AX*4), Y5, Y1
	VFMADD231PS 64(SI)(AX*4), Y6, Y2
	VFMADD231PS 96(SI)(AX*4), Y7, Y3
	ADDQ $32, AX
	JMP  floop32

floop8:
	CMPQ AX, R11
	JGE  freduce
	VMOVUPS (DI)(AX*4), Y4
	VFMADD231PS (SI)(AX*4), Y4, Y0
	ADDQ $8, AX
	JMP  floop8

freduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

ftail:
	CMPQ AX, CX
	JGE  fstore
	VMOVSS (DI)(AX*4), X4
	VFMADD231SS (SI)(AX*4), X4, X0
	INCQ AX
	JMP  ftail

fstore:
	VMOVSS X0, (R9)
	ADDQ $4, R9
	LEAQ (DI)(CX*4), DI
	DECQ R8
	JNE  frow

fdone:
	VZEROUPPER
	RET

// func dotRowsInt8AVX2(q *int16, x *int8, dim, rows int, out *int32)
TEXT ·dotRowsInt8AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ dim+16(FP), CX
	MOVQ rows+24(FP), R8
	MOVQ out+32(FP), R9
	MOVQ CX, R10
	ANDQ $-32, R10          // dim rounded down to 32
	MOVQ CX, R11
	ANDQ $-16, R11          // dim rounded down to 16
	TESTQ R8, R8
	JEQ  idone

irow:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORQ AX, AX

iloop32:
	CMPQ AX, R10
	JGE  iloop16
	VPMOVSXBW (DI)(AX*1), Y4
	VPMOVSXBW 16(DI)(AX*1), Y5
	VPMADDWD (SI)(AX*2), Y4, Y4
	VPMADDWD 32(SI)(AX*2), Y5, Y5
	VPADDD Y4, Y0, Y0
	VPADDD Y5, Y1, Y1
	ADDQ $32, AX
	JMP  iloop32

iloop16:
	CMPQ AX, R11
	JGE  ireduce
	VPMOVSXBW (DI)(AX*1), Y4
	VPMADDWD (SI)(AX*2), Y4, Y4
	VPADDD Y4, Y0, Y0
	ADDQ $16, AX
	JMP  iloop16

ireduce:
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPHADDD X0, X0, X0
	VPHADDD X0, X0, X0
	VMOVD X0, BX

itail:
	CMPQ AX, CX
	JGE  istore
	MOVBQSX (DI)(AX*1), DX
	MOVWQSX (SI)(AX*2), R12
	IMULQ R12, DX
	ADDL DX, BX
	INCQ AX
	JMP  itail

istore:
	MOVL BX, (R9)
	ADDQ $4, R9
	ADDQ CX, DI
	DECQ R8
	JNE  irow

idone:
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
