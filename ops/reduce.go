package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/tfdgo/tfd/tensor"
)

// Reductions Sum, Mean, Max, Min and Prod, and ArgMax and ArgMin, with
// TensorFlow's semantics (tensorflow/core/kernels/reduction_ops_common.h,
// reduction_ops.h, argmax_op.cc):
//
//   - axes are an int32 or int64 scalar or vector, negative values count
//     from the end, duplicates are allowed; no axes returns the input;
//   - a reduction over zero elements gives the reducer's identity: Sum 0,
//     Prod 1, Max -Inf (lowest for integers), Min +Inf (highest), Mean NaN
//     for floats and 0 for integers;
//   - Max and Min propagate NaN (TF registers them with PropagateNaN);
//   - integer sums and products wrap around; integer Mean sums in int64
//     and truncates toward zero.
//
// Every output element is folded over its inputs in row-major order of the
// reduced axes, whatever the split between workers. Float32 (and float16,
// bfloat16) Sum and Mean accumulate in float64 and round once; TF's own
// summation order is a vectorized tree, so its last bits are not
// reproduced.
//
// ArgMax and ArgMin reproduce Eigen's tuple reducers: the scan starts from
// (index 0, lowest) for ArgMax or (0, highest) for ArgMin and takes an
// element only when it is strictly greater (smaller): ties keep the first
// index and NaNs are never taken.

type nnRedOp int

const (
	nnRedSum nnRedOp = iota
	nnRedMean
	nnRedMax
	nnRedMin
	nnRedProd
)

func init() {
	for _, op := range []struct {
		name string
		op   nnRedOp
		doc  string
	}{
		{"Sum", nnRedSum, "sum of elements over the given axes"},
		{"Mean", nnRedMean, "mean of elements over the given axes"},
		{"Max", nnRedMax, "maximum of elements over the given axes, NaN if any is NaN"},
		{"Min", nnRedMin, "minimum of elements over the given axes, NaN if any is NaN"},
		{"Prod", nnRedProd, "product of elements over the given axes"},
	} {
		op := op
		Default().Register(Spec{
			Name:  op.name,
			Doc:   op.doc,
			Infer: nnInferReduce,
			Build: func(n *Node) (Kernel, error) { return nnBuildReduce(n, op.op) },
			Batch: nnBatchRuleReduce,
		})
	}
	Default().Register(Spec{
		Name:  "ArgMax",
		Doc:   "index of the largest element along an axis (first on ties)",
		Infer: nnInferArg,
		Build: nnBuildArg,
		Batch: nnBatchRuleArg,
	})
	Default().Register(Spec{
		Name:  "ArgMin",
		Doc:   "index of the smallest element along an axis (first on ties)",
		Infer: nnInferArg,
		Build: nnBuildArg,
		Batch: nnBatchRuleArg,
	})
}

