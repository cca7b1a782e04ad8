package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// Matrix products: MatMul, BatchMatMul, BatchMatMulV2 and BatchMatMulV3, as
// TensorFlow's CPU kernels compute them (tensorflow/core/kernels/matmul_op_impl.h,
// batch_matmul_op_impl.h). Integer products wrap around on overflow.

func init() {
	Default().Register(Spec{
		Name:  "MatMul",
		Doc:   "matrix product of two rank-2 tensors, optionally transposed",
		Infer: nnInferMatMul,
		Build: nnBuildMatMul,
		Batch: nnBatchRuleMatMul,
		Impls: []Impl{{Name: "gonum", Priority: PriorityGeneric - 1, Build: nnBuildMatMulGonum}},
	})
	Default().Register(Spec{
		Name:  "BatchMatMul",
		Doc:   "batched matrix product; both operands have the same batch dimensions",
		Infer: nnInferBatchMatMul,
		Build: nnBuildBatchMatMul,
		Batch: nnBatchRuleBatchMatMul,
	})
	Default().Register(Spec{
		Name:  "BatchMatMulV2",
		Doc:   "batched matrix product with broadcasting of the batch dimensions",
		Infer: nnInferBatchMatMul,
		Build: nnBuildBatchMatMul,
		Batch: nnBatchRuleBatchMatMul,
	})
	Default().Register(Spec{
		Name:  "BatchMatMulV3",
		Doc:   "batched matrix product with broadcasting and an output type attr",
		Infer: nnInferBatchMatMul,
		Build: nnBuildBatchMatMul,
		Batch: nnBatchRuleBatchMatMul,
	})
}

// nnMatMulDType returns the dtype of a matmul-family node's inputs and checks
// that it is supported.
func nnMatMulDType(n *Node) (tensor.DType, error) {
	if n.Op == "BatchMatMulV3" {
		ta, err := InputDType(n, 0, "Ta")
		if err != nil {
			return tensor.Invalid, err
		}
		tb, err := InputDType(n, 1, "Tb")
		if err != nil {
			return tensor.Invalid, err
		}
		tout, err := AttrType(n, "Tout")
		if err != nil {
			return tensor.Invalid, err
		}
		if ta != tb || ta != tout {
			return tensor.Invalid, fmt.Errorf("%w: op %s: Ta=%s, Tb=%s, Tout=%s: only equal types are supported", ErrDType, n.Op, ta, tb, tout)
		}
	}
	if err := NeedInputs(n, 2); err != nil {
		return tensor.Invalid, err
	}
	attr := "T"
	if n.Op == "BatchMatMulV3" {
		attr = "Ta"
	}
	dt, err := InputDType(n, 0, attr)
	if err != nil {
		return tensor.Invalid, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16, tensor.Float64, tensor.Int32, tensor.Int64:
		return dt, nil
	}
	return tensor.Invalid, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64, float16, bfloat16, int32, int64)", ErrDType, n.Op, dt)
}

// nnMatDims returns the rows and columns of op(t) for a [.., r, c] shape.
func nnMatDims(s []int, trans bool) (rows, cols int) {
	r, c := s[len(s)-2], s[len(s)-1]
	if trans {
		return c, r
	}
	return r, c
}

func nnInferMatMul(n *Node) ([]Value, error) {
	dt, err := nnMatMulDType(n)
	if err != nil {
		return nil, err
	}
	ta, err := AttrBool(n, "transpose_a", false)
	if err != nil {
		return nil, err
	}
	tb, err := AttrBool(n, "transpose_b", false)
	if err != nil {
		return nil, err
	}
	a, b := n.Inputs[0].Shape, n.Inputs[1].Shape
	out := []int{-1, -1}
	if !a.UnknownRank {
		if len(a.Dims) != 2 {
			return nil, fmt.Errorf("%w: op MatMul: a must be rank 2, got shape %v", ErrShape, a)
		}
		out[0], _ = nnMatDims(a.Dims, ta)
	}
	if !b.UnknownRank {
		if len(b.Dims) != 2 {
			return nil, fmt.Errorf("%w: op MatMul: b must be rank 2, got shape %v", ErrShape, b)
		}
		_, out[1] = nnMatDims(b.Dims, tb)
	}
	if !a.UnknownRank && !b.UnknownRank {
		_, ka := nnMatDims(a.Dims, ta)
		kb, _ := nnMatDims(b.Dims, tb)
		if ka >= 0 && kb >= 0 && ka != kb {
			return nil, fmt.Errorf("%w: op MatMul: inner dimensions differ: a is %v (transpose_a=%v), b is %v (transpose_b=%v)", ErrShape, a, ta, b, tb)
		}
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: out}}}, nil
}

