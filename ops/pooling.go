package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// MaxPool and AvgPool in NHWC, as TensorFlow's CPU kernels compute them
// (tensorflow/core/kernels/pooling_ops_common.h: SpatialMaxPool and
// SpatialAvgPool):
//
//   - MaxPool starts every output at the type's lowest finite value (not
//     -Inf) and keeps x when acc < x, so NaNs are skipped and a window of
//     -Inf gives the lowest float.
//   - AvgPool sums the in-bounds elements of each window in order and
//     divides by their count: with SAME padding, border windows average
//     fewer elements.
//
// Float32 (and 16-bit float) pools run the channel-vector kernel of cvArch
// (pool_fast.go), which folds the same windows in the same order.
//
// NCHW data is transposed to NHWC and back around these kernels (nchw.go),
// as TensorFlow's layout optimizer does on CPU.

func init() {
	Default().Register(Spec{
		Name:  "MaxPool",
		Doc:   "max pooling over spatial windows of an NHWC input",
		Infer: nchwWrapInfer(nnInferPool, "NHWC", "NHWC", []bool{true}, "strides", "ksize"),
		Build: nchwWrapBuild(nnBuildMaxPool, "NHWC", "NHWC", []bool{true}, "strides", "ksize"),
		Batch: nnBatchRuleNHWC,
	})
	Default().Register(Spec{
		Name:  "AvgPool",
		Doc:   "average pooling over spatial windows of an NHWC input, counting in-bounds elements only",
		Infer: nchwWrapInfer(nnInferPool, "NHWC", "NHWC", []bool{true}, "strides", "ksize"),
		Build: nchwWrapBuild(nnBuildAvgPool, "NHWC", "NHWC", []bool{true}, "strides", "ksize"),
		Batch: nnBatchRuleNHWC,
	})
}

// nnPoolAttrs reads ksize, strides and padding of a pool.
func nnPoolAttrs(n *Node) (nnWindowAttrs, error) {
	var a nnWindowAttrs
	if err := nnCheckNHWC(n); err != nil {
		return a, err
	}
	var err error
	if a.kH, a.kW, err = nnAttr4(n, "ksize", nil); err != nil {
		return a, err
	}
	if a.strideH, a.strideW, err = nnAttr4(n, "strides", nil); err != nil {
		return a, err
	}
	a.dilH, a.dilW = 1, 1
	return a, nnPaddingAttrs(n, &a, n.Op == "MaxPool")
}

func nnInferPool(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	a, err := nnPoolAttrs(n)
	if err != nil {
		return nil, err
	}
	x := n.Inputs[0].Shape
	if x.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	if len(x.Dims) != 4 {
		return nil, fmt.Errorf("%w: op %s: input must be rank 4, got %v", ErrShape, n.Op, x)
	}
	b := a
	b.padT, b.padB = a.padL, a.padR
	out := []int{x.Dims[0], nnWindowPartial(x.Dims[1], a.kH, 1, a.strideH, a), nnWindowPartial(x.Dims[2], a.kW, 1, a.strideW, b), x.Dims[3]}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: out}}}, nil
}

// nnPoolGeometry returns the output geometry of a pool on input shape xs.
func nnPoolGeometry(op string, a nnWindowAttrs, xs tensor.Shape) (g nnConvShape, err error) {
	if len(xs) != 4 {
		return g, fmt.Errorf("%w: op %s: input must be rank 4, got %v", ErrShape, op, xs.Clone())
	}
	return nnConvGeometry(op, a, xs, tensor.Shape{a.kH, a.kW, xs[3], 1})
}

// nnNum is the real number types of the pooling and reduction kernels.
type nnNum interface {
	~float32 | ~float64 | ~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16
}

// nnLowest returns the lowest finite value of T.
func nnLowest[T nnNum]() T {
	var z T
	var v any
	switch any(z).(type) {
	case float32:
		v = float32(-math.MaxFloat32)
	case float64:
		v = -math.MaxFloat64
	case int32:
		v = int32(math.MinInt32)
	case int64:
		v = int64(math.MinInt64)
	case int8:
		v = int8(math.MinInt8)
	case int16:
		v = int16(math.MinInt16)
	default: // unsigned
		v = z
	}
	return v.(T)
}

type nnMaxPool[T nnNum] struct {
	dt tensor.DType
	a  nnWindowAttrs
}

