package ops

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tfdgo/tfd/tensor"
)

// Binary arithmetic with NumPy broadcasting: Add, AddV2, Sub, Mul, RealDiv,
// Div, FloorDiv, FloorMod, Maximum, Minimum, Pow, SquaredDifference.
//
// Semantics follow tensorflow/core/kernels/cwise_ops.h and the
// cwise_op_*.cc registrations:
//   - integers wrap around on overflow, as C++ does in practice;
//   - Div on integers truncates toward zero (functor::safe_div), FloorDiv
//     rounds toward -inf (google_floor_div), FloorMod takes the sign of the
//     divisor (google_floor_mod, google_floor_fmod for floats); integer
//     division or modulo by zero is an error, never a crash;
//   - Maximum and Minimum propagate NaN (scalar_max_op with PropagateNaN)
//     and otherwise behave as std::max and std::min;
//   - Pow on integers with a negative exponent is an error (safe_pow).
//
// Half and BFloat16 tensors hold float32 values; results are rounded back
// to the 16-bit format after each op, as TensorFlow does.

func init() {
	arith := []struct {
		name, doc string
		op        mathArithOp
		types     []tensor.DType
	}{
		{"Add", "x + y element-wise, with broadcasting", mathOpAdd, mathNumTypes},
		{"AddV2", "x + y element-wise, with broadcasting", mathOpAdd, mathNumTypes},
		{"Sub", "x - y element-wise, with broadcasting", mathOpSub, mathNumTypes},
		{"Mul", "x * y element-wise, with broadcasting", mathOpMul, mathNumTypes},
		{"RealDiv", "x / y element-wise for floats, with broadcasting", mathOpDiv, mathFloatTypes},
		{"Maximum", "max(x, y) element-wise, NaN-propagating, with broadcasting", mathOpMax, mathNumTypes},
		{"Minimum", "min(x, y) element-wise, NaN-propagating, with broadcasting", mathOpMin, mathNumTypes},
		{"SquaredDifference", "(x - y)^2 element-wise, with broadcasting", mathOpSqDiff, mathNumTypes},
	}
	for _, a := range arith {
		Default().Register(Spec{
			Name:  a.name,
			Doc:   a.doc,
			Infer: mathInferBinary(false),
			Build: mathBuildArith(a.op, a.types),
			Batch: BatchElementwise,
		})
	}
	Default().Register(Spec{
		Name:  "Div",
		Doc:   "x / y element-wise; integer division truncates toward zero; with broadcasting",
		Infer: mathInferBinary(false),
		Build: mathBuildDiv,
		Batch: BatchElementwise,
	})
	Default().Register(Spec{
		Name:  "FloorDiv",
		Doc:   "floor(x / y) element-wise, with broadcasting",
		Infer: mathInferBinary(false),
		Build: mathBuildFloorDiv,
		Batch: BatchElementwise,
	})
	Default().Register(Spec{
		Name:  "FloorMod",
		Doc:   "x - floor(x / y) * y element-wise (sign of the divisor), with broadcasting",
		Infer: mathInferBinary(false),
		Build: mathBuildFloorMod,
		Batch: BatchElementwise,
	})
	Default().Register(Spec{
		Name:  "Pow",
		Doc:   "x ^ y element-wise, with broadcasting",
		Infer: mathInferBinary(false),
		Build: mathBuildPow,
		Batch: BatchElementwise,
	})
}

// Dtype sets, for validation and messages.
var (
	mathFloatTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Half, tensor.BFloat16}
	mathIntTypes   = []tensor.DType{tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Int8, tensor.Int16, tensor.Uint16}
	mathNumTypes   = append(append([]tensor.DType(nil), mathFloatTypes...), mathIntTypes...)
)

func mathHasType(set []tensor.DType, dt tensor.DType) bool {
	for _, d := range set {
		if d == dt {
			return true
		}
	}
	return false
}

