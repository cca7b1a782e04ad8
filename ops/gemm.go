package ops

import (
	"fmt"
	"unsafe"

	"github.com/tfdgo/tfd/tensor"
)

// General matrix multiply, C = act(op(A)·op(B) + bias), shared by MatMul,
// the batch matmuls and Conv2D.
//
// Layout: all matrices are row-major slices with a leading dimension. A is
// m×k (k×m when transA), B is k×n (n×k when transB), C is m×n.
//
// Determinism: every path computes each output element the same way,
//
//	acc := 0
//	for p := 0; p < k; p++ { acc = acc + A[i,p]*B[p,j] }   // one rounding or two, see below
//	if bias != nil { acc = acc + bias[j] }
//	acc = act(acc)
//	C[i,j] = acc
//
// whatever m, the row or column split between workers, the cache blocking,
// the tile kernel (full tile, edge tile, few-row kernel) or whether B was
// packed ahead of time. Partial sums that cross a K block are stored in C
// and loaded back, which is exact. Results are therefore bit-identical for
// any number of workers and any slicing of the batch. For float32 the
// multiply and add are fused (one rounding) in every kernel set: the SIMD
// kernels use FMA and the portable Go kernels emulate it (vmath_fma.go),
// so the AVX-512, AVX2 and portable kernels give identical results, with
// or without -tags noasm. The portable float64 and integer kernels round
// the product first (nnGemmArch.fused). With nnEpilogue.DotTail (MatMul,
// BatchMatMul, _FusedMatMul), the float32 kernel sets compute the last
// n mod 16 columns as dot products, summed in sixteen lanes (gemm_tail.go):
// another order, but the same one on every path and kernel set, so the
// above holds for them too.
//
// Structure (after BLIS): B is packed into nr-wide column panels, cut into
// K blocks of equal depth, at most nnKC (nnKBlock), or comes packed from a
// constant. Rows are split between
// workers in mr-row panels. A worker walks blocks of mc rows × nnNC
// columns; for each K block and each mr-row panel it runs the mr×nr tile
// kernel over the panels of the block, reading A in place (or from a small
// packed copy) while the B block stays in L2. A few rows (a small m, or
// what is left at the bottom edge) go to a one-row kernel that streams B
// instead, since a mostly empty tile costs as much as a full one. A
// dot-product tail runs after each block of mc rows (gtailRun), or after
// the row kernel.

// Blocking.
const (
	nnKC = 384 // depth of a K block; also the block depth of packed B
	nnNC = 384 // columns of a block of C a worker updates per K block
	// nnMCPanels is the number of mr-row panels in a block of C.
	nnMCPanels = 8
	// nnMaxNR bounds the panel width of every kernel set; packed B is
	// sized with it.
	nnMaxNR = 32
	// nnRowPanels is the number of panels the row kernel covers per call.
	nnRowPanels = 4
	// nnGemmGrain is the number of multiply-adds below which a GEMM is not
	// split between workers.
	nnGemmGrain = 1 << 17
)

// Flags of a tile or row kernel call.
const (
	nnGemmAccum = 1 << iota // start from C instead of zero
	nnGemmBias              // add bias[j] at the end
	nnGemmRelu              // then max(x, 0), keeping NaN and -0
	nnGemmClip6             // then min(x, 6), keeping NaN
)

// nnAct is an activation the GEMM applies to C when it stores it.
type nnAct uint8

const (
	nnActNone  nnAct = iota
	nnActRelu        // max(x, 0), as the Relu op
	nnActRelu6       // min(max(x, 0), 6), as the Relu6 op
)

// nnEpilogue is what the GEMM applies to each element after its last
// multiply-add: C[i,j] = act(C[i,j] + Bias[j]). The zero value does
// nothing. Bias, when not empty, has at least n elements.
type nnEpilogue[T nnGemmNum] struct {
	Bias []T
	Act  nnAct
	// DotTail computes the last n mod 16 columns as dot products when
	// the kernel set can (gemm_tail.go), which sums them in another
	// order than the tiles.
	DotTail bool
}

