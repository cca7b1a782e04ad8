//go:build amd64 && !noasm

package ops

import "fmt"

// Dot-product kernels of the GEMM's column tails in assembly
// (gemm_tail_amd64.s, written by gemm_tail_gen_test.go). Both compute
//
//	for i < rows, j < cols:
//		c[i*ldc+j] = epilogue(gtailDot(a[i*lda:][:k], b[j*ldb:][:k]))   // bias and act per flags
//
// with the sum order of gtailDot (gemm_tail.go), so they give identical
// results: AVX-512 keeps each output's 16 lanes in one zmm, AVX2 in two
// ymm. Rows are taken in blocks that fill the vector registers
// (AVX-512: 8 rows of 1 or 2 columns, 7 of 3, 6 of 4; AVX2: 5 rows of 1
// column, 2 of 2, 1 of 3), the last partial block with as many rows as
// are left.

// gtailDotAVX512 is the dot kernel of the AVX-512 set, with pointers for
// slices and sizes in elements; k, rows and cols are at least 1, and a
// nil bias is allowed without nnGemmBias.
//
//go:noescape
func gtailDotAVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc, rows, cols, flags int, bias *float32)

// gtailDotAVX2 is the dot kernel of the AVX2 set.
//
//go:noescape
func gtailDotAVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc, rows, cols, flags int, bias *float32)

// gtailAsmDot wraps a dot kernel, checking that every access stays inside
// the slices, since the assembly cannot.
func gtailAsmDot(name string, fn func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc, rows, cols, flags int, bias *float32)) func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, rows, cols, flags int, bias []float32) {
	return func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, rows, cols, flags int, bias []float32) {
		if k < 1 || rows < 1 || cols < 1 || lda < 0 || ldb < 0 || ldc < 0 ||
			(rows-1)*lda+k > len(a) || (cols-1)*ldb+k > len(b) || (rows-1)*ldc+cols > len(c) ||
			(flags&nnGemmBias != 0 && cols > len(bias)) {
			panic(fmt.Sprintf("ops: gemm %s dot out of bounds: k=%d rows=%d cols=%d lda=%d ldb=%d ldc=%d len(a)=%d len(b)=%d len(c)=%d len(bias)=%d",
				name, k, rows, cols, lda, ldb, ldc, len(a), len(b), len(c), len(bias)))
		}
		fn(k, &a[0], lda, &b[0], ldb, &c[0], ldc, rows, cols, flags, nnBiasPtr(flags, bias))
	}
}

// gtailWith sets the dot kernel of ar to fn, wrapped by gtailAsmDot.
func gtailWith(ar *nnGemmArch[float32], fn func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc, rows, cols, flags int, bias *float32)) *nnGemmArch[float32] {
	ar.dot = gtailAsmDot(ar.name, fn)
	return ar
}