func mathUnsupported(op string, dt tensor.DType, set []tensor.DType) error {
	return fmt.Errorf("%w: op %s: dtype %s not supported (supported: %s)", ErrDType, op, dt, mathTypeList(set))
}

func mathTypeList(set []tensor.DType) string {
	names := make([]string, len(set))
	for i, d := range set {
		names[i] = d.String()
	}
	return strings.Join(names, ", ")
}

// mathBinaryDType checks that n has two inputs of one dtype and returns it.
func mathBinaryDType(n *Node, set []tensor.DType) (tensor.DType, error) {
	if err := NeedInputs(n, 2); err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if b := n.Inputs[1].DType.Base(); b != tensor.Invalid && b != dt {
		return tensor.Invalid, fmt.Errorf("%w: op %s: inputs have different dtypes %s and %s", ErrDType, n.Op, dt, b)
	}
	if !mathHasType(set, dt) {
		return tensor.Invalid, mathUnsupported(n.Op, dt, set)
	}
	return dt, nil
}

// mathInferBinary infers a broadcasting binary op: the dtype of input 0
// (bool for comparisons) and the broadcast of both shapes.
func mathInferBinary(boolOut bool) InferFunc {
	return func(n *Node) ([]Value, error) {
		if err := NeedInputs(n, 2); err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		dt := tensor.Bool
		if !boolOut {
			var err error
			if dt, err = InputDType(n, 0, "T"); err != nil {
				return nil, fmt.Errorf("op %s: %w", n.Op, err)
			}
		}
		shape, err := BroadcastPartial(n.Inputs[0].Shape, n.Inputs[1].Shape)
		if err != nil {
			if boolOut && !mathIncompatibleShapeError(n) {
				return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
			}
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		return []Value{{DType: dt, Shape: shape}}, nil
	}
}

// mathIncompatibleShapeError reads Equal/NotEqual's attr of that name
// (default true); other ops always fail on incompatible shapes.
func mathIncompatibleShapeError(n *Node) bool {
	v, err := AttrBool(n, "incompatible_shape_error", true)
	return err != nil || v
}

// mathBinKernel is a built broadcasting binary op.
type mathBinKernel[T, R tensor.Elem] struct {
	op    string
	outDT tensor.DType
	lp    mathBinLoops[T, R]
	// check validates the right operand before anything is computed
	// (integer division by zero, negative integer exponents).
	check func(b []T) error
	// round re-rounds float32 results to Half or BFloat16; nil otherwise.
	round func([]float32)
	// onMismatch, when set, is the scalar result for inputs that do not
	// broadcast (Equal/NotEqual with incompatible_shape_error=false).
	onMismatch *R
}

func mathNewBin[T, R tensor.Elem](op string, outDT tensor.DType, lp mathBinLoops[T, R]) *mathBinKernel[T, R] {
	return &mathBinKernel[T, R]{op: op, outDT: outDT, lp: lp, round: mathRounder(outDT)}
}

// mathInputs returns the data of in as []T, checking count and storage.
func mathInputs[T tensor.Elem](op string, in []*tensor.Tensor, k int) ([][]T, error) {
	if len(in) != k {
		return nil, fmt.Errorf("%w: op %s: expected %d inputs, got %d", ErrShape, op, k, len(in))
	}
	return mathInputsTo(make([][]T, k), op, in)
}

// mathInputsTo is mathInputs into out, which holds one slot per input:
// with out an array of the caller's, it allocates nothing.
func mathInputsTo[T tensor.Elem](out [][]T, op string, in []*tensor.Tensor) ([][]T, error) {
	if len(in) != len(out) {
		return nil, fmt.Errorf("%w: op %s: expected %d inputs, got %d", ErrShape, op, len(out), len(in))
	}
	for i, t := range in {
		s, ok := t.Data().([]T)
		if !ok {
			return nil, fmt.Errorf("%w: op %s: input %d is %s, expected %s", ErrDType, op, i, t.DType(), tensor.DTypeOf[T]())
		}
		out[i] = s
	}
	return out, nil
}

func (k *mathBinKernel[T, R]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	var buf [2][]T
	d, err := mathInputsTo(buf[:], k.op, in)
	if err != nil {
		return nil, err
	}
	bc := Keep[mathBcast](ctx)
	if err := bc.init(k.op, in[0].Shape(), in[1].Shape()); err != nil {
		if k.onMismatch != nil {
			out, aerr := ctx.Alloc(k.outDT, tensor.Shape{})
			if aerr != nil {
				return nil, aerr
			}
			tensor.As[R](out)[0] = *k.onMismatch
			return ctx.Out(out), nil
		}
		return nil, err
	}
	if k.check != nil && bc.n > 0 {
		if err := k.check(d[1]); err != nil {
			return nil, err
		}
	}
	out, err := ctx.Alloc(k.outDT, bc.out)
	if err != nil {
		return nil, err
	}
	dst := tensor.As[R](out)
	mathBinaryApply(ctx, &k.lp, bc, dst, d[0], d[1])
	if k.round != nil {
		k.round(any(dst).([]float32))
	}
	return ctx.Out(out), nil
}

// mathArithOp selects one of the cheap arithmetic loops.
type mathArithOp int

const (
	mathOpAdd mathArithOp = iota
	mathOpSub
	mathOpMul
	mathOpDiv // floats only: integer division needs a zero check
	mathOpMax
	mathOpMin
	mathOpSqDiff
)

func mathBuildArith(op mathArithOp, set []tensor.DType) BuildFunc {
	return func(n *Node) (Kernel, error) {
		if k, ok, err := cplxBuildArith(n, op); ok {
			return k, err
		}
		dt, err := mathBinaryDType(n, set)
		if err != nil {
			return nil, err
		}
		return mathArithKernel(n.Op, dt, op), nil
	}
}

func mathArithKernel(name string, dt tensor.DType, op mathArithOp) Kernel {
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return mathNewBin(name, dt, mathArithLoops[float32](op))
	case tensor.Float64:
		return mathNewBin(name, dt, mathArithLoops[float64](op))
	case tensor.Int32:
		return mathNewBin(name, dt, mathArithLoops[int32](op))
	case tensor.Int64:
		return mathNewBin(name, dt, mathArithLoops[int64](op))
	case tensor.Uint8:
		return mathNewBin(name, dt, mathArithLoops[uint8](op))
	case tensor.Int8:
		return mathNewBin(name, dt, mathArithLoops[int8](op))
	case tensor.Int16:
		return mathNewBin(name, dt, mathArithLoops[int16](op))
	case tensor.Uint16:
		return mathNewBin(name, dt, mathArithLoops[uint16](op))
	}
	panic("ops: mathArithKernel: dtype not validated: " + dt.String())
}

