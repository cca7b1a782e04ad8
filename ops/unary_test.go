package ops

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// vmath32 is the relative tolerance of the float32 vmath kernels.
const vmath32 = 3.6e-7

// mathUnaryRefs are float64 references for the unary ops, written from the
// textbook definitions, with the input range each is tested on.
var mathUnaryRefs = []struct {
	op     string
	lo, hi float64
	ref    func(x float64) float64
	// tol32 and tol64 are relative tolerances for float32 and float64
	// results. 1.2e-7 is one float32 ulp, for kernels that round a float64
	// result once; vmath32 (3.6e-7, 3 ulp) is for the float32 kernels of
	// vmath.go (measured over all 2^32 inputs: at most 2.9 ulp, softplus;
	// TestVmathAccuracy). Softplus allows more: TF's
	// thresholds (x itself above 13.94, exp(x) below -13.94) are off by up
	// to e^-13.94/2 ≈ 4.4e-7, plus the kernels' few ulp.
	tol32, tol64 float64
}{
	{"Relu", -5, 5, func(x float64) float64 { return max(x, 0) }, 0, 0},
	{"Relu6", -3, 9, func(x float64) float64 { return min(max(x, 0), 6) }, 0, 0},
	{"Elu", -8, 4, func(x float64) float64 {
		if x < 0 {
			return math.Expm1(x)
		}
		return x
	}, vmath32, 1e-15},
	{"Selu", -8, 4, func(x float64) float64 {
		const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
		if x < 0 {
			return scale * alpha * math.Expm1(x)
		}
		return scale * x
	}, vmath32, 1e-15},
	{"Sigmoid", -30, 30, func(x float64) float64 {
		if x < 0 {
			e := math.Exp(x)
			return e / (1 + e)
		}
		return 1 / (1 + math.Exp(-x))
	}, vmath32, 1e-15},
	{"Tanh", -12, 12, func(x float64) float64 {
		e := math.Expm1(2 * x)
		return e / (e + 2)
	}, vmath32, 1e-15},
	{"Softplus", -40, 40, func(x float64) float64 {
		// log(1+e^x) = max(x,0) + log1p(e^-|x|)
		return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
	}, 8e-7, 2e-15},
	{"Exp", -80, 80, math.Exp, vmath32, 1e-15},
	{"Log", 1e-6, 1e6, math.Log, vmath32, 1e-15},
	{"Sqrt", 0, 1e6, math.Sqrt, 1.2e-7, 1e-15},
	{"Rsqrt", 1e-6, 1e6, func(x float64) float64 { return math.Pow(x, -0.5) }, 1.2e-7, 1e-15},
	{"Square", -1e3, 1e3, func(x float64) float64 { return x * x }, 1.2e-7, 1e-15},
	{"Neg", -5, 5, func(x float64) float64 { return -x }, 0, 0},
	{"Abs", -5, 5, math.Abs, 0, 0},
	{"Erf", -4, 4, math.Erf, vmath32, 1e-15},
	{"Floor", -50, 50, math.Floor, 0, 0},
	{"Ceil", -50, 50, math.Ceil, 0, 0},
	{"Round", -50, 50, math.RoundToEven, 0, 0},
	{"Sign", -5, 5, func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}, 0, 0},
	{"LeakyRelu", -5, 5, func(x float64) float64 {
		if x > 0 {
			return x
		}
		return x * float64(float32(0.2))
	}, 1.2e-7, 0},
}

// TestMathUnaryRandom compares every float unary op with its reference on
// seeded random inputs, in float32 and float64, over a tensor large enough
// for the work to be split.
func TestMathUnaryRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n = 20000
	for _, u := range mathUnaryRefs {
		t.Run(u.op, func(t *testing.T) {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = u.lo + (u.hi-u.lo)*r.Float64()
			}
			x32 := mathF32(xs)
			want32 := make([]float64, n)
			for i, v := range x32 {
				want32[i] = u.ref(float64(v))
			}
			got32 := mathMust(t, u.op, nil, tensor.FromSlice(mathS(100, 200), x32))
			mathCheckClose(t, u.op+" float32", got32, want32, u.tol32, 1e-45)

			want64 := make([]float64, n)
			for i, v := range xs {
				want64[i] = u.ref(v)
			}
			got64 := mathMust(t, u.op, nil, tensor.FromSlice(mathS(n), xs))
			mathCheckClose(t, u.op+" float64", got64, want64, u.tol64, 1e-300)
		})
	}
}

