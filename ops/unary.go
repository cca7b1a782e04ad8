package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// Unary element-wise ops: activations (Relu, Relu6, Elu, Selu, LeakyRelu,
// Sigmoid, Tanh, Softplus) and math (Exp, Log, Sqrt, Rsqrt, Square, Neg,
// Abs, Erf, Floor, Ceil, Round, Sign).
//
// Semantics follow tensorflow/core/kernels/cwise_ops.h, relu_op_functor.h
// and softplus_op.h:
//   - Relu is std::max(x, 0) and Relu6 std::min(std::max(x, 0), 6): NaN
//     stays NaN and -0 stays -0;
//   - Elu is x < 0 ? exp(x)-1 : x; Selu scales it (scale 1.0507009873554805,
//     alpha 1.6732632423543772); LeakyRelu is x > 0 ? x : alpha*x;
//   - Softplus switches at log(epsilon)+2 as TF does: x itself above
//     -threshold, exp(x) below threshold, log1p(exp(x)) between;
//   - Round rounds half to even (-0.5 gives -0); Sign gives ±1, +0 for ±0
//     and NaN for NaN (Eigen's scalar_sign_op);
//   - on integers, Neg, Abs and Square wrap around (Abs(MinInt32) is
//     MinInt32) and Round is the identity.
//
// Float32 Exp, Log, Sigmoid, Tanh, Erf, Elu, Selu and Softplus run the
// vectorized kernels of vmath.go (polynomial approximations within a few
// float32 ulp; the measured errors are in bench/README.md); the other
// float32 functions are computed in float64 and rounded once. Float64
// uses the math package throughout. Relu, Relu6 and LeakyRelu select on
// the IEEE bit patterns, so their loops have no branches.

func init() {
	unary := []struct {
		name, doc string
		op        mathUnaryOp
		ints      bool // also defined on integers
	}{
		{"Relu", "max(x, 0) element-wise", mathURelu, true},
		{"Relu6", "min(max(x, 0), 6) element-wise", mathURelu6, true},
		{"Elu", "x < 0 ? exp(x) - 1 : x element-wise", mathUElu, false},
		{"Selu", "scale * (x < 0 ? alpha * (exp(x) - 1) : x) element-wise", mathUSelu, false},
		{"LeakyRelu", "x > 0 ? x : alpha * x element-wise (attr alpha, default 0.2)", mathULeakyRelu, false},
		{"Sigmoid", "1 / (1 + exp(-x)) element-wise", mathUSigmoid, false},
		{"Tanh", "tanh(x) element-wise", mathUTanh, false},
		{"Softplus", "log(1 + exp(x)) element-wise, computed stably", mathUSoftplus, false},
		{"Exp", "e^x element-wise", mathUExp, false},
		{"Log", "natural logarithm element-wise", mathULog, false},
		{"Sqrt", "square root element-wise", mathUSqrt, false},
		{"Rsqrt", "1 / sqrt(x) element-wise", mathURsqrt, false},
		{"Square", "x * x element-wise", mathUSquare, true},
		{"Neg", "-x element-wise", mathUNeg, true},
		{"Abs", "|x| element-wise", mathUAbs, true},
		{"Erf", "Gauss error function element-wise", mathUErf, false},
		{"Floor", "largest integer not greater than x, element-wise", mathUFloor, false},
		{"Ceil", "smallest integer not less than x, element-wise", mathUCeil, false},
		{"Round", "x rounded to the nearest integer, half to even, element-wise", mathURound, true},
		{"Sign", "-1, 0 or 1 by the sign of x (NaN for NaN), element-wise", mathUSign, true},
	}
	for _, u := range unary {
		set := mathFloatTypes
		if u.ints {
			set = mathNumTypes
		}
		Default().Register(Spec{
			Name:  u.name,
			Doc:   u.doc,
			Infer: InferSameAsInput(0),
			Build: mathBuildUnary(u.op, set),
			Batch: BatchElementwise,
		})
	}
}

// mathUnaryOp selects a unary loop.
type mathUnaryOp int

