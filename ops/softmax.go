package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// Softmax and LogSoftmax over the last axis
// (tensorflow/core/kernels/softmax_op_functor.h): each row is shifted by
// its maximum before exponentiating, so large logits do not overflow. The
// logits must have rank ≥ 1. Float32 rows run the vectorized passes of
// vmath.go, in float32 as TensorFlow computes them: the maximum, then
// exp(x - max) stored and summed in one pass, then the product with
// 1/sum (vmathSoftmaxRowsGo; the assembly does a chunk of rows per call)
// or, for LogSoftmax, (x - max) - log(sum) (vmathLogSoftmaxRow). Float64
// rows use the math package, with the sums in float64. A row holding NaN,
// or whose maximum is ±Inf, gives NaN, as in TensorFlow.

func init() {
	Default().Register(Spec{
		Name:  "Softmax",
		Doc:   "exp(x) / sum(exp(x)) over the last axis, computed stably",
		Infer: InferSameAsInput(0),
		Build: mathBuildSoftmax(false),
		Batch: mathBatchSoftmax,
	})
	Default().Register(Spec{
		Name:  "LogSoftmax",
		Doc:   "x - log(sum(exp(x))) over the last axis, computed stably",
		Infer: InferSameAsInput(0),
		Build: mathBuildSoftmax(true),
		Batch: mathBatchSoftmax,
	})
}

// mathBatchSoftmax: rows of axis 0 are independent only when axis 0 is not
// the softmax axis, i.e. for rank ≥ 2.
func mathBatchSoftmax(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) != 1 || len(n.Inputs) != 1 {
		return nil, false
	}
	if !batched[0] {
		return []bool{false}, true
	}
	s := n.Inputs[0].Shape
	if s.UnknownRank || len(s.Dims) < 2 {
		return nil, false
	}
	return []bool{true}, true
}

func mathBuildSoftmax(log bool) BuildFunc {
	return func(n *Node) (Kernel, error) {
		if err := NeedInputs(n, 1); err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		dt, err := InputDType(n, 0, "T")
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		if s := n.Inputs[0].Shape; !s.UnknownRank && len(s.Dims) == 0 {
			return nil, fmt.Errorf("%w: op %s: logits must have at least 1 dimension, got a scalar", ErrShape, n.Op)
		}
		switch dt {
		case tensor.Float32, tensor.Half, tensor.BFloat16:
			im := vmathF32
			rows := im.softmaxRows
			if log {
				rows = mathRowsOf(func(d, x []float32) { vmathLogSoftmaxRow(im, d, x) })
			}
			return &mathSoftmaxKernel[float32]{op: n.Op, dt: dt, rows: rows, round: mathRounder(dt)}, nil
		case tensor.Float64:
			rows := mathRowsOf(mathSoftmaxRow[float64])
			if log {
				rows = mathRowsOf(mathLogSoftmaxRow[float64])
			}
			return &mathSoftmaxKernel[float64]{op: n.Op, dt: dt, rows: rows}, nil
		}
		return nil, mathUnsupported(n.Op, dt, mathFloatTypes)
	}
}

type mathSoftmaxKernel[T tensor.Float] struct {
	op    string
	dt    tensor.DType
	rows  func(d, x []T, c int) // each row of c elements
	round func([]float32)
}

// mathRowsOf applies a function of one row to each row of c elements.
func mathRowsOf[T any](row func(d, x []T)) func(d, x []T, c int) {
	return func(d, x []T, c int) {
		for r := 0; r+c <= len(d); r += c {
			row(d[r:r+c], x[r:r+c])
		}
	}
}

func (k *mathSoftmaxKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	var buf [1][]T
	d, err := mathInputsTo(buf[:], k.op, in)
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape()
	if len(shape) == 0 {
		return nil, fmt.Errorf("%w: op %s: logits must have at least 1 dimension, got a scalar", ErrShape, k.op)
	}
	out, err := ctx.Alloc(k.dt, shape)
	if err != nil {
		return nil, err
	}
	src, dst := d[0], tensor.As[T](out)
	c := shape[len(shape)-1]
	if len(dst) == 0 {
		return ctx.Out(out), nil
	}
	ParallelJob(ctx, len(dst)/c, max(1, mathGrain/c), mathSoftmaxJob[T]{k: k, dst: dst, src: src, c: c})
	return ctx.Out(out), nil
}

// mathSoftmaxJob computes rows [lo, hi) of a softmax.
type mathSoftmaxJob[T tensor.Float] struct {
	k        *mathSoftmaxKernel[T]
	dst, src []T
	c        int
}

func (j *mathSoftmaxJob[T]) Chunk(lo, hi int) {
	c, dst := j.c, j.dst[lo*j.c:hi*j.c]
	j.k.rows(dst, j.src[lo*c:hi*c], c)
	if j.k.round != nil {
		j.k.round(any(dst).([]float32))
	}
}

// mathRowMax returns the maximum of x, or NaN if x holds a NaN.
func mathRowMax[T tensor.Float](x []T) float64 {
	m := float64(x[0])
	for _, v := range x {
		f := float64(v)
		if f > m || f != f {
			m = f
			if f != f {
				break
			}
		}
	}
	return m
}

func mathSoftmaxRow[T tensor.Float](d, x []T) {
	x = x[:len(d)]
	m := mathRowMax(x)
	sum := 0.0
	for i, v := range x {
		e := math.Exp(float64(v) - m)
		d[i] = T(e)
		sum += e
	}
	inv := 1 / sum
	for i, v := range d {
		d[i] = T(float64(v) * inv)
	}
}

func mathLogSoftmaxRow[T tensor.Float](d, x []T) {
	x = x[:len(d)]
	m := mathRowMax(x)
	sum := 0.0
	for _, v := range x {
		sum += math.Exp(float64(v) - m)
	}
	ls := math.Log(sum)
	for i, v := range x {
		d[i] = T(float64(v) - m - ls)
	}
}
