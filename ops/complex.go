package ops

import (
	"fmt"
	"math"
	"math/cmplx"

	"github.com/tfdgo/tfd/tensor"
)

// Complex numbers (complex64, complex128): Complex, Real, Imag, Angle,
// ComplexAbs and Conj, and the complex paths of the arithmetic and unary
// ops that TensorFlow registers for complex types (Add, AddV2, Sub, Mul,
// RealDiv, Div; Neg, Square, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Sign),
// with the semantics of tensorflow/core/kernels/cwise_ops.h:
//
//   - Complex(real, imag) broadcasts its two real inputs; float32 makes
//     complex64 and float64 complex128 (attr Tout must agree);
//   - Real, Imag, Angle (atan2(imag, real)) and ComplexAbs (hypot) return
//     float32 for complex64 and float64 for complex128;
//   - Sign is x/|x| and 0 for 0 (Eigen's scalar_sign_op on complex);
//   - products and quotients are Go's complex arithmetic, which agrees
//     with std::complex to rounding (including infinities and NaN).
//
// Complex64 functions are computed in complex128 and rounded once.

func init() {
	Default().Register(Spec{
		Name:  "Complex",
		Doc:   "complex numbers real + i·imag from two real tensors, with broadcasting",
		Infer: cplxInferComplex,
		Build: cplxBuildComplex,
		Batch: BatchElementwise,
	})
	for _, u := range []struct {
		name, doc string
		part      cplxPart
	}{
		{"Real", "real parts of complex numbers", cplxReal},
		{"Imag", "imaginary parts of complex numbers", cplxImag},
		{"Angle", "arguments atan2(imag, real) of complex numbers", cplxAngle},
		{"ComplexAbs", "magnitudes of complex numbers", cplxAbs},
	} {
		part := u.part
		Default().Register(Spec{
			Name:  u.name,
			Doc:   u.doc,
			Infer: func(n *Node) ([]Value, error) { return cplxInferPart(n) },
			Build: func(n *Node) (Kernel, error) { return cplxBuildPart(n, part) },
			Batch: BatchElementwise,
		})
	}
	Default().Register(Spec{
		Name:  "Conj",
		Doc:   "complex conjugates",
		Infer: InferSameAsInput(0),
		Build: cplxBuildConj,
		Batch: BatchElementwise,
	})
}

// cplxRealOf returns the real dtype of complex dtype dt's parts.
func cplxRealOf(dt tensor.DType) tensor.DType {
	if dt == tensor.Complex128 {
		return tensor.Float64
	}
	return tensor.Float32
}

// cplxOf returns the complex dtype whose parts are real dtype dt.
func cplxOf(dt tensor.DType) tensor.DType {
	if dt == tensor.Float64 {
		return tensor.Complex128
	}
	return tensor.Complex64
}

// cplxOptType returns type attr name of n, or def when absent.
func cplxOptType(n *Node, name string, def tensor.DType) (tensor.DType, error) {
	t, ok, err := n.Attrs.Type(name)
	if err != nil {
		return tensor.Invalid, fmt.Errorf("%w: op %s: %v", ErrAttr, n.Op, err)
	}
	if !ok {
		return def, nil
	}
	return t.Base(), nil
}

