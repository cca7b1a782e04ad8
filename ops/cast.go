package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// Cast, and the rounding of float32 values to Half and BFloat16.
//
// Semantics follow tensorflow/core/kernels/cast_op_impl*.cc on x86 CPUs:
//   - float to integer truncates toward zero, as C++ static_cast does;
//   - NaN and values out of the target's range have no C++ meaning; TF's
//     CPU kernels return what the x86 conversion instructions produce, and
//     so do we: float to int64 gives math.MinInt64, float to any narrower
//     integer is first converted to int32 (math.MinInt32 for NaN and
//     out-of-range values) and then wrapped to the target width, so 1e5 as
//     int16 is -31072 and NaN as uint8 is 0;
//   - float to uint32 keeps the low 32 bits of the 64-bit conversion (so
//     -1.0 gives 4294967295 and NaN gives 0); float to uint64 converts
//     values below 2^63 as signed (negative values wrap) and values in
//     [2^63, 2^64) as unsigned, NaN gives 2^63 and larger values 0, as the
//     x86-64 code compilers emit for static_cast does;
//   - integers wrap to narrower integers; bool is 0 or 1; a number is true
//     iff it is non-zero (NaN is true);
//   - Half and BFloat16 results are rounded to nearest even, overflowing to
//     ±Inf; NaN stays NaN.
//
// The Truncate attr (which only affects float-to-float precision loss in
// TF's GPU kernels) is ignored. A cast to the same dtype returns a view.

func init() {
	Default().Register(Spec{
		Name:  "Cast",
		Doc:   "converts x to DstT element-wise (floats truncate toward zero when cast to integers)",
		Infer: mathInferCast,
		Build: mathBuildCast,
		Batch: BatchElementwise,
	})
}

// mathCastTypes are the dtypes Cast converts between.
var mathCastTypes = append(append([]tensor.DType(nil), mathNumTypes...), tensor.Uint32, tensor.Uint64, tensor.Bool)

func mathInferCast(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dst, err := AttrType(n, "DstT")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return []Value{{DType: dst, Shape: n.Inputs[0].Shape}}, nil
}

func mathBuildCast(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	src, err := InputDType(n, 0, "SrcT")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dst, err := AttrType(n, "DstT")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if src == dst && src.Supported() {
		return mathRetagKernel{op: n.Op, src: src, dst: dst}, nil
	}
	if src.IsComplex() || dst.IsComplex() {
		return cplxBuildCast(n.Op, src, dst)
	}
	return mathCastKernelFor(n.Op, src, dst)
}

// mathCastKernelFor returns the Cast kernel from src to dst, real or
// bool dtypes.
func mathCastKernelFor(op string, src, dst tensor.DType) (Kernel, error) {
	if src == dst && src.Supported() {
		return mathRetagKernel{op: op, src: src, dst: dst}, nil
	}
	if !mathHasType(mathCastTypes, src) || !mathHasType(mathCastTypes, dst) {
		return nil, fmt.Errorf("%w: op %s: cannot cast %s to %s (supported: %s, complex64, complex128, and any dtype to itself)",
			ErrDType, op, src, dst, mathTypeList(mathCastTypes))
	}
	if src == tensor.Float32 && (dst == tensor.Half || dst == tensor.BFloat16) ||
		src == tensor.Half && dst == tensor.BFloat16 || src == tensor.BFloat16 && dst == tensor.Half {
		return &mathCastKernel[float32, float32]{op: op, dst: dst, fn: mathCastNum[float32, float32], round: mathRounder(dst)}, nil
	}
	if (src == tensor.Half || src == tensor.BFloat16) && dst == tensor.Float32 {
		// Half and BFloat16 values are exact in float32.
		return mathRetagKernel{op: op, src: src, dst: dst}, nil
	}
	switch src {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return mathCastFrom[float32](op, src, dst), nil
	case tensor.Float64:
		return mathCastFrom[float64](op, src, dst), nil
	case tensor.Int32:
		return mathCastFrom[int32](op, src, dst), nil
	case tensor.Int64:
		return mathCastFrom[int64](op, src, dst), nil
	case tensor.Uint8:
		return mathCastFrom[uint8](op, src, dst), nil
	case tensor.Int8:
		return mathCastFrom[int8](op, src, dst), nil
	case tensor.Int16:
		return mathCastFrom[int16](op, src, dst), nil
	case tensor.Uint16:
		return mathCastFrom[uint16](op, src, dst), nil
	case tensor.Uint32:
		return mathCastFrom[uint32](op, src, dst), nil
	case tensor.Uint64:
		return mathCastFrom[uint64](op, src, dst), nil
	case tensor.Bool:
		return mathCastFromBool(op, dst), nil
	}
	panic("ops: mathBuildCast: dtype not validated: " + src.String())
}