// nnIntValues returns the values of an int32 or int64 tensor of rank ≤ 1.
func nnIntValues(op, what string, t *tensor.Tensor) ([]int, error) {
	if t.Rank() > 1 {
		return nil, fmt.Errorf("%w: op %s: %s must be a scalar or vector, got shape %v", ErrShape, op, what, t.Shape())
	}
	switch d := t.Data().(type) {
	case []int32:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out, nil
	case []int64:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: op %s: %s must be int32 or int64, got %s", ErrDType, op, what, t.DType())
}

// nnReducedAxes returns which of rank axes are reduced.
func nnReducedAxes(op string, axes *tensor.Tensor, rank int) ([]bool, error) {
	return nnReducedAxesTo(nil, op, axes, rank)
}

// nnReducedAxesTo is nnReducedAxes reusing the storage of red.
func nnReducedAxesTo(red []bool, op string, axes *tensor.Tensor, rank int) ([]bool, error) {
	if axes.Rank() > 1 {
		return nil, fmt.Errorf("%w: op %s: reduction axes must be a scalar or vector, got shape %v", ErrShape, op, axes.Shape())
	}
	var n int
	switch d := axes.Data().(type) {
	case []int32:
		n = len(d)
	case []int64:
		n = len(d)
	default:
		return nil, fmt.Errorf("%w: op %s: reduction axes must be int32 or int64, got %s", ErrDType, op, axes.DType())
	}
	red = slices.Grow(red[:0], rank)[:rank]
	clear(red)
	for i := range n {
		var a int
		switch d := axes.Data().(type) {
		case []int32:
			a = int(d[i])
		case []int64:
			a = int(d[i])
		}
		if a < -rank || a >= rank {
			return nil, fmt.Errorf("%w: op %s: invalid reduction axis %d for input of rank %d (expected [%d, %d))", ErrShape, op, a, rank, -rank, rank)
		}
		if a < 0 {
			a += rank
		}
		red[a] = true
	}
	return red, nil
}

// nnReducedShape returns the output shape of a reduction.
func nnReducedShape(dims []int, red []bool, keep bool) []int {
	return nnReducedShapeTo([]int{}, dims, red, keep)
}

// nnReducedShapeTo is nnReducedShape appending to out[:0].
func nnReducedShapeTo(out, dims []int, red []bool, keep bool) []int {
	out = out[:0]
	for i, d := range dims {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func nnReduceCheckDType(n *Node) (tensor.DType, error) {
	if err := NeedInputs(n, 2); err != nil {
		return tensor.Invalid, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return tensor.Invalid, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16, tensor.Float64, tensor.Int32, tensor.Int64,
		tensor.Uint8, tensor.Int8, tensor.Int16, tensor.Uint16:
		return dt, nil
	}
	return tensor.Invalid, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64, float16, bfloat16, int32, int64, uint8, int8, int16, uint16)", ErrDType, n.Op, dt)
}

func nnInferReduce(n *Node) ([]Value, error) {
	dt, err := nnReduceCheckDType(n)
	if err != nil {
		return nil, err
	}
	keep, err := AttrBool(n, "keep_dims", false)
	if err != nil {
		return nil, err
	}
	x := n.Inputs[0].Shape
	if x.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	axes := n.Inputs[1].Const
	if axes == nil {
		if keep {
			return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: nnUnknownDims(len(x.Dims))}}}, nil
		}
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	red, err := nnReducedAxes(n.Op, axes, len(x.Dims))
	if err != nil {
		return nil, err
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: nnReducedShape(x.Dims, red, keep)}}}, nil
}

func nnUnknownDims(r int) []int {
	d := make([]int, r)
	for i := range d {
		d[i] = -1
	}
	return d
}

// nnBatchRuleReduce: rows stay independent when axis 0 is not reduced (the axes
// must be a constant, and the rank known).
func nnBatchRuleReduce(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) != 2 || batched[1] {
		return nil, false
	}
	if !batched[0] {
		return []bool{false}, true
	}
	x, axes := n.Inputs[0].Shape, n.Inputs[1].Const
	if x.UnknownRank || len(x.Dims) == 0 || axes == nil {
		return nil, false
	}
	red, err := nnReducedAxes(n.Op, axes, len(x.Dims))
	if err != nil || red[0] {
		return nil, false
	}
	return []bool{true}, true
}

// nnReduce is a reduction for element type T accumulating in A.
type nnReduce[T, A nnNum] struct {
	name    string
	op      nnRedOp
	dt      tensor.DType
	keep    bool
	isFloat bool
}

func nnBuildReduce(n *Node, op nnRedOp) (Kernel, error) {
	dt, err := nnReduceCheckDType(n)
	if err != nil {
		return nil, err
	}
	keep, err := AttrBool(n, "keep_dims", false)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferReduce(n); err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		if op == nnRedSum || op == nnRedMean {
			return &nnReduce[float32, float64]{n.Op, op, dt, keep, true}, nil
		}
		return &nnReduce[float32, float32]{n.Op, op, dt, keep, true}, nil
	case tensor.Float64:
		return &nnReduce[float64, float64]{n.Op, op, dt, keep, true}, nil
	case tensor.Int32:
		return nnIntReduce[int32](n, op, dt, keep), nil
	case tensor.Int64:
		return nnIntReduce[int64](n, op, dt, keep), nil
	case tensor.Uint8:
		return nnIntReduce[uint8](n, op, dt, keep), nil
	case tensor.Int8:
		return nnIntReduce[int8](n, op, dt, keep), nil
	case tensor.Int16:
		return nnIntReduce[int16](n, op, dt, keep), nil
	default:
		return nnIntReduce[uint16](n, op, dt, keep), nil
	}
}