func mathArithLoops[T tensor.Number](op mathArithOp) mathBinLoops[T, T] {
	if lp, ok := vmathArithLoops[T](op); ok {
		return lp // float32: the vectorized loops of vmath.go
	}
	return mathArithLoopsGo[T](op)
}

// mathArithLoopsGo returns the Go loops of op.
func mathArithLoopsGo[T tensor.Number](op mathArithOp) mathBinLoops[T, T] {
	if op == mathOpMax || op == mathOpMin {
		if lp, ok := mathFloatMinMax[T](op == mathOpMin); ok {
			return lp
		}
	}
	return mathBinLoops[T, T]{
		vv: func(d, a, b []T) { mathArithVV(op, d, a, b) },
		vs: func(d, a []T, b T) { mathArithVS(op, d, a, b) },
		sv: func(d []T, a T, b []T) { mathArithSV(op, d, a, b) },
	}
}

// mathMax and mathMin serve the integer types; floats take mathMinMax32/64,
// which also order signed zeros and NaN as TensorFlow does.
func mathMax[T tensor.Number](a, b T) T { return max(a, b) }

func mathMin[T tensor.Number](a, b T) T { return min(a, b) }

// mathFloatMinMax returns the Maximum or Minimum loops of float32 and
// float64; ok is false for other types.
func mathFloatMinMax[T tensor.Number](isMin bool) (lp mathBinLoops[T, T], ok bool) {
	var l any
	switch any(T(0)).(type) {
	case float32:
		l = mathBinLoops[float32, float32]{
			vv: func(d, a, b []float32) { mathMinMax32(d, a, b, 1, 1, isMin) },
			vs: func(d, a []float32, b float32) { mathMinMax32(d, a, []float32{b}, 1, 0, isMin) },
			sv: func(d []float32, a float32, b []float32) { mathMinMax32(d, []float32{a}, b, 0, 1, isMin) },
		}
	case float64:
		l = mathBinLoops[float64, float64]{
			vv: func(d, a, b []float64) { mathMinMax64(d, a, b, 1, 1, isMin) },
			vs: func(d, a []float64, b float64) { mathMinMax64(d, a, []float64{b}, 1, 0, isMin) },
			sv: func(d []float64, a float64, b []float64) { mathMinMax64(d, []float64{a}, b, 0, 1, isMin) },
		}
	default:
		return lp, false
	}
	return l.(mathBinLoops[T, T]), true
}