func (e nnEpilogue[T]) flags() int {
	f := 0
	if len(e.Bias) > 0 {
		f |= nnGemmBias
	}
	switch e.Act {
	case nnActRelu:
		f |= nnGemmRelu
	case nnActRelu6:
		f |= nnGemmRelu | nnGemmClip6
	}
	return f
}

// nnGemmNum is the element types the GEMM is instantiated for.
type nnGemmNum interface {
	~float32 | ~float64 | ~int32 | ~int64
}

// nnGemmArch is a set of GEMM kernels for one element type.
//
// tile computes an mr×nr tile of C (rows < rows and columns < cols of it,
// 1 ≤ rows ≤ mr, 1 ≤ cols ≤ nr) over kc ≥ 1 steps:
//
//	for i < rows, j < cols:
//		acc := 0, or c[i*ldc+j] when flags&nnGemmAccum
//		for p < kc { acc += a[i*aRow+p*aStep] * b[p*nr+j] }
//		c[i*ldc+j] = epilogue(acc)   // bias and act per flags
//
// It reads all mr rows of a (so rows past the edge must be padding) and,
// when cols ≤ nr/2, only the first nr/2 columns of each step of b.
//
// row computes one row of C over np ≤ nnRowPanels panels of nr columns
// (cols valid columns in the last, all in the others):
//
//	for t < np, j < nr (cols in the last panel):
//		acc := 0, or c[t*nr+j] when flags&nnGemmAccum
//		for p < kc { acc += a[p*aStep] * b[t*bPanel+p*bRow+j] }
//		c[t*nr+j] = epilogue(acc)
//
// reading all nr columns of each panel of b.
type nnGemmArch[T nnGemmNum] struct {
	name   string
	mr, nr int
	// rowMax is the largest number of rows computed with row rather than
	// with a partly empty tile.
	rowMax int
	// fused tells whether the multiply-add rounds once (FMA).
	fused bool
	// direct tells whether tile may read A in place (any aRow, aStep);
	// otherwise A is always packed (aRow 1, aStep mr).
	direct bool
	tile   func(kc int, a []T, aRow, aStep int, b, c []T, ldc, rows, cols, flags int, bias []T)
	row    func(kc int, a []T, aStep int, b []T, bRow, bPanel, np int, c []T, cols, flags int, bias []T)
	// dot, when not nil, computes the column tails (gemm_tail.go):
	//
	//	for i < rows, j < cols:
	//		c[i*ldc+j] = epilogue(gtailDot(a[i*lda:][:k], b[j*ldb:][:k]))
	dot func(k int, a []T, lda int, b []T, ldb int, c []T, ldc, rows, cols, flags int, bias []T)
}

// The kernel sets in use, chosen once. nnArchF32 is the fastest the CPU
// supports (see nnSelectArchF32); the others are portable.
var (
	nnArchF32 = nnSelectArchF32()
	nnArchF64 = nnGoArch[float64]()
	nnArchI32 = nnGoArch[int32]()
	nnArchI64 = nnGoArch[int64]()
)

// nnArchOf returns the kernel set for T.
func nnArchOf[T nnGemmNum]() *nnGemmArch[T] {
	var z T
	var ar any
	switch any(z).(type) {
	case float32:
		ar = nnArchF32
	case float64:
		ar = nnArchF64
	case int32:
		ar = nnArchI32
	case int64:
		ar = nnArchI64
	}
	if a, ok := ar.(*nnGemmArch[T]); ok {
		return a
	}
	return nnGoArch[T]()
}

// gemmF32 computes C = op(A)·op(B) for float32, overwriting C.
func gemmF32(ctx *Ctx, m, n, k int, a []float32, lda int, transA bool, b []float32, ldb int, transB bool, c []float32, ldc int) {
	nnGemm(ctx, m, n, k, a, lda, transA, b, ldb, transB, nil, c, ldc)
}