// nnIntReduce builds an integer reduction. Mean sums in int64 and divides
// there, as TF's CASTING_SPECIALIZATION does (uint64 for unsigned types,
// the same for sums of non-negative values); the other reductions work in
// T and wrap.
func nnIntReduce[T int32 | int64 | uint8 | int8 | int16 | uint16](n *Node, op nnRedOp, dt tensor.DType, keep bool) Kernel {
	if op == nnRedMean {
		return &nnReduce[T, int64]{n.Op, op, dt, keep, false}
	}
	return &nnReduce[T, T]{n.Op, op, dt, keep, false}
}

// nnBottom and nnTop are the identities of max and min: ∓Inf for floats,
// the lowest and highest values for integers.
func nnBottom[A nnNum]() A {
	var z A
	switch any(z).(type) {
	case float32, float64:
		return A(math.Inf(-1))
	}
	return nnLowest[A]()
}

func nnTop[A nnNum]() A {
	var z A
	switch any(z).(type) {
	case float32, float64:
		return A(math.Inf(1))
	}
	return nnHighest[A]()
}

// nnHighest returns the highest finite value of T.
func nnHighest[T nnNum]() T {
	var v any
	var z T
	switch any(z).(type) {
	case float32:
		v = float32(math.MaxFloat32)
	case float64:
		v = math.MaxFloat64
	case int32:
		v = int32(math.MaxInt32)
	case int64:
		v = int64(math.MaxInt64)
	case uint8:
		v = uint8(math.MaxUint8)
	case int8:
		v = int8(math.MaxInt8)
	case int16:
		v = int16(math.MaxInt16)
	case uint16:
		v = uint16(math.MaxUint16)
	}
	return v.(T)
}

// nnRedInit is the starting accumulator of op.
func nnRedInit[A nnNum](op nnRedOp) A {
	switch op {
	case nnRedProd:
		return 1
	case nnRedMax:
		return nnBottom[A]()
	case nnRedMin:
		return nnTop[A]()
	}
	return 0
}

// nnFoldRow folds row into acc.
func nnFoldRow[T, A nnNum](op nnRedOp, acc A, row []T) A {
	switch op {
	case nnRedSum, nnRedMean:
		for _, v := range row {
			acc += A(v)
		}
	case nnRedProd:
		for _, v := range row {
			acc *= A(v)
		}
	case nnRedMax:
		for _, v := range row {
			if a := A(v); acc == acc && (a > acc || a != a) {
				acc = a
			}
		}
	case nnRedMin:
		for _, v := range row {
			if a := A(v); acc == acc && (a < acc || a != a) {
				acc = a
			}
		}
	}
	return acc
}

// nnFoldCols folds row element-wise into acc.
func nnFoldCols[T, A nnNum](op nnRedOp, acc []A, row []T) {
	row = row[:len(acc)]
	switch op {
	case nnRedSum, nnRedMean:
		for i, v := range row {
			acc[i] += A(v)
		}
	case nnRedProd:
		for i, v := range row {
			acc[i] *= A(v)
		}
	case nnRedMax:
		for i, v := range row {
			if a, c := A(v), acc[i]; (a > c || a != a) && c == c {
				acc[i] = a
			}
		}
	case nnRedMin:
		for i, v := range row {
			if a, c := A(v), acc[i]; (a < c || a != a) && c == c {
				acc[i] = a
			}
		}
	}
}

// finish turns an accumulator over count elements into an output value.
func (kn *nnReduce[T, A]) finish(acc A, count int) T {
	if kn.op != nnRedMean {
		return T(acc)
	}
	if kn.isFloat {
		return T(acc / A(count))
	}
	if count == 0 {
		return 0
	}
	return T(int64(acc) / int64(count))
}