const (
	mathURelu mathUnaryOp = iota
	mathURelu6
	mathUElu
	mathUSelu
	mathULeakyRelu
	mathUSigmoid
	mathUTanh
	mathUSoftplus
	mathUExp
	mathULog
	mathUSqrt
	mathURsqrt
	mathUSquare
	mathUNeg
	mathUAbs
	mathUErf
	mathUFloor
	mathUCeil
	mathURound
	mathUSign
)

// SELU constants (tensorflow/core/kernels/relu_op_functor.h).
const (
	mathSeluScale      = 1.0507009873554804934193349852946
	mathSeluScaleAlpha = 1.7580993408473768599402175208123
)

// mathUnaryKernel applies fn to its single input, split over ctx.Parallel.
type mathUnaryKernel[T tensor.Elem] struct {
	op    string
	dt    tensor.DType
	fn    func(d, s []T)
	round func([]float32)
}

func (k *mathUnaryKernel[T]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	var buf [1][]T
	d, err := mathInputsTo(buf[:], k.op, in)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(k.dt, in[0].Shape())
	if err != nil {
		return nil, err
	}
	src, dst := d[0], tensor.As[T](out)
	ParallelJob(ctx, len(dst), mathGrain, mathUnaryJob[T]{fn: k.fn, round: k.round, dst: dst, src: src})
	return ctx.Out(out), nil
}

// mathUnaryJob applies a unary kernel's loop to elements [lo, hi).
type mathUnaryJob[T tensor.Elem] struct {
	fn       func(d, s []T)
	round    func([]float32)
	dst, src []T
}

func (j *mathUnaryJob[T]) Chunk(lo, hi int) {
	j.fn(j.dst[lo:hi], j.src[lo:hi])
	if j.round != nil {
		j.round(any(j.dst[lo:hi]).([]float32))
	}
}

func mathBuildUnary(op mathUnaryOp, set []tensor.DType) BuildFunc {
	return func(n *Node) (Kernel, error) {
		if err := NeedInputs(n, 1); err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		dt, err := InputDType(n, 0, "T")
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		if dt.IsComplex() {
			return cplxBuildUnary(n, dt, op)
		}
		if !mathHasType(set, dt) {
			return nil, mathUnsupported(n.Op, dt, set)
		}
		alpha := 0.0
		if op == mathULeakyRelu {
			a, err := AttrFloat(n, "alpha", 0.2)
			if err != nil {
				return nil, fmt.Errorf("op %s: %w", n.Op, err)
			}
			alpha = float64(a)
		}
		switch dt {
		case tensor.Float32, tensor.Half, tensor.BFloat16:
			return mathFloatUnary[float32](n.Op, dt, op, float32(alpha), 23), nil
		case tensor.Float64:
			return mathFloatUnary[float64](n.Op, dt, op, alpha, 52), nil
		case tensor.Int32:
			return mathIntUnary[int32](n.Op, dt, op), nil
		case tensor.Int64:
			return mathIntUnary[int64](n.Op, dt, op), nil
		case tensor.Uint8:
			return mathIntUnary[uint8](n.Op, dt, op), nil
		case tensor.Int8:
			return mathIntUnary[int8](n.Op, dt, op), nil
		case tensor.Int16:
			return mathIntUnary[int16](n.Op, dt, op), nil
		case tensor.Uint16:
			return mathIntUnary[uint16](n.Op, dt, op), nil
		}
		return nil, mathUnsupported(n.Op, dt, set)
	}
}

// mathFloatUnary builds a float kernel; mantBits (23 or 52) sets Softplus's
// threshold log(epsilon)+2 and tells float32 (which runs the vmath
// kernels where there are some) from float64.
func mathFloatUnary[T tensor.Float](name string, dt tensor.DType, op mathUnaryOp, alpha T, mantBits int) Kernel {
	k := &mathUnaryKernel[T]{op: name, dt: dt, round: mathRounder(dt)}
	if fn := mathBitsUnary[T](op, alpha); fn != nil {
		k.fn = fn
		return k
	}
	if mantBits == 23 {
		if fn := vmathUnaryFn(op); fn != nil {
			k.fn = any(fn).(func(d, s []T))
			return k
		}
	}
	th := -float64(mantBits)*math.Ln2 + 2
	k.fn = func(d, s []T) { mathUnaryFloatLoop(op, d, s, th) }
	return k
}