// nnPadN is n rounded up to whole panels of nr columns.
func nnPadN(n, nr int) int { return (n + nr - 1) / nr * nr }

// nnPackBLen is the length of B packed for a k×n product, for any kernel
// set.
func nnPackBLen(k, n int) int { return k*nnPadN(n, nnMaxNR) + gtailPackLen(k, n) }

// nnPackB packs op(B) (k×n) for the kernel set of T into dst
// (nnPackBLen(k, n) elements).
func nnPackB[T nnGemmNum](ctx *Ctx, k, n int, b []T, ldb int, transB bool, dst []T) {
	nnPackBWith(nnArchOf[T](), ctx, k, n, b, ldb, transB, dst)
}

// nnPackBWith packs op(B) for ar: for each K block (nnKBlock) starting at
// k0 with depth kc, panel jp occupies dst[k0*nPad+jp*kc*nr:][:kc*nr], element
// (p, j) at p*nr+j, padded with zeros past column n (nPad is n rounded up
// to panels). Panels are packed in parallel. When ar has a dot kernel,
// the last gtailWidth(ar, n) columns follow at dst[k*nPad:], as rows of
// k (gtailPack).
func nnPackBWith[T nnGemmNum](ar *nnGemmArch[T], ctx *Ctx, k, n int, b []T, ldb int, transB bool, dst []T) {
	nr := ar.nr
	nPad := nnPadN(n, nr)
	panels := nPad / nr
	grain := max(1, nnGemmGrain/(max(k, 1)*nr*8))
	ParallelJob(ctx, panels, grain, nnPackBJob[T]{k: k, n: n, b: b, ldb: ldb, transB: transB, dst: dst, nr: nr, nPad: nPad})
	if t := gtailWidth(ar, n); t > 0 {
		gtailPack(b, ldb, transB, k, n-t, t, dst[k*nPad:])
	}
}

// nnPackBJob packs panels [lo, hi) of nnPackBWith.
type nnPackBJob[T nnGemmNum] struct {
	k, n, ldb, nr, nPad int
	b, dst              []T
	transB              bool
}

func (j *nnPackBJob[T]) Chunk(lo, hi int) {
	k, nr, nPad := j.k, j.nr, j.nPad
	nb := nnKBlocks(k)
	for kb := 0; kb < nb; kb++ {
		k0, kc := nnKBlock(k, nb, kb)
		for jp := lo; jp < hi; jp++ {
			nnPackBPanel(j.b, j.ldb, j.transB, j.n, k0, kc, jp*nr, nr, j.dst[k0*nPad+jp*kc*nr:][:kc*nr])
		}
	}
}

// nnPackBPanel packs columns [j0, j0+nr) (zeros past n) and steps
// [k0, k0+kc) of op(B) into dst, element (p, j) at p*nr+j.
func nnPackBPanel[T nnGemmNum](b []T, ldb int, transB bool, n, k0, kc, j0, nr int, dst []T) {
	cols := min(nr, n-j0)
	if !transB {
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			copy(d, b[(k0+p)*ldb+j0:][:cols])
			clear(d[cols:])
		}
		return
	}
	for j := 0; j < nr; j++ {
		if j >= cols {
			for p := 0; p < kc; p++ {
				dst[p*nr+j] = 0
			}
			continue
		}
		for p, v := range b[(j0+j)*ldb+k0:][:kc] {
			dst[p*nr+j] = v
		}
	}
}

// nnPackA packs rows [i0, i0+rows) and columns [k0, k0+kc) of op(A) into
// an mr-row panel: element (i, p) at p*mr+i, padded with zero rows.
func nnPackA[T nnGemmNum](a []T, lda int, transA bool, i0, rows, k0, kc, mr int, dst []T) {
	d := dst[:kc*mr]
	if transA {
		for p := 0; p < kc; p++ {
			dd := d[p*mr : p*mr+mr]
			copy(dd, a[(k0+p)*lda+i0:][:rows])
			clear(dd[rows:])
		}
		return
	}
	for i := 0; i < mr; i++ {
		if i >= rows {
			for p := 0; p < kc; p++ {
				d[p*mr+i] = 0
			}
			continue
		}
		for p, v := range a[(i0+i)*lda+k0:][:kc] {
			d[p*mr+i] = v
		}
	}
}