// mathCastFrom picks the conversion from numeric S to dst.
func mathCastFrom[S tensor.Number](op string, src, dst tensor.DType) Kernel {
	f2i := src.IsFloat()
	switch dst {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &mathCastKernel[S, float32]{op: op, dst: dst, fn: mathCastNum[S, float32], round: mathRounder(dst)}
	case tensor.Float64:
		return &mathCastKernel[S, float64]{op: op, dst: dst, fn: mathCastNum[S, float64]}
	case tensor.Int64:
		if f2i {
			return &mathCastKernel[S, int64]{op: op, dst: dst, fn: mathCastF2I64[S]}
		}
		return &mathCastKernel[S, int64]{op: op, dst: dst, fn: mathCastNum[S, int64]}
	case tensor.Int32:
		return mathCastToInt[S, int32](op, dst, f2i)
	case tensor.Uint8:
		return mathCastToInt[S, uint8](op, dst, f2i)
	case tensor.Int8:
		return mathCastToInt[S, int8](op, dst, f2i)
	case tensor.Int16:
		return mathCastToInt[S, int16](op, dst, f2i)
	case tensor.Uint16:
		return mathCastToInt[S, uint16](op, dst, f2i)
	case tensor.Uint32:
		if f2i {
			return &mathCastKernel[S, uint32]{op: op, dst: dst, fn: mathCastF2U32[S]}
		}
		return &mathCastKernel[S, uint32]{op: op, dst: dst, fn: mathCastNum[S, uint32]}
	case tensor.Uint64:
		if f2i {
			return &mathCastKernel[S, uint64]{op: op, dst: dst, fn: mathCastF2U64[S]}
		}
		return &mathCastKernel[S, uint64]{op: op, dst: dst, fn: mathCastNum[S, uint64]}
	case tensor.Bool:
		return &mathCastKernel[S, bool]{op: op, dst: dst, fn: mathCastToBool[S]}
	}
	panic("ops: mathCastFrom: dtype not validated: " + dst.String())
}

func mathCastToInt[S tensor.Number, D tensor.Integer](op string, dst tensor.DType, f2i bool) Kernel {
	if f2i {
		return &mathCastKernel[S, D]{op: op, dst: dst, fn: mathCastF2I32[S, D]}
	}
	return &mathCastKernel[S, D]{op: op, dst: dst, fn: mathCastNum[S, D]}
}

func mathCastFromBool(op string, dst tensor.DType) Kernel {
	switch dst {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &mathCastKernel[bool, float32]{op: op, dst: dst, fn: mathCastBool[float32]}
	case tensor.Float64:
		return &mathCastKernel[bool, float64]{op: op, dst: dst, fn: mathCastBool[float64]}
	case tensor.Int32:
		return &mathCastKernel[bool, int32]{op: op, dst: dst, fn: mathCastBool[int32]}
	case tensor.Int64:
		return &mathCastKernel[bool, int64]{op: op, dst: dst, fn: mathCastBool[int64]}
	case tensor.Uint8:
		return &mathCastKernel[bool, uint8]{op: op, dst: dst, fn: mathCastBool[uint8]}
	case tensor.Int8:
		return &mathCastKernel[bool, int8]{op: op, dst: dst, fn: mathCastBool[int8]}
	case tensor.Int16:
		return &mathCastKernel[bool, int16]{op: op, dst: dst, fn: mathCastBool[int16]}
	case tensor.Uint16:
		return &mathCastKernel[bool, uint16]{op: op, dst: dst, fn: mathCastBool[uint16]}
	case tensor.Uint32:
		return &mathCastKernel[bool, uint32]{op: op, dst: dst, fn: mathCastBool[uint32]}
	case tensor.Uint64:
		return &mathCastKernel[bool, uint64]{op: op, dst: dst, fn: mathCastBool[uint64]}
	}
	panic("ops: mathCastFromBool: dtype not validated: " + dst.String())
}

// mathCastKernel converts []S to []D with fn, split over ctx.Parallel.
type mathCastKernel[S, D tensor.Elem] struct {
	op    string
	dst   tensor.DType
	fn    func(d []D, s []S)
	round func([]float32)
}

func (k *mathCastKernel[S, D]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	d, err := mathInputs[S](k.op, in, 1)
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(k.dst, in[0].Shape())
	if err != nil {
		return nil, err
	}
	src, dst := d[0], tensor.As[D](out)
	ctx.Parallel(len(dst), mathGrain, func(lo, hi int) {
		k.fn(dst[lo:hi], src[lo:hi])
		if k.round != nil {
			k.round(any(dst[lo:hi]).([]float32))
		}
	})
	return []*tensor.Tensor{out}, nil
}

// mathRetagKernel is a cast that keeps the values and storage: a view of
// the input with the target dtype.
type mathRetagKernel struct {
	op       string
	src, dst tensor.DType
}