func (kn *nnReduce[T, A]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	xs := x.Shape()
	kp := Keep[nnReduceKeep](ctx)
	red, err := nnReducedAxesTo(kp.red, kn.name, in[1], len(xs))
	if err != nil {
		return nil, err
	}
	kp.red = red
	if kp.shape == nil {
		kp.shape = make([]int, 0, len(xs)) // never nil: a scalar's shape is [], as nnReducedShape gives
	}
	outShape := tensor.Shape(nnReducedShapeTo(kp.shape, xs, red, kn.keep))
	kp.shape = outShape
	count := 1
	anyRed := false
	for i, r := range red {
		if r {
			count *= xs[i]
			anyRed = true
		}
	}
	if !anyRed {
		v, err := ctx.View(x, outShape)
		if err != nil {
			return nil, err
		}
		return ctx.Out(v), nil
	}
	out, err := ctx.Alloc(kn.dt, outShape)
	if err != nil {
		return nil, err
	}
	od := tensor.As[T](out)
	if len(od) == 0 {
		return ctx.Out(out), nil
	}
	if count == 0 {
		v := kn.finish(nnRedInit[A](kn.op), 0)
		for i := range od {
			od[i] = v
		}
		return ctx.Out(out), nil
	}
	// Merge runs of adjacent kept or reduced axes, dropping size-1 axes.
	type group struct {
		size int
		red  bool
	}
	var groupBuf [8]group
	groups := groupBuf[:0]
	for i, d := range xs {
		if d == 1 {
			continue
		}
		if len(groups) > 0 && groups[len(groups)-1].red == red[i] {
			groups[len(groups)-1].size *= d
			continue
		}
		groups = append(groups, group{d, red[i]})
	}
	nred := 0
	for _, g := range groups {
		if g.red {
			nred++
		}
	}
	xd := tensor.As[T](x)
	switch {
	case nred == 0:
		// Only size-1 axes are reduced: a copy.
		for i, v := range xd {
			od[i] = kn.finish(nnFoldRow(kn.op, nnRedInit[A](kn.op), []T{v}), 1)
		}
	case nred == 1:
		k1, r, k2 := 1, 1, 1
		seen := false
		for _, g := range groups {
			switch {
			case g.red:
				r, seen = g.size, true
			case seen:
				k2 *= g.size
			default:
				k1 *= g.size
			}
		}
		if k2 == 1 {
			kn.reduceRows(ctx, xd, od, k1, r)
		} else {
			kn.reduceCols(ctx, xd, od, k1, r, k2)
		}
	default:
		kn.reduceGeneral(ctx, xd, od, xs, red, count)
	}
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return ctx.Out(out), nil
}

// nnReduceKeep is what a reduction node keeps from call to call (Keep).
type nnReduceKeep struct {
	red   []bool
	shape []int
}

// reduceRows reduces each contiguous row of r elements.
func (kn *nnReduce[T, A]) reduceRows(ctx *Ctx, xd, od []T, k, r int) {
	ParallelJob(ctx, k, max(1, nnGemmGrain/r), nnReduceJob[T, A]{kn: kn, ctx: ctx, xd: xd, od: od, r: r})
}

// nnReduceJob reduces rows [lo, hi) of r elements (reduceRows, k2 0) or
// column blocks [lo, hi) of [k1, r, k2] (reduceCols).
type nnReduceJob[T, A nnNum] struct {
	kn             *nnReduce[T, A]
	ctx            *Ctx
	xd, od         []T
	r, k2, bw, blk int
}

func (j *nnReduceJob[T, A]) Chunk(lo, hi int) {
	kn, xd, od, r := j.kn, j.xd, j.od, j.r
	if j.k2 == 0 {
		for i := lo; i < hi; i++ {
			od[i] = kn.finish(nnFoldRow(kn.op, nnRedInit[A](kn.op), xd[i*r:(i+1)*r]), r)
		}
		return
	}
	k2, bw, blocks := j.k2, j.bw, j.blk
	acc, release := nnScratch[A](j.ctx, min(k2, bw))
	defer release.Release()
	for u := lo; u < hi; u++ {
		i, j0 := u/blocks, u%blocks*bw
		w := min(bw, k2-j0)
		a := acc[:w]
		init := nnRedInit[A](kn.op)
		for j := range a {
			a[j] = init
		}
		if !cvFoldColsFast(kn.op, a, xd[i*r*k2+j0:], r, k2) {
			for p := 0; p < r; p++ {
				nnFoldCols(kn.op, a, xd[(i*r+p)*k2+j0:][:w])
			}
		}
		dst := od[i*k2+j0:][:w]
		for j, v := range a {
			dst[j] = kn.finish(v, r)
		}
	}
}