// nnGemm computes C = op(A)·op(B), overwriting C, with the column tail
// as dot products (nnEpilogue.DotTail). pb, when not nil, is B already
// packed by nnPackB (b is then unused). The work is split with
// ctx.Parallel; a canceled ctx stops it early (the caller reports ctx.Err).
func nnGemm[T nnGemmNum](ctx *Ctx, m, n, k int, a []T, lda int, transA bool, b []T, ldb int, transB bool, pb []T, c []T, ldc int) {
	nnGemmWith(nnArchOf[T](), ctx, m, n, k, a, lda, transA, b, ldb, transB, pb, c, ldc, nnEpilogue[T]{DotTail: true})
}

// nnGemmEp is nnGemm followed by the epilogue ep: C = act(op(A)·op(B) +
// bias), applied as each element is stored for the last time.
func nnGemmEp[T nnGemmNum](ctx *Ctx, m, n, k int, a []T, lda int, transA bool, b []T, ldb int, transB bool, pb []T, c []T, ldc int, ep nnEpilogue[T]) {
	nnGemmWith(nnArchOf[T](), ctx, m, n, k, a, lda, transA, b, ldb, transB, pb, c, ldc, ep)
}

// nnGemmWith is nnGemmEp with the kernel set ar; pb must have been packed
// for ar.
func nnGemmWith[T nnGemmNum](ar *nnGemmArch[T], ctx *Ctx, m, n, k int, a []T, lda int, transA bool, b []T, ldb int, transB bool, pb []T, c []T, ldc int, ep nnEpilogue[T]) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(ep.Bias) > 0 && len(ep.Bias) < n {
		panic(fmt.Sprintf("ops: gemm bias has %d elements, want %d", len(ep.Bias), n))
	}
	ef := ep.flags()
	if k <= 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = nnEpilogueOne(0, j, ef, ep.Bias)
			}
		}
		return
	}
	dot := 0
	if ep.DotTail {
		dot = gtailWidth(ar, n)
	}
	if m <= ar.rowMax {
		nnGemmRows(ar, ctx, m, n, k, a, lda, transA, b, ldb, transB, pb, c, ldc, ep.Bias, ef, dot)
		return
	}
	if pb == nil {
		buf, release := nnScratch[T](ctx, nnPackBLen(k, n))
		defer release.Release()
		nnPackBWith(ar, ctx, k, n, b, ldb, transB, buf)
		pb = buf
	}
	mr := ar.mr
	panels := (m + mr - 1) / mr
	grain := max(1, nnGemmGrain/(mr*n*k))
	ParallelJob(ctx, panels, grain, nnPanelsJob[T]{ar: ar, ctx: ctx, m: m, n: n, k: k, a: a, lda: lda, transA: transA, pb: pb, c: c, ldc: ldc, bias: ep.Bias, ef: ef, dot: dot})
}

// nnPanelsJob computes the row panels [lo, hi) of nnGemmWith.
type nnPanelsJob[T nnGemmNum] struct {
	ar             *nnGemmArch[T]
	ctx            *Ctx
	m, n, k, lda   int
	ldc, ef, dot   int
	a, pb, c, bias []T
	transA         bool
}

func (j *nnPanelsJob[T]) Chunk(lo, hi int) {
	mr := j.ar.mr
	nnGemmPanels(j.ar, j.ctx, lo*mr, min(hi*mr, j.m), j.n, j.k, j.a, j.lda, j.transA, j.pb, j.c, j.ldc, j.bias, j.ef, j.dot)
}