// nnBatchRuleMatMul: rows of a are independent when a is not transposed and b is
// a parameter.
func nnBatchRuleMatMul(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) != 2 || batched[1] {
		return nil, false
	}
	if !batched[0] {
		return []bool{false}, true
	}
	ta, err := AttrBool(n, "transpose_a", false)
	if err != nil || ta {
		return nil, false
	}
	return []bool{true}, true
}

// nnMatMulKernel is MatMul for one element type. packed holds b packed for
// the GEMM when b is a constant.
type nnMatMulKernel[T nnGemmNum] struct {
	dt             tensor.DType
	transA, transB bool
	packed         []T
	packedShape    tensor.Shape
}

func nnBuildMatMul(n *Node) (Kernel, error) {
	dt, err := nnMatMulDType(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferMatMul(n); err != nil {
		return nil, err
	}
	ta, _ := AttrBool(n, "transpose_a", false)
	tb, _ := AttrBool(n, "transpose_b", false)
	switch dt {
	case tensor.Float64:
		return nnNewMatMul[float64](n, dt, ta, tb), nil
	case tensor.Int32:
		return nnNewMatMul[int32](n, dt, ta, tb), nil
	case tensor.Int64:
		return nnNewMatMul[int64](n, dt, ta, tb), nil
	}
	return nnNewMatMul[float32](n, dt, ta, tb), nil
}

func nnNewMatMul[T nnGemmNum](n *Node, dt tensor.DType, ta, tb bool) *nnMatMulKernel[T] {
	k := &nnMatMulKernel[T]{dt: dt, transA: ta, transB: tb}
	if c := n.Inputs[1].Const; c != nil && c.Rank() == 2 && c.DType().Base() == dt {
		kk, nn := nnMatDims(c.Shape(), tb)
		k.packed = make([]T, nnPackBLen(kk, nn))
		nnPackB(&Ctx{}, kk, nn, tensor.As[T](c), c.Shape()[1], tb, k.packed)
		k.packedShape = c.Shape().Clone()
	}
	return k
}

// nnMatMulShapes checks the operands of MatMul and returns m, n, k.
func nnMatMulShapes(a, b tensor.Shape, ta, tb bool) (m, n, k int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, fmt.Errorf("%w: op MatMul: operands must be rank 2, got shapes %v and %v", ErrShape, a, b)
	}
	m, k = nnMatDims(a, ta)
	kb, n := nnMatDims(b, tb)
	if k != kb {
		return 0, 0, 0, fmt.Errorf("%w: op MatMul: inner dimensions differ: a is %v (transpose_a=%v), b is %v (transpose_b=%v)", ErrShape, a, ta, b, tb)
	}
	return m, n, k, nil
}

func (kn *nnMatMulKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	m, n, k, err := nnMatMulShapes(a.Shape(), b.Shape(), kn.transA, kn.transB)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(kn.dt, tensor.Shape{m, n})
	if err != nil {
		return nil, err
	}
	var bd []T
	pb := kn.packed
	if pb == nil || !b.Shape().Equal(kn.packedShape) {
		pb = nil
		bd = tensor.As[T](b)
	}
	nnGemm(ctx, m, n, k, tensor.As[T](a), a.Shape()[1], kn.transA, bd, b.Shape()[1], kn.transB, pb, tensor.As[T](out), n)
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return ctx.Out(out), nil
}

// nnGonumBlock bounds the blocks handed to gonum so that its Gemm never
// starts goroutines of its own (it does so from 4 blocks of 64×64).
const (
	nnGonumRows = 64
	nnGonumCols = 192
)