// mathMinMax32 computes d[i] = max(a[i*sa], b[i*sb]) (min when isMin) with
// the semantics of Eigen's scalar_max_op<PropagateNaN>: NaN if either is
// NaN, else std::max, which returns its first operand when the two compare
// equal. Go's max already propagates NaN; it differs from std::max only on
// max(-0, +0) (and min(+0, -0)), which is patched on the bit patterns so
// that the loop has no data-dependent branch.
func mathMinMax32(d, a, b []float32, sa, sb int, isMin bool) {
	ia, ib := 0, 0
	if isMin {
		for i := range d {
			x, y := a[ia], b[ib]
			r := math.Float32bits(min(x, y))
			if math.Float32bits(x)|(math.Float32bits(y)^0x80000000) == 0 {
				r = 0 // std::min(+0, -0) is +0
			}
			d[i] = math.Float32frombits(r)
			ia += sa
			ib += sb
		}
		return
	}
	for i := range d {
		x, y := a[ia], b[ib]
		r := math.Float32bits(max(x, y))
		if (math.Float32bits(x)^0x80000000)|math.Float32bits(y) == 0 {
			r = 0x80000000 // std::max(-0, +0) is -0
		}
		d[i] = math.Float32frombits(r)
		ia += sa
		ib += sb
	}
}

// mathMinMax64 is mathMinMax32 for float64.
func mathMinMax64(d, a, b []float64, sa, sb int, isMin bool) {
	const sign = 0x8000000000000000
	ia, ib := 0, 0
	if isMin {
		for i := range d {
			x, y := a[ia], b[ib]
			r := math.Float64bits(min(x, y))
			if math.Float64bits(x)|(math.Float64bits(y)^sign) == 0 {
				r = 0
			}
			d[i] = math.Float64frombits(r)
			ia += sa
			ib += sb
		}
		return
	}
	for i := range d {
		x, y := a[ia], b[ib]
		r := math.Float64bits(max(x, y))
		if (math.Float64bits(x)^sign)|math.Float64bits(y) == 0 {
			r = sign
		}
		d[i] = math.Float64frombits(r)
		ia += sa
		ib += sb
	}
}

func mathArithVV[T tensor.Number](op mathArithOp, d, a, b []T) {
	a, b = a[:len(d)], b[:len(d)]
	switch op {
	case mathOpAdd:
		for i := range d {
			d[i] = a[i] + b[i]
		}
	case mathOpSub:
		for i := range d {
			d[i] = a[i] - b[i]
		}
	case mathOpMul:
		for i := range d {
			d[i] = a[i] * b[i]
		}
	case mathOpDiv:
		for i := range d {
			d[i] = a[i] / b[i]
		}
	case mathOpMax:
		for i := range d {
			d[i] = mathMax(a[i], b[i])
		}
	case mathOpMin:
		for i := range d {
			d[i] = mathMin(a[i], b[i])
		}
	case mathOpSqDiff:
		for i := range d {
			x := a[i] - b[i]
			d[i] = x * x
		}
	}
}

