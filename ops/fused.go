package ops

import (
	"fmt"
	"math"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// Fused ops that TensorFlow's grappler remapper and the TF.js converter
// write: a Conv2D, DepthwiseConv2dNative or MatMul followed by an epilogue
// over the channels (the last axis): BiasAdd or FusedBatchNorm, then
// optionally Add (a residual), then an activation (Relu, Relu6, Elu,
// LeakyRelu, Prelu, Sigmoid, Tanh). Semantics:
// tensorflow/core/kernels/conv_ops_fused_impl.h, fused_eigen_output_kernels.h,
// and tfjs-converter's fused op mappings. The epilogue runs in the output's
// precision after the product, in the order written, so the results equal
// those of the unfused ops.
//
// Prelu (TF.js's op, and its fused activation) is x > 0 ? x : alpha*x with
// alpha broadcast over the trailing axes.

func init() {
	Default().Register(Spec{Name: "_FusedConv2D", Doc: "Conv2D with a fused BiasAdd/FusedBatchNorm, Add and activation epilogue",
		Infer: inferFused("Conv2D"), Build: buildFused("Conv2D"), Batch: batchFused})
	Default().Register(Spec{Name: "FusedDepthwiseConv2dNative", Doc: "DepthwiseConv2dNative with a fused BiasAdd and activation epilogue",
		Infer: inferFused("DepthwiseConv2dNative"), Build: buildFused("DepthwiseConv2dNative"), Batch: batchFused})
	Default().Register(Spec{Name: "_FusedMatMul", Doc: "MatMul with a fused BiasAdd, Add and activation epilogue",
		Infer: inferFused("MatMul"), Build: buildFused("MatMul"), Batch: batchFused})
	Default().Register(Spec{Name: "Prelu", Doc: "x > 0 ? x : alpha*x with alpha broadcast over the trailing axes (TF.js)",
		Infer: InferSameAsInput(0), Build: buildPrelu, Batch: BatchFirstOnly})
}

// innerNode returns the node of the unfused op: the first two inputs and
// the attrs.
func innerNode(n *Node, op string) *Node {
	in := n.Inputs
	if len(in) > 2 {
		in = in[:2]
	}
	return &Node{Name: n.Name, Op: op, Attrs: n.Attrs, Inputs: in}
}

func inferFused(op string) InferFunc {
	return func(n *Node) ([]Value, error) {
		if err := NeedMinInputs(n, 2); err != nil {
			return nil, err
		}
		spec, ok := Default().Lookup(op)
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrUnsupportedOp, op)
		}
		out, err := spec.Infer(innerNode(n, op))
		if err != nil {
			return nil, err
		}
		return out[:1], nil
	}
}

// batchFused: rows stay independent when the product's do (its own rule)
// and no epilogue argument is batched, except a residual addend of the
// output's own shape.
func batchFused(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) < 2 || batched[1] {
		return nil, false
	}
	for i := 2; i < len(batched); i++ {
		if batched[i] && !batched[0] {
			return nil, false
		}
	}
	if !batched[0] {
		return []bool{false}, true
	}
	s := n.Inputs[0].Shape
	if s.UnknownRank || len(s.Dims) < 2 {
		return nil, false
	}
	if n.Op == "_FusedMatMul" {
		if ta, _ := AttrBool(n, "transpose_a", false); ta {
			return nil, false
		}
	}
	if n.Op != "_FusedMatMul" {
		strides, _ := AttrInts(n, "strides", nil)
		if len(strides) > 0 && strides[0] != 1 {
			return nil, false
		}
	}
	return []bool{true}, true
}

// epilogue step kinds.
type fusedStep struct {
	kind  string  // "bias", "bn", "add", "relu", "relu6", "elu", "leaky", "prelu", "sigmoid", "tanh"
	arg   int     // first input index of its arguments
	alpha float64 // LeakyRelu
	eps   float64 // FusedBatchNorm
	// act, when set, is the activation's element loop, func(d, s []T),
	// taken from the op's own kernel (fuseBindActs).
	act any
}