func nnBuildMaxPool(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	a, err := nnPoolAttrs(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferPool(n); err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &nnMaxPool[float32]{dt, a}, nil
	case tensor.Float64:
		return &nnMaxPool[float64]{dt, a}, nil
	case tensor.Int32:
		return &nnMaxPool[int32]{dt, a}, nil
	case tensor.Int64:
		return &nnMaxPool[int64]{dt, a}, nil
	case tensor.Uint8:
		return &nnMaxPool[uint8]{dt, a}, nil
	case tensor.Int8:
		return &nnMaxPool[int8]{dt, a}, nil
	case tensor.Int16:
		return &nnMaxPool[int16]{dt, a}, nil
	case tensor.Uint16:
		return &nnMaxPool[uint16]{dt, a}, nil
	}
	return nil, fmt.Errorf("%w: op MaxPool: dtype %s not supported (supported: float32, float64, float16, bfloat16, int32, int64, uint8, int8, int16, uint16)", ErrDType, dt)
}

func (kn *nnMaxPool[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if _, ok := any(T(0)).(float32); ok {
		return cvPoolRun(ctx, "MaxPool", kn.dt, kn.a, in[0], false)
	}
	lowest := nnLowest[T]()
	return nnPoolRun(ctx, "MaxPool", kn.dt, kn.a, in[0], func(acc []T) {
		for i := range acc {
			acc[i] = lowest
		}
	}, func(acc, x []T) {
		x = x[:len(acc)]
		for i, v := range x {
			if acc[i] < v {
				acc[i] = v
			}
		}
	}, nil)
}

type nnAvgPool[T float32 | float64] struct {
	dt tensor.DType
	a  nnWindowAttrs
}

func nnBuildAvgPool(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, err
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	a, err := nnPoolAttrs(n)
	if err != nil {
		return nil, err
	}
	if _, err := nnInferPool(n); err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &nnAvgPool[float32]{dt, a}, nil
	case tensor.Float64:
		return &nnAvgPool[float64]{dt, a}, nil
	}
	return nil, fmt.Errorf("%w: op AvgPool: dtype %s not supported (supported: float32, float64, float16, bfloat16)", ErrDType, dt)
}

func (kn *nnAvgPool[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if _, ok := any(T(0)).(float32); ok {
		if kn.a.kH*kn.a.kW >= nnAvgPoolWide64 {
			return nnAvgPoolF64(ctx, kn.dt, kn.a, in[0])
		}
		return cvPoolRun(ctx, "AvgPool", kn.dt, kn.a, in[0], true)
	}
	return nnPoolRun(ctx, "AvgPool", kn.dt, kn.a, in[0], func(acc []T) { clear(acc) },
		func(acc, x []T) {
			x = x[:len(acc)]
			for i, v := range x {
				acc[i] += v
			}
		}, func(acc []T, count int) {
			d := T(count)
			for i := range acc {
				acc[i] /= d
			}
		})
}

// nnPoolRun runs a pool: for each output pixel, init sets the C
// accumulators, step folds in the C channels of each in-bounds window
// position in (kh, kw) order, and finish (if not nil) sees the count of
// those positions.
func nnPoolRun[T nnNum](ctx *Ctx, op string, dt tensor.DType, a nnWindowAttrs, x *tensor.Tensor,
	init func(acc []T), step func(acc, x []T), finish func(acc []T, count int)) ([]*tensor.Tensor, error) {
	g, err := nnPoolGeometry(op, a, x.Shape())
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(dt, tensor.Shape{g.n, g.oh, g.ow, g.c})
	if err != nil {
		return nil, err
	}
	od := tensor.As[T](out)
	if len(od) == 0 {
		return []*tensor.Tensor{out}, nil
	}
	xd := tensor.As[T](x)
	rowWork := max(1, g.ow*a.kH*a.kW*g.c)
	ctx.Parallel(g.n*g.oh, max(1, nnGemmGrain/rowWork), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if (r-lo)%64 == 63 && ctx.Err() != nil {
				return
			}
			n, oh := r/g.oh, r%g.oh
			h0 := oh*a.strideH - g.padT
			h1 := min(h0+a.kH, g.h)
			h0 = max(h0, 0)
			for ow := 0; ow < g.ow; ow++ {
				w0 := ow*a.strideW - g.padL
				w1 := min(w0+a.kW, g.w)
				w0 = max(w0, 0)
				acc := od[(r*g.ow+ow)*g.c:][:g.c]
				init(acc)
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						step(acc, xd[((n*g.h+ih)*g.w+iw)*g.c:][:g.c])
					}
				}
				if finish != nil {
					finish(acc, max(0, h1-h0)*max(0, w1-w0))
				}
			}
		}
	})
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return []*tensor.Tensor{out}, nil
}