// nnMatMulGonum is MatMul computed with gonum's BLAS. Work is cut into
// blocks of C that gonum runs serially; the blocks are spread with
// ctx.Parallel. Every element is still summed over the whole of k in order,
// so results do not depend on the split.
type nnMatMulGonum[T float32 | float64] struct {
	dt             tensor.DType
	transA, transB bool
	gemm           func(tA, tB blas.Transpose, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int)
}

func nnBuildMatMulGonum(n *Node) (Kernel, error) {
	dt, err := nnMatMulDType(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferMatMul(n); err != nil {
		return nil, err
	}
	ta, _ := AttrBool(n, "transpose_a", false)
	tb, _ := AttrBool(n, "transpose_b", false)
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		impl := blas32.Implementation()
		return &nnMatMulGonum[float32]{dt: dt, transA: ta, transB: tb,
			gemm: func(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
				impl.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
			}}, nil
	case tensor.Float64:
		impl := blas64.Implementation()
		return &nnMatMulGonum[float64]{dt: dt, transA: ta, transB: tb,
			gemm: func(tA, tB blas.Transpose, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
				impl.Dgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
			}}, nil
	}
	// gonum has no integer GEMM: integers use the generic kernel.
	return nnBuildMatMul(n)
}

func (kn *nnMatMulGonum[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	m, n, k, err := nnMatMulShapes(a.Shape(), b.Shape(), kn.transA, kn.transB)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(kn.dt, tensor.Shape{m, n})
	if err != nil {
		return nil, err
	}
	ad, bd, cd := tensor.As[T](a), tensor.As[T](b), tensor.As[T](out)
	if k == 0 {
		clear(cd)
		return []*tensor.Tensor{out}, nil
	}
	lda, ldb := a.Shape()[1], b.Shape()[1]
	tA, tB := blas.NoTrans, blas.NoTrans
	if kn.transA {
		tA = blas.Trans
	}
	if kn.transB {
		tB = blas.Trans
	}
	blocks := (m + nnGonumRows - 1) / nnGonumRows
	ctx.Parallel(blocks, 1, func(lo, hi int) {
		for r0 := lo * nnGonumRows; r0 < min(hi*nnGonumRows, m); r0 += nnGonumRows {
			rows := min(nnGonumRows, m-r0)
			var as []T
			if kn.transA {
				as = ad[r0:]
			} else {
				as = ad[r0*lda:]
			}
			for c0 := 0; c0 < n; c0 += nnGonumCols {
				cols := min(nnGonumCols, n-c0)
				var bs []T
				if kn.transB {
					bs = bd[c0*ldb:]
				} else {
					bs = bd[c0:]
				}
				kn.gemm(tA, tB, rows, cols, k, as, lda, bs, ldb, cd[r0*n+c0:], n)
			}
		}
	})
	return []*tensor.Tensor{out}, nil
}

// Batch matmul.

func nnBatchAdj(n *Node) (adjX, adjY bool, err error) {
	if adjX, err = AttrBool(n, "adj_x", false); err != nil {
		return
	}
	adjY, err = AttrBool(n, "adj_y", false)
	return
}

func nnInferBatchMatMul(n *Node) ([]Value, error) {
	dt, err := nnMatMulDType(n)
	if err != nil {
		return nil, err
	}
	adjX, adjY, err := nnBatchAdj(n)
	if err != nil {
		return nil, err
	}
	x, y := n.Inputs[0].Shape, n.Inputs[1].Shape
	if (!x.UnknownRank && len(x.Dims) < 2) || (!y.UnknownRank && len(y.Dims) < 2) {
		return nil, fmt.Errorf("%w: op %s: operands must have rank >= 2, got shapes %v and %v", ErrShape, n.Op, x, y)
	}
	if x.UnknownRank || y.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	m, kx := nnMatDims(x.Dims, adjX)
	ky, nn := nnMatDims(y.Dims, adjY)
	if kx >= 0 && ky >= 0 && kx != ky {
		return nil, fmt.Errorf("%w: op %s: inner dimensions differ: x is %v (adj_x=%v), y is %v (adj_y=%v)", ErrShape, n.Op, x, adjX, y, adjY)
	}
	xb := tensor.PartialShape{Dims: x.Dims[:len(x.Dims)-2]}
	yb := tensor.PartialShape{Dims: y.Dims[:len(y.Dims)-2]}
	var batch tensor.PartialShape
	if n.Op == "BatchMatMul" {
		if len(xb.Dims) != len(yb.Dims) {
			return nil, fmt.Errorf("%w: op BatchMatMul: operands must have the same rank, got shapes %v and %v", ErrShape, x, y)
		}
		dims := make([]int, len(xb.Dims))
		for i := range dims {
			dx, dy := xb.Dims[i], yb.Dims[i]
			if dx >= 0 && dy >= 0 && dx != dy {
				return nil, fmt.Errorf("%w: op BatchMatMul: batch dimensions differ: x is %v, y is %v", ErrShape, x, y)
			}
			dims[i] = max(dx, dy)
		}
		batch = tensor.PartialShape{Dims: dims}
	} else {
		batch, err = BroadcastPartial(xb, yb)
		if err != nil {
			return nil, fmt.Errorf("op %s: batch dimensions: %w", n.Op, err)
		}
	}
	out := append(append([]int{}, batch.Dims...), m, nn)
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: out}}}, nil
}