func mathArithVS[T tensor.Number](op mathArithOp, d, a []T, b T) {
	a = a[:len(d)]
	switch op {
	case mathOpAdd:
		for i := range d {
			d[i] = a[i] + b
		}
	case mathOpSub:
		for i := range d {
			d[i] = a[i] - b
		}
	case mathOpMul:
		for i := range d {
			d[i] = a[i] * b
		}
	case mathOpDiv:
		for i := range d {
			d[i] = a[i] / b
		}
	case mathOpMax:
		for i := range d {
			d[i] = mathMax(a[i], b)
		}
	case mathOpMin:
		for i := range d {
			d[i] = mathMin(a[i], b)
		}
	case mathOpSqDiff:
		for i := range d {
			x := a[i] - b
			d[i] = x * x
		}
	}
}

func mathArithSV[T tensor.Number](op mathArithOp, d []T, a T, b []T) {
	b = b[:len(d)]
	switch op {
	case mathOpAdd:
		for i := range d {
			d[i] = a + b[i]
		}
	case mathOpSub:
		for i := range d {
			d[i] = a - b[i]
		}
	case mathOpMul:
		for i := range d {
			d[i] = a * b[i]
		}
	case mathOpDiv:
		for i := range d {
			d[i] = a / b[i]
		}
	case mathOpMax:
		for i := range d {
			d[i] = mathMax(a, b[i])
		}
	case mathOpMin:
		for i := range d {
			d[i] = mathMin(a, b[i])
		}
	case mathOpSqDiff:
		for i := range d {
			x := a - b[i]
			d[i] = x * x
		}
	}
}

// Integer division, floor division, floor modulo and power.

// mathIntOp selects an integer op that needs a per-element function.
type mathIntOp int

const (
	mathIntDiv mathIntOp = iota
	mathIntFloorDiv
	mathIntFloorMod
	mathIntPow
)

var errMathDivZero = errors.New("integer division by zero")

func mathCheckNonZero[T tensor.Integer](op string) func(b []T) error {
	return func(b []T) error {
		for _, v := range b {
			if v == 0 {
				return fmt.Errorf("op %s: %w", op, errMathDivZero)
			}
		}
		return nil
	}
}

func mathCheckNonNegative[T tensor.Integer](op string) func(b []T) error {
	return func(b []T) error {
		for _, v := range b {
			if v < 0 {
				return fmt.Errorf("op %s: integers to negative integer powers are not allowed (exponent %d)", op, v)
			}
		}
		return nil
	}
}

// mathFloorDivInt rounds the quotient toward -inf. The divisor is non-zero.
func mathFloorDivInt[T tensor.Integer](x, y T) T {
	q := x / y
	if x%y != 0 && (x < 0) != (y < 0) {
		q--
	}
	return q
}

// mathFloorModInt returns x - floor(x/y)*y, which has the sign of y.
func mathFloorModInt[T tensor.Integer](x, y T) T {
	r := x % y
	if r != 0 && (y < 0) != (r < 0) {
		r += y
	}
	return r
}

// mathPowInt computes x^y by squaring, wrapping on overflow; y ≥ 0.
func mathPowInt[T tensor.Integer](x, y T) T {
	r := T(1)
	for y > 0 {
		if y&1 != 0 {
			r *= x
		}
		x *= x
		y >>= 1
	}
	return r
}