func TestMathUnaryEdges(t *testing.T) {
	s := mathS
	nan, inf, ninf, nz := mathNaN, mathInf, mathNInf, mathNegZ
	f32 := func(v ...float64) *tensor.Tensor { return tensor.FromSlice(s(len(v)), mathF32(v)) }
	f64 := func(v ...float64) *tensor.Tensor { return tensor.FromSlice(s(len(v)), v) }
	const seluScaleAlpha = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
	mathRunCases(t, []mathCase{
		// std::max(x, 0): NaN and -0 pass through.
		{name: "float", op: "Relu", in: []*tensor.Tensor{f32(-1, 0, nz, 2, nan, ninf, inf)},
			dt: tensor.Float32, shape: s(7), want: []float64{0, 0, nz, 2, nan, 0, inf}},
		{name: "int8", op: "Relu", in: []*tensor.Tensor{tensor.FromSlice(s(2), []int8{-128, 5})},
			dt: tensor.Int8, shape: s(2), want: []float64{0, 5}},
		{name: "float", op: "Relu6", in: []*tensor.Tensor{f64(-1, 3, 7, nan, inf)},
			dt: tensor.Float64, shape: s(5), want: []float64{0, 3, 6, nan, 6}},
		{name: "int32", op: "Relu6", in: []*tensor.Tensor{mathI32s(s(3), -5, 4, 100)},
			dt: tensor.Int32, shape: s(3), want: []float64{0, 4, 6}},
		{name: "edges", op: "Elu", in: []*tensor.Tensor{f64(ninf, 0, nz, inf, nan)},
			dt: tensor.Float64, shape: s(5), want: []float64{-1, 0, nz, inf, nan}},
		{name: "edges", op: "Selu", in: []*tensor.Tensor{f64(ninf, 0, nz, nan)},
			dt: tensor.Float64, shape: s(4), want: []float64{-seluScaleAlpha, 0, nz, nan}},
		// alpha defaults to 0.2, a float32 attr.
		{name: "default alpha", op: "LeakyRelu", in: []*tensor.Tensor{f32(-1, 2, 0, nz)},
			dt: tensor.Float32, shape: s(4), want: []float64{float64(float32(-0.2)), 2, 0, nz}},
		{name: "alpha attr", op: "LeakyRelu", attrs: tensor.Attrs{"alpha": float32(0.5)}, in: []*tensor.Tensor{f64(-4, 3)},
			dt: tensor.Float64, shape: s(2), want: []float64{-2, 3}},
		{name: "bad alpha attr", op: "LeakyRelu", attrs: tensor.Attrs{"alpha": "x"}, in: []*tensor.Tensor{f64(-4, 3)}, err: ErrAttr},
		{name: "edges", op: "Sigmoid", in: []*tensor.Tensor{f32(ninf, inf, 0, nan, -1000)},
			dt: tensor.Float32, shape: s(5), want: []float64{0, 1, 0.5, nan, 0}},
		{name: "edges", op: "Tanh", in: []*tensor.Tensor{f32(ninf, inf, 0, nz, nan)},
			dt: tensor.Float32, shape: s(5), want: []float64{-1, 1, 0, nz, nan}},
		{name: "edges", op: "Softplus", in: []*tensor.Tensor{f32(ninf, inf, nan, 0)},
			dt: tensor.Float32, shape: s(4), want: []float64{0, inf, nan, float64(float32(math.Ln2))}},
		// exp(89) overflows float32 (max 3.4e38).
		{name: "edges", op: "Exp", in: []*tensor.Tensor{f32(ninf, 0, inf, nan, 89)},
			dt: tensor.Float32, shape: s(5), want: []float64{0, 1, inf, nan, inf}},
		{name: "edges", op: "Log", in: []*tensor.Tensor{f64(0, -1, 1, inf, nz)},
			dt: tensor.Float64, shape: s(5), want: []float64{ninf, nan, 0, inf, ninf}},
		{name: "edges", op: "Sqrt", in: []*tensor.Tensor{f32(-1, 0, nz, 4, inf)},
			dt: tensor.Float32, shape: s(5), want: []float64{nan, 0, nz, 2, inf}},
		{name: "edges", op: "Rsqrt", in: []*tensor.Tensor{f64(0, 4, inf, -1)},
			dt: tensor.Float64, shape: s(4), want: []float64{inf, 0.5, 0, nan}},
		{name: "int wraps", op: "Square", in: []*tensor.Tensor{mathI32s(s(2), 65536, -3)},
			dt: tensor.Int32, shape: s(2), want: []float64{0, 9}},
		{name: "uint8", op: "Square", in: []*tensor.Tensor{tensor.FromSlice(s(2), []uint8{16, 3})},
			dt: tensor.Uint8, shape: s(2), want: []float64{0, 9}},
		{name: "int8 wraps", op: "Neg", in: []*tensor.Tensor{tensor.FromSlice(s(2), []int8{-128, 5})},
			dt: tensor.Int8, shape: s(2), want: []float64{-128, -5}},
		{name: "float zero", op: "Neg", in: []*tensor.Tensor{f32(0, nz)},
			dt: tensor.Float32, shape: s(2), want: []float64{nz, 0}},
		{name: "int wraps", op: "Abs", in: []*tensor.Tensor{mathI32s(s(3), math.MinInt32, -4, 4)},
			dt: tensor.Int32, shape: s(3), want: []float64{math.MinInt32, 4, 4}},
		{name: "int16", op: "Abs", in: []*tensor.Tensor{tensor.FromSlice(s(1), []int16{-7})},
			dt: tensor.Int16, shape: s(1), want: []float64{7}},
		{name: "float", op: "Abs", in: []*tensor.Tensor{f64(nz, ninf, nan)},
			dt: tensor.Float64, shape: s(3), want: []float64{0, inf, nan}},
		{name: "edges", op: "Erf", in: []*tensor.Tensor{f32(0, inf, ninf, nan)},
			dt: tensor.Float32, shape: s(4), want: []float64{0, 1, -1, nan}},
		{name: "edges", op: "Floor", in: []*tensor.Tensor{f32(-1.5, 1.5, nz, -0.5)},
			dt: tensor.Float32, shape: s(4), want: []float64{-2, 1, nz, -1}},
		{name: "int unsupported", op: "Floor", in: []*tensor.Tensor{mathI32s(s(1), 1)}, err: ErrDType},
		{name: "edges", op: "Ceil", in: []*tensor.Tensor{f64(-1.5, 1.5, -0.5)},
			dt: tensor.Float64, shape: s(3), want: []float64{-1, 2, nz}},
		// Half to even; 0.49999997 (the float32 below 0.5) rounds to 0, and
		// 2^23+1 is already an integer.
		{name: "half to even", op: "Round", in: []*tensor.Tensor{f32(0.5, 1.5, 2.5, -0.5, -1.5, -0.4, 0.49999997, 8388609)},
			dt: tensor.Float32, shape: s(8), want: []float64{0, 2, 2, nz, -2, nz, 0, 8388609}},
		{name: "int identity", op: "Round", in: []*tensor.Tensor{mathI64s(s(2), -3, math.MaxInt64)},
			dt: tensor.Int64, shape: s(2), want: []float64{-3, math.MaxInt64}},
		{name: "float", op: "Sign", in: []*tensor.Tensor{f32(-2, 0, nz, 3, nan, ninf)},
			dt: tensor.Float32, shape: s(6), want: []float64{-1, 0, 0, 1, nan, -1}},
		{name: "int8", op: "Sign", in: []*tensor.Tensor{tensor.FromSlice(s(3), []int8{-5, 0, 7})},
			dt: tensor.Int8, shape: s(3), want: []float64{-1, 0, 1}},
		{name: "uint16", op: "Sign", in: []*tensor.Tensor{tensor.FromSlice(s(2), []uint16{0, 9})},
			dt: tensor.Uint16, shape: s(2), want: []float64{0, 1}},
		{name: "int unsupported", op: "Exp", in: []*tensor.Tensor{mathI32s(s(1), 1)}, err: ErrDType},
		{name: "bool unsupported", op: "Neg", in: []*tensor.Tensor{mathBools(s(1), true)}, err: ErrDType},
		{name: "rank 0", op: "Exp", in: []*tensor.Tensor{mathF64s(s(), 0)},
			dt: tensor.Float64, shape: s(), want: []float64{1}},
		{name: "empty", op: "Tanh", in: []*tensor.Tensor{mathF32s(s(0, 4))},
			dt: tensor.Float32, shape: s(0, 4), want: []float64{}},
		// exp(1) = 2.71828… is 2.71875 in binary16 (ulp 2^-9 in [2, 4)).
		{name: "half", op: "Exp", in: []*tensor.Tensor{mathT(t, tensor.Half, s(1), []float32{1})},
			dt: tensor.Half, shape: s(1), want: []float64{2.71875}},
		// exp(1) in bfloat16 (ulp 2^-6 in [2, 4)): 2.71875.
		{name: "bfloat16", op: "Exp", in: []*tensor.Tensor{mathT(t, tensor.BFloat16, s(1), []float32{1})},
			dt: tensor.BFloat16, shape: s(1), want: []float64{2.71875}},
	})
}

func TestMathUnaryRuntimeDType(t *testing.T) {
	spec, _ := Default().Lookup("Relu")
	n := mathNode("Relu", nil, []*tensor.Tensor{mathF32s(mathS(1), 1)})
	k, err := spec.Build(n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Run(&Ctx{}, []*tensor.Tensor{mathF64s(mathS(1), 1)}); !errors.Is(err, ErrDType) {
		t.Fatalf("float64 tensor into a float32 kernel: err = %v, want ErrDType", err)
	}
	if _, err := k.Run(&Ctx{}, nil); !errors.Is(err, ErrShape) {
		t.Fatalf("no inputs: err = %v, want ErrShape", err)
	}
}