// mathBitsUnary returns branch-free loops for the piecewise-linear
// activations, which work on the IEEE bit patterns so that the compiler
// emits conditional moves instead of branches that random signs defeat.
// It returns nil for other ops.
func mathBitsUnary[T tensor.Float](op mathUnaryOp, alpha T) func(d, s []T) {
	var fn any
	switch any(alpha).(type) {
	case float32:
		a := float32(alpha)
		switch op {
		case mathURelu:
			fn = func(d, s []float32) { mathReluBits32(d, s, false) }
		case mathURelu6:
			fn = func(d, s []float32) { mathReluBits32(d, s, true) }
		case mathULeakyRelu:
			fn = func(d, s []float32) { mathLeakyBits32(d, s, a) }
		}
	case float64:
		a := float64(alpha)
		switch op {
		case mathURelu:
			fn = func(d, s []float64) { mathReluBits64(d, s, false) }
		case mathURelu6:
			fn = func(d, s []float64) { mathReluBits64(d, s, true) }
		case mathULeakyRelu:
			fn = func(d, s []float64) { mathLeakyBits64(d, s, a) }
		}
	}
	if fn == nil {
		return nil
	}
	return fn.(func(d, s []T))
}

// mathReluBits32 is Relu (or Relu6 when six) on float32 bit patterns:
// x < 0 ⟺ bits in [0x80000001, 0xff800000] (negative, non-zero, not NaN);
// x > 6 ⟺ bits in [0x40c00001, 0x7f800000].
func mathReluBits32(d, s []float32, six bool) {
	s = s[:len(d)]
	if six {
		for i := range d {
			b := math.Float32bits(s[i])
			if b-0x80000001 <= 0xff800000-0x80000001 {
				b = 0
			}
			if b-0x40c00001 <= 0x7f800000-0x40c00001 {
				b = 0x40c00000
			}
			d[i] = math.Float32frombits(b)
		}
		return
	}
	for i := range d {
		b := math.Float32bits(s[i])
		if b-0x80000001 <= 0xff800000-0x80000001 {
			b = 0
		}
		d[i] = math.Float32frombits(b)
	}
}

// mathReluBits64 is mathReluBits32 for float64.
func mathReluBits64(d, s []float64, six bool) {
	const (
		negLo  = 0x8000000000000001
		negHi  = 0xfff0000000000000
		sixB   = 0x4018000000000000
		posInf = 0x7ff0000000000000
	)
	s = s[:len(d)]
	for i := range d {
		b := math.Float64bits(s[i])
		if b-negLo <= negHi-negLo {
			b = 0
		}
		if six && b-(sixB+1) <= posInf-(sixB+1) {
			b = sixB
		}
		d[i] = math.Float64frombits(b)
	}
}

// mathLeakyBits32 is x > 0 ? x : x*alpha; x > 0 ⟺ bits in [1, 0x7f800000].
func mathLeakyBits32(d, s []float32, alpha float32) {
	s = s[:len(d)]
	for i := range d {
		x := s[i]
		b := math.Float32bits(x)
		r := math.Float32bits(x * alpha)
		if b-1 <= 0x7f800000-1 {
			r = b
		}
		d[i] = math.Float32frombits(r)
	}
}

// mathLeakyBits64 is mathLeakyBits32 for float64.
func mathLeakyBits64(d, s []float64, alpha float64) {
	s = s[:len(d)]
	for i := range d {
		x := s[i]
		b := math.Float64bits(x)
		r := math.Float64bits(x * alpha)
		if b-1 <= 0x7ff0000000000000-1 {
			r = b
		}
		d[i] = math.Float64frombits(r)
	}
}

func mathIntUnary[T tensor.Integer](name string, dt tensor.DType, op mathUnaryOp) Kernel {
	return &mathUnaryKernel[T]{op: name, dt: dt, fn: func(d, s []T) { mathUnaryIntLoop(op, d, s) }}
}