func (k mathRetagKernel) Run(_ *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: op %s: expected 1 input, got %d", ErrShape, k.op, len(in))
	}
	if in[0].DType() != k.src {
		return nil, fmt.Errorf("%w: op %s: input is %s, expected %s", ErrDType, k.op, in[0].DType(), k.src)
	}
	v, err := in[0].Retag(k.dst)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", k.op, err)
	}
	return []*tensor.Tensor{v}, nil
}

func mathCastNum[S, D tensor.Number](d []D, s []S) {
	s = s[:len(d)]
	for i := range d {
		d[i] = D(s[i])
	}
}

func mathCastBool[D tensor.Number](d []D, s []bool) {
	s = s[:len(d)]
	for i := range d {
		if s[i] {
			d[i] = 1
		} else {
			d[i] = 0
		}
	}
}

func mathCastToBool[S tensor.Number](d []bool, s []S) {
	s = s[:len(d)]
	for i := range d {
		d[i] = s[i] != 0
	}
}

// mathF2I32 converts like x86 cvttsd2si with a 32-bit result: truncation
// toward zero, and math.MinInt32 for NaN and out-of-range values.
func mathF2I32(v float64) int32 {
	if !(v > -2147483649 && v < 2147483648) {
		return math.MinInt32
	}
	return int32(v)
}

// mathF2I64 is mathF2I32 with a 64-bit result.
func mathF2I64(v float64) int64 {
	if !(v >= -9223372036854775808 && v < 9223372036854775808) {
		return math.MinInt64
	}
	return int64(v)
}

// mathCastF2I32 converts floats (held in S) to int32 and then wraps to D.
func mathCastF2I32[S tensor.Number, D tensor.Integer](d []D, s []S) {
	s = s[:len(d)]
	for i := range d {
		d[i] = D(mathF2I32(float64(s[i])))
	}
}

func mathCastF2I64[S tensor.Number](d []int64, s []S) {
	s = s[:len(d)]
	for i := range d {
		d[i] = mathF2I64(float64(s[i]))
	}
}

// mathCastF2U32 converts floats (held in S) to uint32: the low 32 bits of
// the 64-bit conversion.
func mathCastF2U32[S tensor.Number](d []uint32, s []S) {
	s = s[:len(d)]
	for i := range d {
		d[i] = uint32(mathF2I64(float64(s[i])))
	}
}

// mathF2U64 converts like the x86-64 sequence for a float to uint64
// static_cast: signed conversion below 2^63, and above it the signed
// conversion of v-2^63 with the top bit flipped.
func mathF2U64(v float64) uint64 {
	const two63 = 9223372036854775808.0
	if !(v >= two63) { // NaN compares unordered and takes this branch
		return uint64(mathF2I64(v))
	}
	return uint64(mathF2I64(v-two63)) ^ 1<<63
}

func mathCastF2U64[S tensor.Number](d []uint64, s []S) {
	s = s[:len(d)]
	for i := range d {
		d[i] = mathF2U64(float64(s[i]))
	}
}

// mathRounder returns the function that rounds float32 storage to dt's
// precision, or nil when dt needs none.
func mathRounder(dt tensor.DType) func([]float32) {
	switch dt {
	case tensor.Half:
		return mathRoundHalfSlice
	case tensor.BFloat16:
		return mathRoundBF16Slice
	}
	return nil
}

func mathRoundHalfSlice(s []float32) {
	for i, v := range s {
		s[i] = mathToHalf(v)
	}
}

func mathRoundBF16Slice(s []float32) {
	for i, v := range s {
		s[i] = mathToBF16(v)
	}
}

// mathToHalf rounds f to the nearest IEEE binary16 value (ties to even),
// returned as float32. Values of magnitude ≥ 65520 become ±Inf.
func mathToHalf(f float32) float32 {
	b := math.Float32bits(f)
	sign := b & 0x80000000
	a := b &^ 0x80000000
	switch {
	case a >= 0x7f800000: // Inf or NaN
		return f
	case a >= 0x477ff000: // 65520: halfway between 65504 and 2^16
		return math.Float32frombits(sign | 0x7f800000)
	case a >= 0x38800000: // 2^-14: a normal half; keep 10 fraction bits
		a += 0x0fff + (a>>13)&1
		a &^= 0x1fff
		return math.Float32frombits(sign | a)
	}
	// Subnormal halves are multiples of 2^-24.
	v := math.RoundToEven(float64(math.Float32frombits(a))*(1<<24)) / (1 << 24)
	return math.Float32frombits(sign | math.Float32bits(float32(v)))
}

// mathToBF16 rounds f to the nearest bfloat16 value (ties to even), as
// float32. NaN stays NaN.
func mathToBF16(f float32) float32 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return math.Float32frombits(b&0xffff0000 | 0x00400000)
	}
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b & 0xffff0000)
}