func parseFused(n *Node) ([]fusedStep, error) {
	names, _, err := n.Attrs.Strings("fused_ops")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAttr, err)
	}
	numArgs, err := AttrInt(n, "num_args", -1)
	if err != nil {
		return nil, err
	}
	alpha, err := AttrFloat(n, "leakyrelu_alpha", 0.2)
	if err != nil {
		return nil, err
	}
	eps, err := AttrFloat(n, "epsilon", 0.0001)
	if err != nil {
		return nil, err
	}
	var steps []fusedStep
	arg := 2
	take := func(k int) int {
		a := arg
		arg += k
		return a
	}
	for _, name := range names {
		switch name {
		case "BiasAdd":
			steps = append(steps, fusedStep{kind: "bias", arg: take(1)})
		case "FusedBatchNorm":
			steps = append(steps, fusedStep{kind: "bn", arg: take(4), eps: float64(eps)})
		case "Add", "AddV2":
			steps = append(steps, fusedStep{kind: "add", arg: take(1)})
		case "Relu":
			steps = append(steps, fusedStep{kind: "relu"})
		case "Relu6":
			steps = append(steps, fusedStep{kind: "relu6"})
		case "Elu":
			steps = append(steps, fusedStep{kind: "elu"})
		case "LeakyRelu":
			steps = append(steps, fusedStep{kind: "leaky", alpha: float64(alpha)})
		case "Prelu":
			steps = append(steps, fusedStep{kind: "prelu", arg: take(1)})
		case "Sigmoid":
			steps = append(steps, fusedStep{kind: "sigmoid"})
		case "Tanh":
			steps = append(steps, fusedStep{kind: "tanh"})
		default:
			return nil, fmt.Errorf("%w: fused op %q not supported (fused_ops %v)", ErrAttr, name, names)
		}
	}
	if arg != len(n.Inputs) {
		return nil, fmt.Errorf("%w: fused_ops %v take %d inputs, the node has %d", ErrShape, names, arg, len(n.Inputs))
	}
	if numArgs >= 0 && int(numArgs) != arg-2 {
		// TF.js writes num_args counting only the BiasAdd argument when
		// Prelu's alpha follows; TensorFlow counts all. Trust the inputs.
		if !strings.Contains(strings.Join(names, ","), "Prelu") {
			return nil, fmt.Errorf("%w: num_args is %d but fused_ops %v take %d", ErrAttr, numArgs, names, arg-2)
		}
	}
	return steps, nil
}

func buildFused(op string) BuildFunc {
	return func(n *Node) (Kernel, error) {
		if err := NeedMinInputs(n, 2); err != nil {
			return nil, err
		}
		steps, err := parseFused(n)
		if err != nil {
			return nil, err
		}
		dt, err := InputDType(n, 0, "T")
		if err != nil {
			return nil, err
		}
		if dt != tensor.Float32 && dt != tensor.Float64 && dt != tensor.Half && dt != tensor.BFloat16 {
			return nil, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64)", ErrDType, n.Op, dt)
		}
		inner, err := Default().Choose(op)
		if err != nil {
			return nil, err
		}
		k, err := inner.Build(innerNode(n, op))
		if err != nil {
			return nil, err
		}
		fuseBindActs(steps, dt)
		if gk := fuseGemmFor(k, steps); gk != nil {
			return gk, nil
		}
		if ck := cvFusedFor(k, steps, dt); ck != nil {
			return ck, nil
		}
		if dt == tensor.Float64 {
			return &fusedKernel[float64]{inner: k, steps: steps}, nil
		}
		return &fusedKernel[float32]{inner: k, steps: steps}, nil
	}
}

type fusedKernel[T tensor.Float] struct {
	inner Kernel
	steps []fusedStep
}

func (k *fusedKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	outs, err := k.inner.Run(ctx, in[:2])
	if err != nil {
		return nil, err
	}
	y := outs[0]
	if !y.Pooled() {
		// The product may be a view of shared storage; the epilogue writes
		// in place, so work on a copy.
		y = y.Clone()
	}
	if err := applyEpilogue[T](y, in, k.steps); err != nil {
		y.Release()
		return nil, err
	}
	return []*tensor.Tensor{y}, nil
}

// channelArg checks that an epilogue argument is a vector over the
// channels (or, for Prelu, broadcastable over the trailing axes) and
// returns its values and the period with which it repeats.
func channelArg[T tensor.Float](what string, a *tensor.Tensor, y *tensor.Tensor, c int) ([]T, error) {
	if a.Len() != c {
		return nil, fmt.Errorf("%w: fused %s argument has shape %v, expected %d values (the output's last dimension)", ErrShape, what, a.Shape(), c)
	}
	return tensor.As[T](a), nil
}