func mathUnaryIntLoop[T tensor.Integer](op mathUnaryOp, d, s []T) {
	s = s[:len(d)]
	switch op {
	case mathURelu:
		for i := range d {
			x := s[i]
			if x < 0 {
				x = 0
			}
			d[i] = x
		}
	case mathURelu6:
		for i := range d {
			x := s[i]
			if x < 0 {
				x = 0
			}
			if 6 < x {
				x = 6
			}
			d[i] = x
		}
	case mathUSquare:
		for i := range d {
			d[i] = s[i] * s[i]
		}
	case mathUNeg:
		for i := range d {
			d[i] = -s[i]
		}
	case mathUAbs:
		for i := range d {
			x := s[i]
			if x < 0 {
				x = -x
			}
			d[i] = x
		}
	case mathURound:
		copy(d, s)
	case mathUSign:
		one := T(1)
		for i := range d {
			x := s[i]
			switch {
			case x > 0:
				d[i] = 1
			case x < 0:
				d[i] = -one // only reached for signed types
			default:
				d[i] = 0
			}
		}
	default:
		panic(fmt.Sprintf("ops: mathUnaryIntLoop: op %d not defined on integers", op))
	}
}

// mathUnaryFloatLoop computes the float ops other than the piecewise-linear
// ones (see mathBitsUnary) and, for float32, other than those of
// vmathUnaryFn.
func mathUnaryFloatLoop[T tensor.Float](op mathUnaryOp, d, s []T, th float64) {
	s = s[:len(d)]
	switch op {
	case mathUElu:
		for i := range d {
			if x := s[i]; x < 0 {
				d[i] = T(math.Expm1(float64(x)))
			} else {
				d[i] = x
			}
		}
	case mathUSelu:
		for i := range d {
			if x := float64(s[i]); x < 0 {
				d[i] = T(mathSeluScaleAlpha * math.Expm1(x))
			} else {
				d[i] = T(mathSeluScale * x)
			}
		}
	case mathUSigmoid:
		for i := range d {
			d[i] = T(1 / (1 + math.Exp(-float64(s[i]))))
		}
	case mathUTanh:
		for i := range d {
			d[i] = T(math.Tanh(float64(s[i])))
		}
	case mathUSoftplus:
		for i := range d {
			x := float64(s[i])
			switch {
			case x > -th:
				d[i] = s[i]
			case x < th:
				d[i] = T(math.Exp(x))
			default:
				d[i] = T(math.Log1p(math.Exp(x)))
			}
		}
	case mathUExp:
		for i := range d {
			d[i] = T(math.Exp(float64(s[i])))
		}
	case mathULog:
		for i := range d {
			d[i] = T(math.Log(float64(s[i])))
		}
	case mathUSqrt:
		for i := range d {
			d[i] = T(math.Sqrt(float64(s[i])))
		}
	case mathURsqrt:
		for i := range d {
			d[i] = T(1 / math.Sqrt(float64(s[i])))
		}
	case mathUSquare:
		for i := range d {
			d[i] = s[i] * s[i]
		}
	case mathUNeg:
		for i := range d {
			d[i] = -s[i]
		}
	case mathUAbs:
		for i := range d {
			d[i] = T(math.Abs(float64(s[i])))
		}
	case mathUErf:
		for i := range d {
			d[i] = T(math.Erf(float64(s[i])))
		}
	case mathUFloor:
		for i := range d {
			d[i] = T(math.Floor(float64(s[i])))
		}
	case mathUCeil:
		for i := range d {
			d[i] = T(math.Ceil(float64(s[i])))
		}
	case mathURound:
		for i := range d {
			d[i] = T(math.RoundToEven(float64(s[i])))
		}
	case mathUSign:
		for i := range d {
			x := s[i]
			switch {
			case x > 0:
				d[i] = 1
			case x < 0:
				d[i] = -1
			case x == 0:
				d[i] = 0
			default:
				d[i] = x // NaN
			}
		}
	}
}