// nnRedColBlock is the width of the column blocks of reduceCols.
const nnRedColBlock = 512

// nnRedRowBlock is the number of elements a row block of reduceCols
// should hold, when it cuts long sums of few outputs into blocks.
const nnRedRowBlock = 1 << 16

// reduceCols reduces x viewed as [k1, r, k2] over its middle axis, folding
// whole rows of k2 at a time.
func (kn *nnReduce[T, A]) reduceCols(ctx *Ctx, xd, od []T, k1, r, k2 int) {
	if k1*k2 <= nnRedColBlock && r*k2 >= 4*nnRedRowBlock {
		kn.reduceColsBlocked(ctx, xd, od, k1, r, k2)
		return
	}
	bw := nnRedColBlock
	if ctx.Par != nil && k1*((k2+bw-1)/bw) < 4 && r*k2 >= nnGemmGrain {
		// Few outputs of long sums: narrower blocks give the workers
		// something to share. Each column is still summed in row order.
		// Blocks span whole pairs of cache lines (which CPUs fetch
		// together), so that workers do not read each other's lines.
		bw = max(32, (k2+127)/128*32)
	}
	blocks := (k2 + bw - 1) / bw
	ParallelJob(ctx, k1*blocks, max(1, nnGemmGrain/(r*min(k2, bw))), nnReduceJob[T, A]{kn: kn, ctx: ctx, xd: xd, od: od, r: r, k2: k2, bw: bw, blk: blocks})
}

// reduceColsBlocked is reduceCols for few outputs of long sums (a global
// pooling): the r rows are cut into blocks of a size that depends only on
// the shape, each block is folded on its own, and the blocks' results are
// folded in order, so that workers share the rows and the result does not
// depend on their number.
func (kn *nnReduce[T, A]) reduceColsBlocked(ctx *Ctx, xd, od []T, k1, r, k2 int) {
	rb := max(1, nnRedRowBlock/k2)
	nb := (r + rb - 1) / rb
	part, release := nnScratch[A](ctx, k1*nb*k2)
	defer release.Release()
	ParallelJob(ctx, k1*nb, 1, nnReduceBlockJob[T, A]{op: kn.op, xd: xd, part: part, r: r, k2: k2, rb: rb, nb: nb})
	for i := 0; i < k1; i++ {
		a := part[i*nb*k2:][:k2]
		for b := 1; b < nb; b++ {
			nnFoldCols(kn.op, a, part[(i*nb+b)*k2:][:k2])
		}
		dst := od[i*k2:][:k2]
		for j, v := range a {
			dst[j] = kn.finish(v, r)
		}
	}
}

// nnReduceBlockJob folds the row blocks [lo, hi) of reduceColsBlocked,
// block u (of image u/nb) into part[u*k2:][:k2].
type nnReduceBlockJob[T, A nnNum] struct {
	op            nnRedOp
	xd            []T
	part          []A
	r, k2, rb, nb int
}

func (j *nnReduceBlockJob[T, A]) Chunk(lo, hi int) {
	k2, rb := j.k2, j.rb
	init := nnRedInit[A](j.op)
	for u := lo; u < hi; u++ {
		i, b := u/j.nb, u%j.nb
		p0, p1 := b*rb, min((b+1)*rb, j.r)
		a := j.part[u*k2:][:k2]
		for c := range a {
			a[c] = init
		}
		x := j.xd[(i*j.r+p0)*k2:]
		if !cvFoldColsFast(j.op, a, x, p1-p0, k2) {
			for p := 0; p < p1-p0; p++ {
				nnFoldCols(j.op, a, x[p*k2:][:k2])
			}
		}
	}
}