// nnGemmPanels computes rows [r0, r1) of C from packed B, the last dot
// columns with ar.dot (gtailRun).
func nnGemmPanels[T nnGemmNum](ar *nnGemmArch[T], ctx *Ctx, r0, r1, n, k int, a []T, lda int, transA bool, pb []T, c []T, ldc int, bias []T, ef, dot int) {
	mr, nr := ar.mr, ar.nr
	nPad := nnPadN(n, nr)
	nt := n - dot // columns of the tiles
	mc := mr * nnMCPanels
	nc := max(nr, nnNC/nr*nr)
	nb := nnKBlocks(k)
	direct := nnDirectA(ar, lda, transA)
	rowStep := 1 // stride of the elements of a row of op(A)
	if transA {
		rowStep = lda
	}
	abuf, release := nnScratch[T](ctx, mr*min(k, nnKC))
	defer release.Release()
	for i0 := r0; i0 < r1; i0 += mc {
		if ctx.Err() != nil {
			return
		}
		i1 := min(i0+mc, r1)
		for j0 := 0; j0 < nt; j0 += nc {
			j1 := min(j0+nc, nt)
			for kb := 0; kb < nb; kb++ {
				k0, kc := nnKBlock(k, nb, kb)
				flags := nnKFlags(kb, nb, ef)
				blk := pb[k0*nPad:]
				for ii := i0; ii < i1; ii += mr {
					rows := min(mr, i1-ii)
					if rows <= ar.rowMax {
						// A few rows at the bottom edge: one at a time
						// rather than a mostly empty tile.
						for i := ii; i < ii+rows; i++ {
							ai := nnRowOf(a, lda, transA, i)[k0*rowStep:]
							for jj := j0; jj < j1; jj += nnRowPanels * nr {
								np := min(nnRowPanels, (j1-jj+nr-1)/nr)
								jl := jj + (np-1)*nr
								ar.row(kc, ai, rowStep, blk[jj*kc:], nr, kc*nr, np, c[i*ldc+jj:], min(nr, nt-jl), flags, nnBiasAt(bias, flags, jj))
							}
						}
						continue
					}
					ap, aRow, aStep := abuf, 1, mr
					if rows < mr || !direct {
						nnPackA(a, lda, transA, ii, rows, k0, kc, mr, abuf)
					} else {
						ap, aRow, aStep = a[ii*lda+k0:], lda, 1
					}
					for jj := j0; jj < j1; jj += nr {
						ar.tile(kc, ap, aRow, aStep, blk[jj*kc:], c[ii*ldc+jj:], ldc, rows, min(nr, nt-jj), flags, nnBiasAt(bias, flags, jj))
					}
				}
			}
		}
		if dot > 0 {
			gtailRun(ar, ctx, i0, i1, nt, dot, k, a, lda, transA, pb[k*nPad:], k, c, ldc, bias, ef)
		}
	}
}

// nnDirectA tells whether the tile kernel of ar should read the rows of
// A (leading dimension lda, not transposed) in place rather than from a
// packed copy. In place it touches one cache line per row at a time,
// which is fine unless more rows than an L1 set has ways fall into the
// same set (a row stride of a multiple of 4 KiB: 14 rows of 1024 floats
// run at half speed). Transposed A is always packed (a contiguous copy).
func nnDirectA[T nnGemmNum](ar *nnGemmArch[T], lda int, transA bool) bool {
	if !ar.direct || transA {
		return false
	}
	const lineBytes, sets, maxPerSet = 64, 64, 7
	var count [sets]int
	size := int(unsafe.Sizeof(T(0)))
	for i := 0; i < ar.mr; i++ {
		s := i * lda * size / lineBytes % sets
		if count[s]++; count[s] > maxPerSet {
			return false
		}
	}
	return true
}