// nnBatchRuleBatchMatMul: axis 0 of x (or y) is a batch axis when the operand has
// rank ≥ 3, so that axis 0 is a batch dimension and not a matrix one, and
// the other operand either carries the same batch or broadcasts against it
// without reaching axis 0 (lower rank, or size 1 there).
func nnBatchRuleBatchMatMul(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) != 2 {
		return nil, false
	}
	if !batched[0] && !batched[1] {
		return []bool{false}, true
	}
	x, y := n.Inputs[0].Shape, n.Inputs[1].Shape
	if x.UnknownRank || y.UnknownRank {
		return nil, false
	}
	rx, ry := len(x.Dims), len(y.Dims)
	switch {
	case batched[0] && batched[1]:
		if rx < 3 || rx != ry {
			return nil, false
		}
	case n.Op == "BatchMatMul":
		// No broadcasting: an unbatched operand cannot follow a sliced one.
		return nil, false
	case batched[0]:
		if rx < 3 || ry > rx || (ry == rx && y.Dims[0] != 1) {
			return nil, false
		}
	default:
		if ry < 3 || rx > ry || (rx == ry && x.Dims[0] != 1) {
			return nil, false
		}
	}
	return []bool{true}, true
}

// nnBatchMatMulKernel computes x·y over broadcast batch dimensions. packed
// holds y packed for the GEMM when y is a constant whose batch dimensions
// are all 1.
type nnBatchMatMulKernel[T nnGemmNum] struct {
	op          string
	dt          tensor.DType
	adjX, adjY  bool
	broadcast   bool
	packed      []T
	packedShape tensor.Shape
}

