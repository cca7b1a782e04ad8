package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// FusedBatchNorm, FusedBatchNormV2 and FusedBatchNormV3 in inference mode
// (is_training=false), as TensorFlow's CPU kernel computes them
// (tensorflow/core/kernels/fused_batch_norm_op.cc):
//
//	factor = rsqrt(variance + epsilon) · scale
//	y      = (x - mean) · factor + offset
//
// in float32 (the U type), per channel. The other outputs are batch_mean =
// mean and batch_variance = variance; TF's CPU kernel leaves
// reserve_space_1 and reserve_space_2 uninitialized in inference, tfd sets
// them to mean and variance as well, and V3's reserve_space_3 is a float32
// scalar 0 as in TF. For an empty x, batch_mean and batch_variance are NaN,
// as in TF. Training mode is not supported.

func init() {
	for _, name := range []string{"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"} {
		Default().Register(Spec{
			Name:  name,
			Doc:   "batch normalization with given mean and variance (inference mode)",
			Infer: nnInferFusedBatchNorm,
			Build: nnBuildFusedBatchNorm,
			Batch: nnBatchRuleFusedBatchNorm,
		})
	}
}

func nnBatchNormOutputs(op string) int {
	if op == "FusedBatchNormV3" {
		return 6
	}
	return 5
}

// nnBatchNormAttrs reads and checks the attrs; it returns the dtype of x,
// epsilon and whether channels are the last axis.
func nnBatchNormAttrs(n *Node) (dt tensor.DType, eps float32, channelsLast bool, err error) {
	if err = NeedInputs(n, 5); err != nil {
		return
	}
	if dt, err = InputDType(n, 0, "T"); err != nil {
		return
	}
	switch dt {
	case tensor.Float32:
	case tensor.Half, tensor.BFloat16:
		if n.Op == "FusedBatchNorm" {
			err = fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32)", ErrDType, n.Op, dt)
			return
		}
	default:
		supported := "float32, float16, bfloat16"
		if n.Op == "FusedBatchNorm" {
			supported = "float32"
		}
		err = fmt.Errorf("%w: op %s: dtype %s not supported (supported: %s)", ErrDType, n.Op, dt, supported)
		return
	}
	for i := 1; i < 5; i++ {
		u := n.Inputs[i].DType.Base()
		if u == tensor.Invalid && n.Op != "FusedBatchNorm" {
			u, _ = AttrType(n, "U")
		}
		if u != tensor.Invalid && u != tensor.Float32 && !(n.Op == "FusedBatchNorm" && u == dt) {
			err = fmt.Errorf("%w: op %s: input %d has dtype %s, expected float32", ErrDType, n.Op, i, u)
			return
		}
	}
	training, err := AttrBool(n, "is_training", true)
	if err != nil {
		return
	}
	if training {
		err = fmt.Errorf("%w: op %s: training mode not supported (is_training must be false)", ErrAttr, n.Op)
		return
	}
	if eps, err = AttrFloat(n, "epsilon", 0.0001); err != nil {
		return
	}
	df, err := AttrString(n, "data_format", "NHWC")
	if err != nil {
		return
	}
	switch df {
	case "NHWC", "NDHWC":
		channelsLast = true
	case "NCHW", "NCDHW":
	default:
		err = fmt.Errorf("%w: op %s: data_format %q not supported (supported: NHWC, NCHW, NDHWC, NCDHW)", ErrAttr, n.Op, df)
	}
	return
}

func nnInferFusedBatchNorm(n *Node) ([]Value, error) {
	dt, _, channelsLast, err := nnBatchNormAttrs(n)
	if err != nil {
		return nil, err
	}
	x := n.Inputs[0].Shape
	if !x.UnknownRank && len(x.Dims) != 4 && len(x.Dims) != 5 {
		return nil, fmt.Errorf("%w: op %s: x must be rank 4 or 5, got %v", ErrShape, n.Op, x)
	}
	c := -1
	if !x.UnknownRank {
		c = x.Dims[1]
		if channelsLast {
			c = x.Dims[len(x.Dims)-1]
		}
	}
	for i := 1; i < 5; i++ {
		s := n.Inputs[i].Shape
		if s.UnknownRank {
			continue
		}
		if len(s.Dims) != 1 {
			return nil, fmt.Errorf("%w: op %s: input %d must be rank 1, got %v", ErrShape, n.Op, i, s)
		}
		if c < 0 {
			c = s.Dims[0]
		}
	}
	u := tensor.Float32
	if n.Op == "FusedBatchNorm" {
		u = dt
	}
	out := []Value{{DType: dt, Shape: x}}
	for i := 1; i < 5; i++ {
		out = append(out, Value{DType: u, Shape: tensor.PartialShape{Dims: []int{c}}})
	}
	if n.Op == "FusedBatchNormV3" {
		out = append(out, Value{DType: u, Shape: tensor.Known(tensor.Shape{})})
	}
	return out, nil
}