// nnGemmRows computes the m ≤ ar.rowMax rows of C one at a time with the
// row kernel, splitting the column panels between workers, and the last
// dot columns with ar.dot (gtailRun). B is read in place when it is
// neither packed nor transposed.
func nnGemmRows[T nnGemmNum](ar *nnGemmArch[T], ctx *Ctx, m, n, k int, a []T, lda int, transA bool, b []T, ldb int, transB bool, pb []T, c []T, ldc int, bias []T, ef, dot int) {
	nr := ar.nr
	nt := n - dot // columns of the row kernel
	if pb == nil && transB && nt > 0 {
		buf, release := nnScratch[T](ctx, nnPackBLen(k, n))
		defer release.Release()
		nnPackBWith(ar, ctx, k, n, b, ldb, transB, buf)
		pb = buf
	}
	aStep := 1
	if transA {
		aStep = lda
	}
	if nt > 0 {
		panels := (nt + nr - 1) / nr
		grain := max(nnRowPanels, nnGemmGrain/(m*k*nr))
		ParallelJob(ctx, panels, grain, nnRowsJob[T]{ar: ar, ctx: ctx, m: m, n: n, nt: nt, k: k, a: a, lda: lda, transA: transA, aStep: aStep,
			b: b, ldb: ldb, pb: pb, c: c, ldc: ldc, bias: bias, ef: ef, panels: panels})
	}
	if dot == 0 {
		return
	}
	switch {
	case pb != nil:
		gtailRun(ar, ctx, 0, m, nt, dot, k, a, lda, transA, pb[k*nnPadN(n, nr):], k, c, ldc, bias, ef)
	case transB:
		gtailRun(ar, ctx, 0, m, nt, dot, k, a, lda, transA, b[nt*ldb:], ldb, c, ldc, bias, ef)
	default:
		bt, release := nnScratch[T](ctx, dot*k)
		defer release.Release()
		gtailPack(b, ldb, false, k, nt, dot, bt)
		gtailRun(ar, ctx, 0, m, nt, dot, k, a, lda, transA, bt, k, c, ldc, bias, ef)
	}
}

// nnRowsJob computes the column panels [lo, hi) of nnGemmRows.
type nnRowsJob[T nnGemmNum] struct {
	ar                   *nnGemmArch[T]
	ctx                  *Ctx
	m, n, k, lda, aStep  int
	ldb, ldc, ef, panels int
	nt                   int // columns computed (the first nt of n)
	a, b, pb, c, bias    []T
	transA               bool
}

func (j *nnRowsJob[T]) Chunk(lo, hi int) {
	ar, m, n, k, a, lda, transA, aStep, c, ldc, bias, ef := j.ar, j.m, j.nt, j.k, j.a, j.lda, j.transA, j.aStep, j.c, j.ldc, j.bias, j.ef
	nr := ar.nr
	if pb := j.pb; pb != nil {
		nPad := nnPadN(j.n, nr) // packed for all n columns
		nb := nnKBlocks(k)
		for i := 0; i < m; i++ {
			ai := nnRowOf(a, lda, transA, i)
			for kb := 0; kb < nb; kb++ {
				k0, kc := nnKBlock(k, nb, kb)
				flags := nnKFlags(kb, nb, ef)
				blk := pb[k0*nPad:]
				for jp := lo; jp < hi; jp += nnRowPanels {
					np := min(nnRowPanels, hi-jp)
					j0 := jp * nr
					cols := min(nr, n-(jp+np-1)*nr)
					ar.row(kc, ai[k0*aStep:], aStep, blk[j0*kc:], nr, kc*nr, np, c[i*ldc+j0:], cols, flags, nnBiasAt(bias, flags, j0))
				}
			}
		}
		return
	}
	b, ldb := j.b, j.ldb
	full := hi
	var tail []T
	if hi == j.panels && n%nr != 0 {
		// The last panel is partial: pack it so that the row kernel
		// can read whole panels.
		full = hi - 1
		buf, release := nnScratch[T](j.ctx, k*nr)
		defer release.Release()
		nnPackBPanel(b, ldb, false, n, 0, k, full*nr, nr, buf)
		tail = buf
	}
	for i := 0; i < m; i++ {
		ai := nnRowOf(a, lda, transA, i)
		for jp := lo; jp < full; jp += nnRowPanels {
			np := min(nnRowPanels, full-jp)
			ar.row(k, ai, aStep, b[jp*nr:], ldb, nr, np, c[i*ldc+jp*nr:], nr, ef, nnBiasAt(bias, ef, jp*nr))
		}
		if tail != nil {
			ar.row(k, ai, aStep, tail, nr, k*nr, 1, c[i*ldc+full*nr:], n-full*nr, ef, nnBiasAt(bias, ef, full*nr))
		}
	}
}