// reduceGeneral handles several separate runs of reduced axes: each output
// walks its reduced elements in row-major order.
func (kn *nnReduce[T, A]) reduceGeneral(ctx *Ctx, xd, od []T, xs tensor.Shape, red []bool, count int) {
	strides := xs.Strides()
	var keptDims, keptStr, redDims, redStr []int
	for i, d := range xs {
		if red[i] {
			redDims, redStr = append(redDims, d), append(redStr, strides[i])
		} else {
			keptDims, keptStr = append(keptDims, d), append(keptStr, strides[i])
		}
	}
	ctx.Parallel(len(od), max(1, nnGemmGrain/count), func(lo, hi int) {
		idx := make([]int, len(redDims))
		one := make([]T, 1)
		for o := lo; o < hi; o++ {
			base, rem := 0, o
			for i := len(keptDims) - 1; i >= 0; i-- {
				base += rem % keptDims[i] * keptStr[i]
				rem /= keptDims[i]
			}
			clear(idx)
			acc := nnRedInit[A](kn.op)
			off := 0
			for c := 0; c < count; c++ {
				one[0] = xd[base+off]
				acc = nnFoldRow(kn.op, acc, one)
				for d := len(redDims) - 1; d >= 0; d-- {
					idx[d]++
					off += redStr[d]
					if idx[d] < redDims[d] {
						break
					}
					off -= redStr[d] * idx[d]
					idx[d] = 0
				}
			}
			od[o] = kn.finish(acc, count)
		}
	})
}

// ArgMax and ArgMin.

func nnArgAttrs(n *Node) (dt, out tensor.DType, err error) {
	if err = NeedInputs(n, 2); err != nil {
		return
	}
	if dt, err = nnReduceCheckDType(n); err != nil {
		return
	}
	out = tensor.Int64
	if _, ok := n.Attrs["output_type"]; ok {
		if out, err = AttrType(n, "output_type"); err != nil {
			return
		}
	}
	if out != tensor.Int32 && out != tensor.Int64 {
		err = fmt.Errorf("%w: op %s: output_type %s not supported (supported: int32, int64)", ErrAttr, n.Op, out)
	}
	return
}

// nnArgAxis resolves the dimension input of ArgMax/ArgMin.
func nnArgAxis(op string, dim *tensor.Tensor, rank int) (int, error) {
	if dim.Rank() != 0 {
		return 0, fmt.Errorf("%w: op %s: dimension must be a scalar, got shape %v", ErrShape, op, dim.Shape())
	}
	v, err := nnIntValues(op, "dimension", dim)
	if err != nil {
		return 0, err
	}
	a := v[0]
	if a < -rank || a >= rank {
		return 0, fmt.Errorf("%w: op %s: dimension %d out of range for input of rank %d (expected [%d, %d))", ErrShape, op, a, rank, -rank, rank)
	}
	if a < 0 {
		a += rank
	}
	return a, nil
}

func nnInferArg(n *Node) ([]Value, error) {
	_, out, err := nnArgAttrs(n)
	if err != nil {
		return nil, err
	}
	x, dim := n.Inputs[0].Shape, n.Inputs[1].Const
	if x.UnknownRank {
		return []Value{{DType: out, Shape: tensor.UnknownShape()}}, nil
	}
	if dim == nil {
		if len(x.Dims) == 0 {
			return nil, fmt.Errorf("%w: op %s: input must have rank >= 1", ErrShape, n.Op)
		}
		return []Value{{DType: out, Shape: tensor.PartialShape{Dims: nnUnknownDims(len(x.Dims) - 1)}}}, nil
	}
	a, err := nnArgAxis(n.Op, dim, len(x.Dims))
	if err != nil {
		return nil, err
	}
	dims := append(append([]int{}, x.Dims[:a]...), x.Dims[a+1:]...)
	return []Value{{DType: out, Shape: tensor.PartialShape{Dims: dims}}}, nil
}

