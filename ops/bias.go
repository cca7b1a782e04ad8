package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// BiasAdd and AddN.
//
// BiasAdd (tensorflow/core/kernels/bias_op.cc) adds a 1-D bias along the
// channel dimension of a tensor of rank ≥ 2: the last dimension for
// data_format NHWC (the default), dimension 1 for NCHW.
//
// AddN (tensorflow/core/kernels/aggregate_ops.cc) sums n ≥ 1 tensors of one
// shape, element by element, adding the inputs in order.

func init() {
	Default().Register(Spec{
		Name:  "BiasAdd",
		Doc:   "value + bias, the 1-D bias added along the channel dimension (data_format NHWC or NCHW)",
		Infer: InferSameAsInput(0),
		Build: mathBuildBiasAdd,
		Batch: mathBatchBiasAdd,
	})
	Default().Register(Spec{
		Name:  "AddN",
		Doc:   "sum of n tensors of the same shape, element-wise",
		Infer: mathInferAddN,
		Build: mathBuildAddN,
		Batch: BatchElementwise,
	})
}

// mathBatchBiasAdd: the batch axis 0 is never the channel axis once the
// value has rank ≥ 2, in either data format, so rows stay independent as
// long as the bias itself is not batched.
func mathBatchBiasAdd(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) != 2 || len(n.Inputs) != 2 || batched[1] {
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

func mathBuildBiasAdd(n *Node) (Kernel, error) {
	dt, err := mathBinaryDType(n, mathNumTypes)
	if err != nil {
		return nil, err
	}
	format, err := AttrString(n, "data_format", "NHWC")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if format != "NHWC" && format != "NCHW" {
		return nil, fmt.Errorf("%w: op %s: data_format %q not supported (expected NHWC or NCHW)", ErrAttr, n.Op, format)
	}
	if s := n.Inputs[1].Shape; !s.UnknownRank && len(s.Dims) != 1 {
		return nil, fmt.Errorf("%w: op %s: bias must be 1-D, got shape %v", ErrShape, n.Op, s)
	}
	if s := n.Inputs[0].Shape; !s.UnknownRank && len(s.Dims) < 2 {
		return nil, fmt.Errorf("%w: op %s: value must be at least 2-D, got shape %v", ErrShape, n.Op, s)
	}
	nchw := format == "NCHW"
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return mathNewBiasAdd[float32](n.Op, dt, nchw), nil
	case tensor.Float64:
		return mathNewBiasAdd[float64](n.Op, dt, nchw), nil
	case tensor.Int32:
		return mathNewBiasAdd[int32](n.Op, dt, nchw), nil
	case tensor.Int64:
		return mathNewBiasAdd[int64](n.Op, dt, nchw), nil
	case tensor.Uint8:
		return mathNewBiasAdd[uint8](n.Op, dt, nchw), nil
	case tensor.Int8:
		return mathNewBiasAdd[int8](n.Op, dt, nchw), nil
	case tensor.Int16:
		return mathNewBiasAdd[int16](n.Op, dt, nchw), nil
	case tensor.Uint16:
		return mathNewBiasAdd[uint16](n.Op, dt, nchw), nil
	}
	return nil, mathUnsupported(n.Op, dt, mathNumTypes)
}

type mathBiasAddKernel[T tensor.Number] struct {
	op    string
	dt    tensor.DType
	nchw  bool
	lp    mathBinLoops[T, T]
	round func([]float32)
}

func mathNewBiasAdd[T tensor.Number](op string, dt tensor.DType, nchw bool) Kernel {
	return &mathBiasAddKernel[T]{op: op, dt: dt, nchw: nchw, lp: mathArithLoops[T](mathOpAdd), round: mathRounder(dt)}
}

func (k *mathBiasAddKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	var buf [2][]T
	d, err := mathInputsTo(buf[:], k.op, in)
	if err != nil {
		return nil, err
	}
	v, bias := d[0], d[1]
	vs, bs := in[0].Shape(), in[1].Shape()
	if len(vs) < 2 {
		return nil, fmt.Errorf("%w: op %s: value must be at least 2-D, got shape %v", ErrShape, k.op, vs)
	}
	if len(bs) != 1 {
		return nil, fmt.Errorf("%w: op %s: bias must be 1-D, got shape %v", ErrShape, k.op, bs)
	}
	cdim := len(vs) - 1
	if k.nchw {
		cdim = 1
	}
	c := vs[cdim]
	if bs[0] != c {
		return nil, fmt.Errorf("%w: op %s: bias has %d elements, expected %d (dimension %d of value %v)", ErrShape, k.op, bs[0], c, cdim, vs)
	}
	out, err := ctx.Alloc(k.dt, vs)
	if err != nil {
		return nil, err
	}
	dst := tensor.As[T](out)
	if len(dst) == 0 {
		return ctx.Out(out), nil
	}
	if cdim == len(vs)-1 {
		// Rows of c elements, each plus the whole bias.
		mathRowsApply(ctx, &k.lp, dst, v, bias, c, false)
		if k.round != nil {
			ParallelJob(ctx, len(dst), mathGrain, mathBiasJob[T]{k: k, dst: dst, inner: 1})
		}
		return ctx.Out(out), nil
	}
	// NCHW: blocks of `inner` elements, block b taking bias[b % c].
	inner := len(dst) / (vs[0] * c)
	ParallelJob(ctx, len(dst)/inner, max(1, mathGrain/inner), mathBiasJob[T]{k: k, dst: dst, v: v, bias: bias, c: c, inner: inner})
	return ctx.Out(out), nil
}