// cplxComplexTypes reads Complex's input and output dtypes and checks
// that they pair up.
func cplxComplexTypes(n *Node) (in, out tensor.DType, err error) {
	if err := NeedInputs(n, 2); err != nil {
		return 0, 0, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if in, err = InputDType(n, 0, "T"); err != nil {
		return 0, 0, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if b := n.Inputs[1].DType.Base(); b != tensor.Invalid && b != in {
		return 0, 0, fmt.Errorf("%w: op %s: inputs have different dtypes %s and %s", ErrDType, n.Op, in, b)
	}
	if in != tensor.Float32 && in != tensor.Float64 {
		return 0, 0, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64)", ErrDType, n.Op, in)
	}
	if out, err = cplxOptType(n, "Tout", tensor.Complex64); err != nil {
		return 0, 0, err
	}
	if out != cplxOf(in) {
		return 0, 0, fmt.Errorf("%w: op %s: Tout %s does not fit inputs of %s (expected %s)", ErrDType, n.Op, out, in, cplxOf(in))
	}
	return in, out, nil
}

func cplxInferComplex(n *Node) ([]Value, error) {
	_, out, err := cplxComplexTypes(n)
	if err != nil {
		return nil, err
	}
	shape, err := BroadcastPartial(n.Inputs[0].Shape, n.Inputs[1].Shape)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{{DType: out, Shape: shape}}, nil
}

func cplxBuildComplex(n *Node) (Kernel, error) {
	in, out, err := cplxComplexTypes(n)
	if err != nil {
		return nil, err
	}
	if in == tensor.Float64 {
		return mathNewBin(n.Op, out, mathLoopsOf(func(re, im float64) complex128 { return complex(re, im) })), nil
	}
	return mathNewBin(n.Op, out, mathLoopsOf(func(re, im float32) complex64 { return complex(re, im) })), nil
}

// cplxPart selects what Real, Imag, Angle and ComplexAbs take.
type cplxPart int

const (
	cplxReal cplxPart = iota
	cplxImag
	cplxAngle
	cplxAbs
)

// cplxPartTypes reads the complex input dtype and the real output dtype.
func cplxPartTypes(n *Node) (in, out tensor.DType, err error) {
	if err := NeedInputs(n, 1); err != nil {
		return 0, 0, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if in, err = InputDType(n, 0, "T"); err != nil {
		return 0, 0, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if !in.IsComplex() {
		return 0, 0, fmt.Errorf("%w: op %s: dtype %s not supported (supported: complex64, complex128)", ErrDType, n.Op, in)
	}
	if out, err = cplxOptType(n, "Tout", tensor.Float32); err != nil {
		return 0, 0, err
	}
	if out != cplxRealOf(in) {
		return 0, 0, fmt.Errorf("%w: op %s: Tout %s does not fit input %s (expected %s)", ErrDType, n.Op, out, in, cplxRealOf(in))
	}
	return in, out, nil
}

func cplxInferPart(n *Node) ([]Value, error) {
	_, out, err := cplxPartTypes(n)
	if err != nil {
		return nil, err
	}
	return []Value{{DType: out, Shape: n.Inputs[0].Shape}}, nil
}

func cplxBuildPart(n *Node, part cplxPart) (Kernel, error) {
	in, out, err := cplxPartTypes(n)
	if err != nil {
		return nil, err
	}
	f := func(z complex128) float64 {
		switch part {
		case cplxReal:
			return real(z)
		case cplxImag:
			return imag(z)
		case cplxAngle:
			return math.Atan2(imag(z), real(z))
		}
		return math.Hypot(real(z), imag(z))
	}
	if in == tensor.Complex128 {
		return &cplxMap[complex128, float64]{op: n.Op, out: out, fn: f}, nil
	}
	return &cplxMap[complex64, float32]{op: n.Op, out: out, fn: func(z complex64) float32 { return float32(f(complex128(z))) }}, nil
}

func cplxBuildConj(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	switch dt {
	case tensor.Complex64:
		return &cplxMap[complex64, complex64]{op: n.Op, out: dt, fn: func(z complex64) complex64 { return complex(real(z), -imag(z)) }}, nil
	case tensor.Complex128:
		return &cplxMap[complex128, complex128]{op: n.Op, out: dt, fn: cmplx.Conj}, nil
	}
	return nil, fmt.Errorf("%w: op %s: dtype %s not supported (supported: complex64, complex128)", ErrDType, n.Op, dt)
}

// cplxMap applies fn element-wise.
type cplxMap[T, R tensor.Elem] struct {
	op  string
	out tensor.DType
	fn  func(T) R
}

func (k *cplxMap[T, R]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	d, err := mathInputs[T](k.op, in, 1)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(k.out, in[0].Shape())
	if err != nil {
		return nil, err
	}
	src, dst := d[0], tensor.As[R](out)
	ctx.Parallel(len(dst), mathGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = k.fn(src[i])
		}
	})
	return []*tensor.Tensor{out}, nil
}

// cplxBuildArith builds the complex kernel of a binary arithmetic op; ok
// is false when input 0 is not complex (the caller builds the real one).
func cplxBuildArith(n *Node, op mathArithOp) (k Kernel, ok bool, err error) {
	if len(n.Inputs) != 2 {
		return nil, false, nil
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil || !dt.IsComplex() {
		return nil, false, nil
	}
	if b := n.Inputs[1].DType.Base(); b != tensor.Invalid && b != dt {
		return nil, true, fmt.Errorf("%w: op %s: inputs have different dtypes %s and %s", ErrDType, n.Op, dt, b)
	}
	switch op {
	case mathOpAdd, mathOpSub, mathOpMul, mathOpDiv:
	default:
		return nil, true, fmt.Errorf("%w: op %s: dtype %s not supported (complex numbers are not ordered)", ErrDType, n.Op, dt)
	}
	if dt == tensor.Complex128 {
		return mathNewBin(n.Op, dt, mathLoopsOf(cplxArith[complex128](op))), true, nil
	}
	return mathNewBin(n.Op, dt, mathLoopsOf(cplxArith[complex64](op))), true, nil
}

func cplxArith[C complex64 | complex128](op mathArithOp) func(a, b C) C {
	switch op {
	case mathOpAdd:
		return func(a, b C) C { return a + b }
	case mathOpSub:
		return func(a, b C) C { return a - b }
	case mathOpMul:
		return func(a, b C) C { return a * b }
	}
	return func(a, b C) C { return a / b }
}

// cplxBuildUnary builds the complex kernel of a unary op, or fails for
// ops TensorFlow does not define on complex numbers.
func cplxBuildUnary(n *Node, dt tensor.DType, op mathUnaryOp) (Kernel, error) {
	var f func(complex128) complex128
	switch op {
	case mathUNeg:
		f = func(z complex128) complex128 { return -z }
	case mathUSquare:
		f = func(z complex128) complex128 { return z * z }
	case mathUExp:
		f = cmplx.Exp
	case mathULog:
		f = cmplx.Log
	case mathUSqrt:
		f = cmplx.Sqrt
	case mathURsqrt:
		f = func(z complex128) complex128 { return 1 / cmplx.Sqrt(z) }
	case mathUTanh:
		f = cmplx.Tanh
	case mathUSigmoid:
		f = func(z complex128) complex128 { return 1 / (1 + cmplx.Exp(-z)) }
	case mathUSign:
		f = func(z complex128) complex128 {
			if z == 0 {
				return 0
			}
			return z / complex(cmplx.Abs(z), 0)
		}
	default:
		return nil, fmt.Errorf("%w: op %s: dtype %s not supported", ErrDType, n.Op, dt)
	}
	if dt == tensor.Complex128 {
		return &cplxMap[complex128, complex128]{op: n.Op, out: dt, fn: f}, nil
	}
	return &cplxMap[complex64, complex64]{op: n.Op, out: dt, fn: func(z complex64) complex64 { return complex64(f(complex128(z))) }}, nil
}

// cplxBuildCast returns the Cast kernel between src and dst when either is
// complex (tensorflow/core/kernels/cast_op.h): a real or bool value x
// becomes complex(x, 0) (x first cast to the complex type's part type); a
// complex value cast to a real, integer or bool type casts its real part
// and drops the imaginary one, as NumPy does; complex64 and complex128
// convert part by part.
func cplxBuildCast(op string, src, dst tensor.DType) (Kernel, error) {
	switch {
	case src == tensor.Complex64 && dst == tensor.Complex128:
		return &cplxMap[complex64, complex128]{op: op, out: dst, fn: func(z complex64) complex128 { return complex128(z) }}, nil
	case src == tensor.Complex128 && dst == tensor.Complex64:
		return &cplxMap[complex128, complex64]{op: op, out: dst, fn: func(z complex128) complex64 { return complex64(z) }}, nil
	case src.IsComplex():
		part := cplxRealOf(src)
		var re Kernel
		if src == tensor.Complex128 {
			re = &cplxMap[complex128, float64]{op: op, out: part, fn: func(z complex128) float64 { return real(z) }}
		} else {
			re = &cplxMap[complex64, float32]{op: op, out: part, fn: func(z complex64) float32 { return real(z) }}
		}
		if dst == part {
			return re, nil
		}
		k, err := mathCastKernelFor(op, part, dst)
		if err != nil {
			return nil, err
		}
		return kernelChain{re, k}, nil
	}
	part := cplxRealOf(dst)
	var mk Kernel
	if dst == tensor.Complex128 {
		mk = &cplxMap[float64, complex128]{op: op, out: dst, fn: func(x float64) complex128 { return complex(x, 0) }}
	} else {
		mk = &cplxMap[float32, complex64]{op: op, out: dst, fn: func(x float32) complex64 { return complex(x, 0) }}
	}
	if src == part {
		return mk, nil
	}
	k, err := mathCastKernelFor(op, src, part)
	if err != nil {
		return nil, err
	}
	return kernelChain{k, mk}, nil
}

// kernelChain runs kernels one after the other, each on the previous one's
// output, releasing the intermediate results.
type kernelChain []Kernel

func (c kernelChain) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	cur := in
	for i, k := range c {
		out, err := k.Run(ctx, cur)
		if i > 0 {
			for _, t := range cur {
				t.Release()
			}
		}
		if err != nil {
			return nil, err
		}
		cur = out
	}
	return cur, nil
}