// nnBatchRuleFusedBatchNorm: in inference each element of y depends on its own x
// and the per-channel parameters only; the other outputs depend on the
// parameters only (they are not batched). For an empty x TF returns NaN
// statistics, which slicing never produces from a non-empty batch.
func nnBatchRuleFusedBatchNorm(n *Node, batched []bool) ([]bool, bool) {
	for i := 1; i < len(batched); i++ {
		if batched[i] {
			return nil, false
		}
	}
	out := make([]bool, nnBatchNormOutputs(n.Op))
	if len(batched) == 0 || !batched[0] {
		return out, true
	}
	if s := n.Inputs[0].Shape; s.UnknownRank || (len(s.Dims) != 4 && len(s.Dims) != 5) {
		return nil, false
	}
	out[0] = true
	return out, true
}

type nnFusedBatchNorm struct {
	op           string
	dt           tensor.DType
	eps          float32
	channelsLast bool
}

func nnBuildFusedBatchNorm(n *Node) (Kernel, error) {
	dt, eps, channelsLast, err := nnBatchNormAttrs(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferFusedBatchNorm(n); err != nil {
		return nil, err
	}
	return &nnFusedBatchNorm{op: n.Op, dt: dt, eps: eps, channelsLast: channelsLast}, nil
}

func (kn *nnFusedBatchNorm) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	xs := x.Shape()
	if len(xs) != 4 && len(xs) != 5 {
		return nil, fmt.Errorf("%w: op %s: x must be rank 4 or 5, got %v", ErrShape, kn.op, xs)
	}
	c := xs[1]
	if kn.channelsLast {
		c = xs[len(xs)-1]
	}
	names := [5]string{"x", "scale", "offset", "mean", "variance"}
	for i := 1; i < 5; i++ {
		if s := in[i].Shape(); len(s) != 1 || s[0] != c {
			return nil, fmt.Errorf("%w: op %s: %s must have shape [%d] (the channels of x %v), got %v", ErrShape, kn.op, names[i], c, xs, s)
		}
	}
	scale, offset := tensor.As[float32](in[1]), tensor.As[float32](in[2])
	mean, variance := tensor.As[float32](in[3]), tensor.As[float32](in[4])
	u := tensor.Float32
	if kn.op == "FusedBatchNorm" {
		u = kn.dt
	}
	var outBuf [6]*tensor.Tensor
	outs := outBuf[:0:min(nnBatchNormOutputs(kn.op), len(outBuf))]
	fail := func(err error) ([]*tensor.Tensor, error) {
		for _, t := range outs {
			t.Release()
		}
		return nil, err
	}
	y, err := ctx.Alloc(kn.dt, xs)
	if err != nil {
		return fail(err)
	}
	outs = append(outs, y)
	empty := x.Len() == 0
	for _, src := range [][]float32{mean, variance, mean, variance} {
		t, err := ctx.Alloc(u, tensor.Shape{c})
		if err != nil {
			return fail(err)
		}
		d := tensor.As[float32](t)
		if empty {
			nan := float32(math.NaN())
			for i := range d {
				d[i] = nan
			}
		} else {
			copy(d, src)
		}
		outs = append(outs, t)
	}
	if kn.op == "FusedBatchNormV3" {
		t, err := ctx.Zeros(u, tensor.Shape{})
		if err != nil {
			return fail(err)
		}
		outs = append(outs, t)
	}
	if empty {
		return ctx.Out(outs...), nil
	}
	factor, release := nnScratch[float32](ctx, c)
	defer release.Release()
	for i := range factor {
		s := float32(math.Sqrt(float64(variance[i] + kn.eps)))
		factor[i] = 1 / s * scale[i]
	}
	j := nnBatchNormJob{xd: tensor.As[float32](x), yd: tensor.As[float32](y), mean: mean, factor: factor, offset: offset, c: c}
	if kn.channelsLast {
		ParallelJob(ctx, len(j.xd)/c, max(1, nnGemmGrain/c), j)
	} else {
		j.inner = nnProd(xs[2:])
		ParallelJob(ctx, xs[0]*c, max(1, nnGemmGrain/max(1, j.inner)), j)
	}
	return ctx.Out(outs...), nil
}

// nnBatchNormJob normalizes rows [lo, hi) of c channels (channels last,
// inner 0) or planes [lo, hi) of inner elements (channels first).
type nnBatchNormJob struct {
	xd, yd, mean, factor, offset []float32
	c, inner                     int
}

func (j *nnBatchNormJob) Chunk(lo, hi int) {
	xd, yd, mean, factor, offset, c := j.xd, j.yd, j.mean, j.factor, j.offset, j.c
	if inner := j.inner; inner == 0 {
		for r := lo; r < hi; r++ {
			xr, yr := xd[r*c:][:c], yd[r*c:][:c]
			for i, v := range xr {
				yr[i] = (v-mean[i])*factor[i] + offset[i]
			}
		}
	} else {
		for p := lo; p < hi; p++ {
			ch := p % c
			m, f, o := mean[ch], factor[ch], offset[ch]
			xr, yr := xd[p*inner:][:inner], yd[p*inner:][:inner]
			for i, v := range xr {
				yr[i] = (v-m)*f + o
			}
		}
	}
}