// mathBiasJob adds bias[b % c] to blocks b in [lo, hi) of inner elements
// (NCHW), or with v nil only rounds them.
type mathBiasJob[T tensor.Number] struct {
	k            *mathBiasAddKernel[T]
	dst, v, bias []T
	c, inner     int
}

func (j *mathBiasJob[T]) Chunk(lo, hi int) {
	dst, v, inner := j.dst, j.v, j.inner
	if v != nil {
		for b := lo; b < hi; b++ {
			j.k.lp.vs(dst[b*inner:(b+1)*inner], v[b*inner:(b+1)*inner], j.bias[b%j.c])
		}
	}
	j.k.roundRange(dst[lo*inner : hi*inner])
}

func (k *mathBiasAddKernel[T]) roundRange(d []T) {
	if k.round != nil {
		k.round(any(d).([]float32))
	}
}

// AddN.

func mathInferAddN(n *Node) ([]Value, error) {
	if err := NeedMinInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	shape := n.Inputs[0].Shape
	for _, in := range n.Inputs {
		if in.Shape.IsFullyKnown() {
			shape = in.Shape
			break
		}
	}
	return []Value{{DType: dt, Shape: shape}}, nil
}

func mathBuildAddN(n *Node) (Kernel, error) {
	if err := NeedMinInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	for i, in := range n.Inputs {
		if b := in.DType.Base(); b != tensor.Invalid && b != dt {
			return nil, fmt.Errorf("%w: op %s: input %d is %s, expected %s", ErrDType, n.Op, i, b, dt)
		}
	}
	if want, err := AttrInt(n, "N", int64(len(n.Inputs))); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	} else if want != int64(len(n.Inputs)) {
		return nil, fmt.Errorf("%w: op %s: attr N is %d but the node has %d inputs", ErrAttr, n.Op, want, len(n.Inputs))
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &mathAddNKernel[float32]{op: n.Op, dt: dt, round: mathRounder(dt)}, nil
	case tensor.Float64:
		return &mathAddNKernel[float64]{op: n.Op, dt: dt}, nil
	case tensor.Int32:
		return &mathAddNKernel[int32]{op: n.Op, dt: dt}, nil
	case tensor.Int64:
		return &mathAddNKernel[int64]{op: n.Op, dt: dt}, nil
	case tensor.Uint8:
		return &mathAddNKernel[uint8]{op: n.Op, dt: dt}, nil
	case tensor.Int8:
		return &mathAddNKernel[int8]{op: n.Op, dt: dt}, nil
	case tensor.Int16:
		return &mathAddNKernel[int16]{op: n.Op, dt: dt}, nil
	case tensor.Uint16:
		return &mathAddNKernel[uint16]{op: n.Op, dt: dt}, nil
	}
	return nil, mathUnsupported(n.Op, dt, mathNumTypes)
}

type mathAddNKernel[T tensor.Number] struct {
	op    string
	dt    tensor.DType
	round func([]float32) // applied after every addition, as each TF half add rounds
}

func (k *mathAddNKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: op %s: expected at least 1 input", ErrShape, k.op)
	}
	d, err := mathInputs[T](k.op, in, len(in))
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape()
	for i, t := range in[1:] {
		if !t.Shape().Equal(shape) {
			return nil, fmt.Errorf("%w: op %s: input %d has shape %v, expected %v like input 0", ErrShape, k.op, i+1, t.Shape(), shape)
		}
	}
	if len(in) == 1 {
		v, err := in[0].View(shape)
		if err != nil {
			return nil, err
		}
		return []*tensor.Tensor{v}, nil
	}
	out, err := ctx.Alloc(k.dt, shape)
	if err != nil {
		return nil, err
	}
	dst := tensor.As[T](out)
	ctx.Parallel(len(dst), mathGrain, func(lo, hi int) {
		o := dst[lo:hi]
		mathArithVV(mathOpAdd, o, d[0][lo:hi], d[1][lo:hi])
		k.roundRange(o)
		for _, s := range d[2:] {
			mathArithVV(mathOpAdd, o, o, s[lo:hi])
			k.roundRange(o)
		}
	})
	return []*tensor.Tensor{out}, nil
}

func (k *mathAddNKernel[T]) roundRange(d []T) {
	if k.round != nil {
		k.round(any(d).([]float32))
	}
}