// nnRowOf returns row i of op(A): its elements are at a stride of lda
// when transA, else contiguous.
func nnRowOf[T nnGemmNum](a []T, lda int, transA bool, i int) []T {
	if transA {
		return a[i:]
	}
	return a[i*lda:]
}

// nnBiasAt returns bias from column j when flags ask for it, else nil.
func nnBiasAt[T nnGemmNum](bias []T, flags, j int) []T {
	if flags&nnGemmBias == 0 {
		return nil
	}
	return bias[j:]
}

// nnKBlocks is the number of K blocks of a product of depth k: as few as
// allow at most nnKC steps each, of nearly equal depth.
func nnKBlocks(k int) int { return (k + nnKC - 1) / nnKC }

// nnKBlock returns the first step and the depth of block kb of nb.
func nnKBlock(k, nb, kb int) (k0, kc int) {
	k0 = kb * k / nb
	return k0, (kb+1)*k/nb - k0
}

// nnKFlags returns the kernel flags of K block kb of nb: accumulate after
// the first, apply the epilogue ef after the last.
func nnKFlags(kb, nb, ef int) int {
	f := 0
	if kb > 0 {
		f = nnGemmAccum
	}
	if kb == nb-1 {
		f |= ef
	}
	return f
}

// nnEpilogueOne applies the epilogue flags to one value of column j.
func nnEpilogueOne[T nnGemmNum](v T, j, flags int, bias []T) T {
	if flags&nnGemmBias != 0 {
		v += bias[j]
	}
	if flags&nnGemmRelu != 0 && v < 0 {
		v = 0
	}
	if flags&nnGemmClip6 != 0 && v > 6 {
		v = 6
	}
	return v
}

// Portable kernels.

const (
	nnGoMR = 4
	nnGoNR = 4
)

// nnGoArch returns the portable kernel set for T: a 4×4 tile over packed
// A, products rounded before they are added, except for float32, whose
// multiply-adds round once (vmathGoTile, vmathGoRow).
func nnGoArch[T nnGemmNum]() *nnGemmArch[T] {
	ar := &nnGemmArch[T]{name: "go", mr: nnGoMR, nr: nnGoNR, rowMax: 1, tile: nnGoTile[T], row: nnGoRow[T]}
	if f32, ok := any(ar).(*nnGemmArch[float32]); ok {
		// float32: the same loops with fused multiply-adds (vmath_fma.go),
		// which give the bits of the SIMD kernels.
		f32.fused, f32.tile, f32.row = true, vmathGoTile, vmathGoRow
		f32.dot = gtailGoDot
	}
	return ar
}

// nnGoTile is the tile kernel of nnGoArch; a is a packed panel (aRow 1,
// aStep nnGoMR).
func nnGoTile[T nnGemmNum](kc int, a []T, aRow, aStep int, b, c []T, ldc, rows, cols, flags int, bias []T) {
	if aRow != 1 || aStep != nnGoMR {
		panic("ops: portable gemm tile needs packed A")
	}
	var acc [nnGoMR * nnGoNR]T
	if flags&nnGemmAccum != 0 {
		for i := 0; i < rows; i++ {
			copy(acc[i*nnGoNR:i*nnGoNR+cols], c[i*ldc:i*ldc+cols])
		}
	}
	nnGoTile4x2(kc, a, b, 0, acc[:])
	nnGoTile4x2(kc, a, b, 2, acc[2:])
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+cols]
		for j := range row {
			row[j] = nnEpilogueOne(acc[i*nnGoNR+j], j, flags, bias)
		}
	}
}