func applyEpilogue[T tensor.Float](y *tensor.Tensor, in []*tensor.Tensor, steps []fusedStep) error {
	v := tensor.As[T](y)
	if len(v) == 0 {
		return nil
	}
	c := 1
	if y.Rank() > 0 {
		c = y.Shape()[y.Rank()-1]
	}
	for _, s := range steps {
		if act, ok := s.act.(func(d, s []T)); ok {
			act(v, v)
			continue
		}
		if act := vmathAct[T](s.kind); act != nil {
			act(v, v) // float32: the unfused op's loop
			continue
		}
		switch s.kind {
		case "bias":
			b, err := channelArg[T]("BiasAdd", in[s.arg], y, c)
			if err != nil {
				return err
			}
			for r := 0; r < len(v); r += c {
				row := v[r : r+c]
				for j := range row {
					row[j] += b[j]
				}
			}
		case "bn":
			var p [4][]T
			for j := range p {
				a, err := channelArg[T]("FusedBatchNorm", in[s.arg+j], y, c)
				if err != nil {
					return err
				}
				p[j] = a
			}
			// TensorFlow folds the statistics into a per-channel scale and
			// offset: scale * rsqrt(var + eps), offset - mean * that.
			sc := make([]T, c)
			of := make([]T, c)
			for j := 0; j < c; j++ {
				sc[j] = p[0][j] * T(1/math.Sqrt(float64(p[3][j])+s.eps))
				of[j] = p[1][j] - p[2][j]*sc[j]
			}
			for r := 0; r < len(v); r += c {
				row := v[r : r+c]
				for j := range row {
					row[j] = row[j]*sc[j] + of[j]
				}
			}
		case "add":
			a := in[s.arg]
			if !a.Shape().Equal(y.Shape()) || a.DType() != y.DType() {
				return fmt.Errorf("%w: fused Add argument is %s%v, expected %s%v", ErrShape, a.DType(), a.Shape(), y.DType(), y.Shape())
			}
			for i, x := range tensor.As[T](a) {
				v[i] += x
			}
		case "relu":
			for i, x := range v {
				if x < 0 {
					v[i] = 0
				}
			}
		case "relu6":
			for i, x := range v {
				v[i] = min(max(x, 0), 6)
			}
		case "elu":
			for i, x := range v {
				if x < 0 {
					v[i] = T(math.Expm1(float64(x)))
				}
			}
		case "leaky":
			for i, x := range v {
				if x < 0 {
					v[i] = x * T(s.alpha)
				}
			}
		case "prelu":
			a := in[s.arg]
			if err := preluApply(&Ctx{}, v, v, y.Shape(), a); err != nil {
				return err
			}
		case "sigmoid":
			for i, x := range v {
				v[i] = T(1 / (1 + math.Exp(-float64(x))))
			}
		case "tanh":
			for i, x := range v {
				v[i] = T(math.Tanh(float64(x)))
			}
		}
	}
	if round := mathRounder(y.DType()); round != nil {
		// Results of 16-bit dtypes are rounded like every other op's.
		if s, ok := any(v).([]float32); ok {
			round(s)
		}
	}
	return nil
}

// preluApply writes x < 0 ? alpha*x : x of src into dst (which may be
// src), alpha broadcast against the trailing axes of the shape, split
// between workers in whole rows of alpha.
func preluApply[T tensor.Float](ctx *Ctx, dst, src []T, shape tensor.Shape, alpha *tensor.Tensor) error {
	as := alpha.Shape()
	// Drop leading 1s of alpha, then it must equal the trailing axes.
	for len(as) > 0 && as[0] == 1 {
		as = as[1:]
	}
	if len(as) > len(shape) || !shape[len(shape)-len(as):].Equal(as) {
		return fmt.Errorf("%w: Prelu alpha of shape %v does not broadcast over %v", ErrShape, alpha.Shape(), shape)
	}
	a := tensor.As[T](alpha)
	n := len(a)
	if n == 0 || len(src) == 0 {
		return nil
	}
	ParallelJob(ctx, len(src)/n, max(1, mathGrain/n), preluJob[T]{dst: dst, src: src, alpha: a})
	return nil
}

// preluJob computes rows [lo, hi) of len(alpha) elements of Prelu.
type preluJob[T tensor.Float] struct {
	dst, src, alpha []T
}

func (j *preluJob[T]) Chunk(lo, hi int) {
	n := len(j.alpha)
	for r := lo; r < hi; r++ {
		preluRow(j.dst[r*n:][:n], j.src[r*n:][:n], j.alpha)
	}
}

// preluRow is one row of Prelu. Float32 selects on the bit patterns (x is
// negative: below zero, not -0, not NaN), so that the loop has no branch.
func preluRow[T tensor.Float](d, s, a []T) {
	s, a = s[:len(d)], a[:len(d)]
	if d32, ok := any(d).([]float32); ok {
		s32, a32 := any(s).([]float32), any(a).([]float32)
		for i, x := range s32 {
			b := math.Float32bits(x)
			r := math.Float32bits(x * a32[i])
			if b-0x80000001 > 0xff800000-0x80000001 {
				r = b
			}
			d32[i] = math.Float32frombits(r)
		}
		return
	}
	for i, x := range s {
		if x < 0 {
			x *= a[i]
		}
		d[i] = x
	}
}

func buildPrelu(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	run := func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if in[1].DType() != in[0].DType() {
			return nil, fmt.Errorf("%w: Prelu alpha is %s, x is %s", ErrDType, in[1].DType(), in[0].DType())
		}
		out, err := ctx.Alloc(in[0].DType(), in[0].Shape())
		if err != nil {
			return nil, err
		}
		switch in[0].DType() {
		case tensor.Float64:
			err = preluApply(ctx, tensor.As[float64](out), tensor.As[float64](in[0]), in[0].Shape(), in[1])
		default:
			err = preluApply(ctx, tensor.As[float32](out), tensor.As[float32](in[0]), in[0].Shape(), in[1])
		}
		if err != nil {
			out.Release()
			return nil, err
		}
		return []*tensor.Tensor{out}, nil
	}
	switch dt {
	case tensor.Float32, tensor.Float64, tensor.Half, tensor.BFloat16:
	default:
		return nil, fmt.Errorf("%w: op Prelu: dtype %s not supported (supported: float32, float64)", ErrDType, dt)
	}
	return KernelFunc(run), nil
}