func nnBuildBatchMatMul(n *Node) (Kernel, error) {
	dt, err := nnMatMulDType(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferBatchMatMul(n); err != nil {
		return nil, err
	}
	adjX, adjY, _ := nnBatchAdj(n)
	switch dt {
	case tensor.Float64:
		return nnNewBatchMatMul[float64](n, dt, adjX, adjY), nil
	case tensor.Int32:
		return nnNewBatchMatMul[int32](n, dt, adjX, adjY), nil
	case tensor.Int64:
		return nnNewBatchMatMul[int64](n, dt, adjX, adjY), nil
	}
	return nnNewBatchMatMul[float32](n, dt, adjX, adjY), nil
}

func nnNewBatchMatMul[T nnGemmNum](n *Node, dt tensor.DType, adjX, adjY bool) *nnBatchMatMulKernel[T] {
	k := &nnBatchMatMulKernel[T]{op: n.Op, dt: dt, adjX: adjX, adjY: adjY, broadcast: n.Op != "BatchMatMul"}
	if c := n.Inputs[1].Const; c != nil && c.Rank() >= 2 && c.DType().Base() == dt && nnProd(c.Shape()[:c.Rank()-2]) == 1 {
		s := c.Shape()
		kk, nn := nnMatDims(s, adjY)
		k.packed = make([]T, nnPackBLen(kk, nn))
		nnPackB(&Ctx{}, kk, nn, tensor.As[T](c), s[len(s)-1], adjY, k.packed)
		k.packedShape = s.Clone()
	}
	return k
}

// nnProd is the product of dims (1 for none).
func nnProd(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

func (kn *nnBatchMatMulKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, y := in[0], in[1]
	xs, ys := x.Shape(), y.Shape()
	if len(xs) < 2 || len(ys) < 2 {
		return nil, fmt.Errorf("%w: op %s: operands must have rank >= 2, got shapes %v and %v", ErrShape, kn.op, xs, ys)
	}
	m, k := nnMatDims(xs, kn.adjX)
	k2, n := nnMatDims(ys, kn.adjY)
	if k != k2 {
		return nil, fmt.Errorf("%w: op %s: inner dimensions differ: x is %v (adj_x=%v), y is %v (adj_y=%v)", ErrShape, kn.op, xs, kn.adjX, ys, kn.adjY)
	}
	xb, yb := xs[:len(xs)-2], ys[:len(ys)-2]
	var batch tensor.Shape
	if kn.broadcast {
		var err error
		if batch, err = BroadcastShapes(xb, yb); err != nil {
			return nil, fmt.Errorf("op %s: batch dimensions of %v and %v: %w", kn.op, xs, ys, err)
		}
	} else {
		if !xb.Equal(yb) {
			return nil, fmt.Errorf("%w: op %s: batch dimensions differ: x is %v, y is %v", ErrShape, kn.op, xs, ys)
		}
		batch = xb
	}
	outShape := append(batch.Clone(), m, n)
	out, err := ctx.Alloc(kn.dt, outShape)
	if err != nil {
		return nil, err
	}
	nb := nnProd(batch)
	if nb == 0 || m == 0 || n == 0 {
		return []*tensor.Tensor{out}, nil
	}
	xd, yd, od := tensor.As[T](x), tensor.As[T](y), tensor.As[T](out)
	ldx, ldy := xs[len(xs)-1], ys[len(ys)-1]
	pb := kn.packed
	if pb != nil && !ys.Equal(kn.packedShape) {
		pb = nil
	}
	if nnProd(yb) == 1 && !kn.adjX {
		// y is one matrix: all of x's matrices stack into one tall product.
		nnGemm(ctx, nb*m, n, k, xd, ldx, false, yd, ldy, kn.adjY, pb, od, n)
	} else {
		xOff := nnBroadcastOffsets(batch, xb, m*k)
		yOff := nnBroadcastOffsets(batch, yb, k*n)
		one := func(c *Ctx, i int) {
			nnGemm(c, m, n, k, xd[xOff[i]:], ldx, kn.adjX, yd[yOff[i]:], ldy, kn.adjY, nil, od[i*m*n:], n)
		}
		if m*n*k >= 4*nnGemmGrain {
			for i := 0; i < nb && ctx.Err() == nil; i++ {
				one(ctx, i)
			}
		} else {
			// Small matrices: spread whole products over the workers.
			inner := *ctx
			inner.Par = nil
			grain := max(1, nnGemmGrain/max(1, m*n*k))
			ctx.Parallel(nb, grain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					one(&inner, i)
				}
			})
		}
	}
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return []*tensor.Tensor{out}, nil
}

// nnBroadcastOffsets returns, for each index of the batch shape batch, the
// element offset of the matching matrix of an operand with batch shape sub
// (broadcast against batch, aligned on the right) and matrices of size mat.
func nnBroadcastOffsets(batch, sub tensor.Shape, mat int) []int {
	r := len(batch)
	strides := make([]int, r)
	acc := mat
	for i := r - 1; i >= 0; i-- {
		j := i - (r - len(sub))
		if j < 0 {
			continue
		}
		if sub[j] != 1 {
			strides[i] = acc
		}
		acc *= sub[j]
	}
	nb := nnProd(batch)
	offs := make([]int, nb)
	idx := make([]int, r)
	off := 0
	for i := 0; i < nb; i++ {
		offs[i] = off
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < batch[d] {
				break
			}
			off -= strides[d] * idx[d]
			idx[d] = 0
		}
	}
	return offs
}
