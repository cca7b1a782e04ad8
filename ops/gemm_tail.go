package ops

// Narrow column tails of the float32 GEMM, as dot products.
//
// The tile kernels fill vectors of 16 columns (AVX-512, whose panels are
// 32 wide) or 8 (AVX2); the columns of a partial last panel leave lanes
// idle: with n = 100, AVX-512 runs columns 96..99 on 8-lane vectors, half
// of them wasted. When the caller asks for it (nnEpilogue.DotTail) and
// the kernel set has a dot kernel (nnGemmArch.dot), the last
// t = gtailWidth(n) columns are computed instead as dot products along k:
// a row of A is contiguous in k, the t columns of B are laid out as t
// rows of k (packed after the panels of packed B, or read in place when B
// is transposed), and every lane of every multiply-add is useful. The
// tiles then see n - t columns, a multiple of 16, which fill their
// vectors. The tail of a block of rows runs after the block's tiles,
// while its rows of A are still in cache.
//
// Order of the sums: each element of a tail column is
//
//	var lane [16]float32
//	for p := 0; p < k; p++ {
//		lane[p%16] = fma(a[i,p], b[p,j], lane[p%16])   // one rounding
//	}
//	for w := 8; w >= 1; w /= 2 {
//		for l := 0; l < w; l++ {
//			lane[l] += lane[l+w]
//		}
//	}
//	c[i,j] = act(lane[0] + bias[j])   // as nnEpilogueOne
//
// (gtailDot), whatever the rows a call covers, the split between workers,
// the packing of B or the kernel set: the AVX-512, AVX2 and portable
// float32 kernels give the same bits, and the determinism contract of
// gemm.go holds for the whole product. The order differs from the single
// chain over p of the tiles, so a column's bits depend on whether it is
// in the tail; the convolutions, whose direct kernel must give the bits
// of im2col followed by the GEMM, do not ask for it.

// gtailWidth returns the number of trailing columns of an n-column
// product that ar computes as dot products when asked to: n mod 16, or 0
// when ar has no dot kernel.
func gtailWidth[T nnGemmNum](ar *nnGemmArch[T], n int) int {
	if ar.dot == nil {
		return 0
	}
	return n % 16
}

// gtailPackLen is the number of elements packed B holds, after its
// panels, for the tail of a k×n product, for any kernel set.
func gtailPackLen(k, n int) int { return k * (n % 16) }

// gtailPack writes columns [j0, j0+t) of op(B) (k×n, leading dimension
// ldb) into dst as t rows of k: element (p, j0+j) at dst[j*k+p].
func gtailPack[T nnGemmNum](b []T, ldb int, transB bool, k, j0, t int, dst []T) {
	if transB {
		for j := 0; j < t; j++ {
			copy(dst[j*k:(j+1)*k], b[(j0+j)*ldb:][:k])
		}
		return
	}
	for p := 0; p < k; p++ {
		for j, v := range b[p*ldb+j0:][:t] {
			dst[j*k+p] = v
		}
	}
}

// gtailRun computes columns [j0, j0+t) of rows [i0, i1) of C = op(A)·op(B)
// with ar.dot over all k steps, then the epilogue flags: bt holds the t
// columns of op(B) as rows of k at a stride of ldbt. Rows of a transposed
// A are copied, a few at a time, so that the kernel reads them
// contiguously.
func gtailRun[T nnGemmNum](ar *nnGemmArch[T], ctx *Ctx, i0, i1, j0, t, k int, a []T, lda int, transA bool, bt []T, ldbt int, c []T, ldc int, bias []T, flags int) {
	bias = nnBiasAt(bias, flags, j0)
	if !transA {
		ar.dot(k, a[i0*lda:], lda, bt, ldbt, c[i0*ldc+j0:], ldc, i1-i0, t, flags, bias)
		return
	}
	const chunk = 16
	buf, release := nnScratch[T](ctx, min(chunk, i1-i0)*k)
	defer release.Release()
	for i := i0; i < i1; i += chunk {
		rows := min(chunk, i1-i)
		for p := 0; p < k; p++ {
			for r, v := range a[p*lda+i:][:rows] {
				buf[r*k+p] = v
			}
		}
		ar.dot(k, buf, k, bt, ldbt, c[i*ldc+j0:], ldc, rows, t, flags, bias)
	}
}

// gtailGoDot is the dot kernel of the portable float32 set: for i < rows
// and j < cols, c[i*ldc+j] = epilogue(gtailDot(row i of a, row j of b)).
func gtailGoDot(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc, rows, cols, flags int, bias []float32) {
	for i := 0; i < rows; i++ {
		ai := a[i*lda:][:k]
		ci := c[i*ldc:][:cols]
		for j := range ci {
			ci[j] = nnEpilogueOne(gtailDot(ai, b[j*ldb:][:k]), j, flags, bias)
		}
	}
}

// gtailDot returns the dot product of a and b (of equal length) summed
// in the order of the tails (see above), each multiply-add rounded once.
func gtailDot(a, b []float32) float32 {
	var lane [16]float32
	b = b[:len(a)]
	for p := 0; p < len(a); p += 16 {
		x := a[p:min(p+16, len(a))]
		y := b[p : p+len(x)]
		for l, av := range x {
			v, ok := vmathFMAFast(av, y[l], lane[l])
			if !ok {
				v = vmathFMA(av, y[l], lane[l])
			}
			lane[l] = v
		}
	}
	for w := 8; w >= 1; w /= 2 {
		for l := 0; l < w; l++ {
			lane[l] += lane[l+w]
		}
	}
	return lane[0]
}