func mathIntKernel[T tensor.Integer](name string, dt tensor.DType, op mathIntOp) Kernel {
	var k *mathBinKernel[T, T]
	switch op {
	case mathIntDiv:
		k = mathNewBin(name, dt, mathLoopsOf(func(x, y T) T { return x / y }))
	case mathIntFloorDiv:
		k = mathNewBin(name, dt, mathLoopsOf(mathFloorDivInt[T]))
	case mathIntFloorMod:
		k = mathNewBin(name, dt, mathLoopsOf(mathFloorModInt[T]))
	case mathIntPow:
		k = mathNewBin(name, dt, mathLoopsOf(mathPowInt[T]))
		k.check = mathCheckNonNegative[T](name)
		return k
	}
	k.check = mathCheckNonZero[T](name)
	return k
}

func mathIntKernelFor(name string, dt tensor.DType, op mathIntOp) Kernel {
	switch dt {
	case tensor.Int32:
		return mathIntKernel[int32](name, dt, op)
	case tensor.Int64:
		return mathIntKernel[int64](name, dt, op)
	case tensor.Uint8:
		return mathIntKernel[uint8](name, dt, op)
	case tensor.Int8:
		return mathIntKernel[int8](name, dt, op)
	case tensor.Int16:
		return mathIntKernel[int16](name, dt, op)
	case tensor.Uint16:
		return mathIntKernel[uint16](name, dt, op)
	}
	panic("ops: mathIntKernelFor: dtype not validated: " + dt.String())
}

// mathFloatKernelFor builds a float kernel from a per-element function
// instantiated for float32 and float64.
func mathFloatKernelFor(name string, dt tensor.DType, f32 func(a, b float32) float32, f64 func(a, b float64) float64) Kernel {
	if dt == tensor.Float64 {
		return mathNewBin(name, dt, mathLoopsOf(f64))
	}
	return mathNewBin(name, dt, mathLoopsOf(f32))
}

func mathBuildDiv(n *Node) (Kernel, error) {
	if k, ok, err := cplxBuildArith(n, mathOpDiv); ok {
		return k, err
	}
	dt, err := mathBinaryDType(n, mathNumTypes)
	if err != nil {
		return nil, err
	}
	if dt.IsFloat() {
		return mathArithKernel(n.Op, dt, mathOpDiv), nil
	}
	return mathIntKernelFor(n.Op, dt, mathIntDiv), nil
}

func mathFloorDivFloat[T tensor.Float](x, y T) T { return T(math.Floor(float64(x / y))) }

func mathBuildFloorDiv(n *Node) (Kernel, error) {
	dt, err := mathBinaryDType(n, mathNumTypes)
	if err != nil {
		return nil, err
	}
	if dt.IsFloat() {
		return mathFloatKernelFor(n.Op, dt, mathFloorDivFloat[float32], mathFloorDivFloat[float64]), nil
	}
	return mathIntKernelFor(n.Op, dt, mathIntFloorDiv), nil
}

// mathFloorModFloat is fmod adjusted to the sign of the divisor. fmod is
// exact, so computing it in float64 gives the float32 result too.
func mathFloorModFloat[T tensor.Float](x, y T) T {
	r := T(math.Mod(float64(x), float64(y)))
	if r != 0 && (y < 0) != (r < 0) {
		r += y
	}
	return r
}

func mathBuildFloorMod(n *Node) (Kernel, error) {
	dt, err := mathBinaryDType(n, mathNumTypes)
	if err != nil {
		return nil, err
	}
	if dt.IsFloat() {
		return mathFloatKernelFor(n.Op, dt, mathFloorModFloat[float32], mathFloorModFloat[float64]), nil
	}
	return mathIntKernelFor(n.Op, dt, mathIntFloorMod), nil
}

func mathPowFloat[T tensor.Float](x, y T) T { return T(math.Pow(float64(x), float64(y))) }

func mathBuildPow(n *Node) (Kernel, error) {
	dt, err := mathBinaryDType(n, mathNumTypes)
	if err != nil {
		return nil, err
	}
	if dt.IsFloat() {
		return mathFloatKernelFor(n.Op, dt, mathPowFloat[float32], mathPowFloat[float64]), nil
	}
	return mathIntKernelFor(n.Op, dt, mathIntPow), nil
}