// nnGoTile4x2 adds the products of columns j0 and j0+1 into the 4×4 tile
// acc (row stride nnGoNR). Four rows by two columns: eight accumulators
// fit the sixteen SSE registers next to the operands.
func nnGoTile4x2[T nnGemmNum](kc int, ap, bp []T, j0 int, acc []T) {
	r0 := acc[:2]
	r1 := acc[nnGoNR : nnGoNR+2]
	r2 := acc[2*nnGoNR : 2*nnGoNR+2]
	r3 := acc[3*nnGoNR : 3*nnGoNR+2]
	c00, c01 := r0[0], r0[1]
	c10, c11 := r1[0], r1[1]
	c20, c21 := r2[0], r2[1]
	c30, c31 := r3[0], r3[1]
	ap = ap[:kc*nnGoMR]
	bp = bp[:kc*nnGoNR]
	for p := 0; p < kc; p++ {
		a := ap[p*nnGoMR : p*nnGoMR+nnGoMR : p*nnGoMR+nnGoMR]
		b := bp[p*nnGoNR+j0 : p*nnGoNR+j0+2 : p*nnGoNR+j0+2]
		b0, b1 := b[0], b[1]
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		// The conversions round each product, so that no compiler fuses
		// the multiply and add (the order the doc of nnGemmArch states).
		c00 += T(a0 * b0)
		c01 += T(a0 * b1)
		c10 += T(a1 * b0)
		c11 += T(a1 * b1)
		c20 += T(a2 * b0)
		c21 += T(a2 * b1)
		c30 += T(a3 * b0)
		c31 += T(a3 * b1)
	}
	r0[0], r0[1] = c00, c01
	r1[0], r1[1] = c10, c11
	r2[0], r2[1] = c20, c21
	r3[0], r3[1] = c30, c31
}

// nnGoRow is the row kernel of nnGoArch.
func nnGoRow[T nnGemmNum](kc int, a []T, aStep int, b []T, bRow, bPanel, np int, c []T, cols, flags int, bias []T) {
	for t := 0; t < np; t++ {
		w := nnGoNR
		if t == np-1 {
			w = cols
		}
		cc := c[t*nnGoNR : t*nnGoNR+w]
		var acc [nnGoNR]T
		if flags&nnGemmAccum != 0 {
			copy(acc[:], cc)
		}
		c0, c1, c2, c3 := acc[0], acc[1], acc[2], acc[3]
		bp := b[t*bPanel:]
		a := a[:(kc-1)*aStep+1]
		for p := 0; p < kc; p++ {
			av := a[p*aStep]
			r := bp[p*bRow : p*bRow+nnGoNR : p*bRow+nnGoNR]
			c0 += T(av * r[0])
			c1 += T(av * r[1])
			c2 += T(av * r[2])
			c3 += T(av * r[3])
		}
		acc = [nnGoNR]T{c0, c1, c2, c3}
		for j := range cc {
			cc[j] = nnEpilogueOne(acc[j], t*nnGoNR+j, flags, bias)
		}
	}
}

// nnScratch returns n elements of scratch storage from ctx and what gives
// it back (`defer release.Release()`).
func nnScratch[T nnNum](ctx *Ctx, n int) ([]T, nnScratchBuf) {
	t, err := ctx.Alloc(tensor.DTypeOf[T](), tensor.Shape{n})
	if err != nil {
		// Scratch is bounded by the sizes of the operands, which are
		// already allocated; fall back to the heap rather than fail.
		return make([]T, n), nnScratchBuf{}
	}
	return tensor.As[T](t), nnScratchBuf{t}
}

// nnScratchBuf is scratch storage to give back; a method value such as
// t.Release would be allocated on every call.
type nnScratchBuf struct{ t *tensor.Tensor }

// Release gives the storage back (nothing for heap storage).
func (b nnScratchBuf) Release() {
	if b.t != nil {
		b.t.Release()
	}
}