// nnBatchRuleArg: rows stay independent when the reduced dimension is a constant
// other than axis 0.
func nnBatchRuleArg(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) != 2 || batched[1] {
		return nil, false
	}
	if !batched[0] {
		return []bool{false}, true
	}
	x, dim := n.Inputs[0].Shape, n.Inputs[1].Const
	if x.UnknownRank || len(x.Dims) < 2 || dim == nil {
		return nil, false
	}
	a, err := nnArgAxis(n.Op, dim, len(x.Dims))
	if err != nil || a == 0 {
		return nil, false
	}
	return []bool{true}, true
}

type nnArg[T nnNum, I int32 | int64] struct {
	name  string
	isMax bool
	out   tensor.DType
}

func nnBuildArg(n *Node) (Kernel, error) {
	dt, out, err := nnArgAttrs(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferArg(n); err != nil {
		return nil, err
	}
	isMax := n.Op == "ArgMax"
	if out == tensor.Int32 {
		return nnNewArg[int32](n.Op, dt, isMax, out), nil
	}
	return nnNewArg[int64](n.Op, dt, isMax, out), nil
}

func nnNewArg[I int32 | int64](name string, dt tensor.DType, isMax bool, out tensor.DType) Kernel {
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &nnArg[float32, I]{name, isMax, out}
	case tensor.Float64:
		return &nnArg[float64, I]{name, isMax, out}
	case tensor.Int32:
		return &nnArg[int32, I]{name, isMax, out}
	case tensor.Int64:
		return &nnArg[int64, I]{name, isMax, out}
	case tensor.Uint8:
		return &nnArg[uint8, I]{name, isMax, out}
	case tensor.Int8:
		return &nnArg[int8, I]{name, isMax, out}
	case tensor.Int16:
		return &nnArg[int16, I]{name, isMax, out}
	}
	return &nnArg[uint16, I]{name, isMax, out}
}

func (kn *nnArg[T, I]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	xs := x.Shape()
	if len(xs) == 0 {
		return nil, fmt.Errorf("%w: op %s: input must have rank >= 1, got a scalar", ErrShape, kn.name)
	}
	axis, err := nnArgAxis(kn.name, in[1], len(xs))
	if err != nil {
		return nil, err
	}
	r := xs[axis]
	outShape := append(xs[:axis].Clone(), xs[axis+1:]...)
	out, err := ctx.Alloc(kn.out, outShape)
	if err != nil {
		return nil, err
	}
	od := tensor.As[I](out)
	if len(od) == 0 {
		return []*tensor.Tensor{out}, nil
	}
	if r == 0 {
		out.Release()
		return nil, fmt.Errorf("%w: op %s: reduction axis %d is empty in shape %v", ErrShape, kn.name, axis, xs)
	}
	k1, k2 := nnProd(xs[:axis]), nnProd(xs[axis+1:])
	xd := tensor.As[T](x)
	start := nnLowest[T]()
	if !kn.isMax {
		start = nnHighest[T]()
	}
	if k2 == 1 {
		ctx.Parallel(k1, max(1, nnGemmGrain/r), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				row := xd[i*r : (i+1)*r]
				best, bv := 0, start
				if kn.isMax {
					for j, v := range row {
						if v > bv {
							best, bv = j, v
						}
					}
				} else {
					for j, v := range row {
						if v < bv {
							best, bv = j, v
						}
					}
				}
				od[i] = I(best)
			}
		})
		return []*tensor.Tensor{out}, nil
	}
	ctx.Parallel(k1, max(1, nnGemmGrain/(r*k2)), func(lo, hi int) {
		bv, release := nnScratch[T](ctx, k2)
		defer release.Release()
		for i := lo; i < hi; i++ {
			oi := od[i*k2 : (i+1)*k2]
			for j := range bv {
				bv[j] = start
				oi[j] = 0
			}
			for p := 0; p < r; p++ {
				row := xd[(i*r+p)*k2:][:k2]
				if kn.isMax {
					for j, v := range row {
						if v > bv[j] {
							bv[j], oi[j] = v, I(p)
						}
					}
					continue
				}
				for j, v := range row {
					if v < bv[j] {
						bv[j], oi[j] = v, I(p)
					}
				}
			}
		}
	})
	return []*tensor.Tensor{out}, nil
}
