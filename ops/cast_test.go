package ops

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

func mathCastAttrs(src, dst tensor.DType) tensor.Attrs {
	return tensor.Attrs{"SrcT": src, "DstT": dst, "Truncate": false}
}

func TestMathCastCases(t *testing.T) {
	s := mathS
	nan, inf := mathNaN, mathInf
	const minI32, minI64 = math.MinInt32, math.MinInt64
	c := mathCastAttrs
	mathRunCases(t, []mathCase{
		// Truncation toward zero; NaN and out-of-range give INT_MIN, the x86
		// conversion result TF's CPU kernels return.
		{name: "f32 to i32", op: "Cast", attrs: c(tensor.Float32, tensor.Int32),
			in: []*tensor.Tensor{mathF32s(s(6), 1.9, -1.9, float32(nan), 3e9, -3e9, float32(inf))},
			dt: tensor.Int32, shape: s(6), want: []float64{1, -1, minI32, minI32, minI32, minI32}},
		// Narrow ints go through int32 and wrap: 1e5 = 0x186A0 → 0x86A0 = -31072
		// (tensorflow issue 12235 shows this value).
		{name: "f64 to i16", op: "Cast", attrs: c(tensor.Float64, tensor.Int16),
			in: []*tensor.Tensor{mathF64s(s(3), 1e5, -1.5, nan)}, dt: tensor.Int16, shape: s(3), want: []float64{-31072, -1, 0}},
		// 300 = 0x12C → 0x2C = 44; -1 → 0xFF; -0.9 truncates to 0.
		{name: "f32 to u8", op: "Cast", attrs: c(tensor.Float32, tensor.Uint8),
			in: []*tensor.Tensor{mathF32s(s(4), 300, -1, 255.9, -0.9)}, dt: tensor.Uint8, shape: s(4), want: []float64{44, 255, 255, 0}},
		// 70000 mod 65536 = 4464.
		{name: "f32 to u16", op: "Cast", attrs: c(tensor.Float32, tensor.Uint16),
			in: []*tensor.Tensor{mathF32s(s(1), 70000)}, dt: tensor.Uint16, shape: s(1), want: []float64{4464}},
		{name: "f32 to i8", op: "Cast", attrs: c(tensor.Float32, tensor.Int8),
			in: []*tensor.Tensor{mathF32s(s(2), 127.5, 128)}, dt: tensor.Int8, shape: s(2), want: []float64{127, -128}},
		{name: "f64 to i64", op: "Cast", attrs: c(tensor.Float64, tensor.Int64),
			in: []*tensor.Tensor{mathF64s(s(4), 1e19, -9.3e18, nan, 2.5)}, dt: tensor.Int64, shape: s(4), want: []float64{minI64, minI64, minI64, 2}},
		{name: "f32 to i64", op: "Cast", attrs: c(tensor.Float32, tensor.Int64),
			in: []*tensor.Tensor{mathF32s(s(2), -7.99, 1e10)}, dt: tensor.Int64, shape: s(2), want: []float64{-7, 1e10}},
		// Integer narrowing wraps: 2^32+5 → 5, 263 → 7, -1 → 255, 65535 → -1.
		{name: "i64 to i32", op: "Cast", attrs: c(tensor.Int64, tensor.Int32),
			in: []*tensor.Tensor{mathI64s(s(2), 1<<32+5, -1)}, dt: tensor.Int32, shape: s(2), want: []float64{5, -1}},
		{name: "i32 to u8", op: "Cast", attrs: c(tensor.Int32, tensor.Uint8),
			in: []*tensor.Tensor{mathI32s(s(2), 263, -1)}, dt: tensor.Uint8, shape: s(2), want: []float64{7, 255}},
		{name: "u16 to i16", op: "Cast", attrs: c(tensor.Uint16, tensor.Int16),
			in: []*tensor.Tensor{tensor.FromSlice(s(1), []uint16{65535})}, dt: tensor.Int16, shape: s(1), want: []float64{-1}},
		{name: "i8 to u16", op: "Cast", attrs: c(tensor.Int8, tensor.Uint16),
			in: []*tensor.Tensor{tensor.FromSlice(s(1), []int8{-1})}, dt: tensor.Uint16, shape: s(1), want: []float64{65535}},
		// 2^24+1 is a tie in float32: even is 2^24.
		{name: "i64 to f32", op: "Cast", attrs: c(tensor.Int64, tensor.Float32),
			in: []*tensor.Tensor{mathI64s(s(2), 1<<24+1, -3)}, dt: tensor.Float32, shape: s(2), want: []float64{1 << 24, -3}},
		{name: "f64 to f32", op: "Cast", attrs: c(tensor.Float64, tensor.Float32),
			in: []*tensor.Tensor{mathF64s(s(3), 0.1, 1e300, nan)}, dt: tensor.Float32, shape: s(3), want: []float64{float64(float32(0.1)), inf, nan}},
		{name: "f32 to bool", op: "Cast", attrs: c(tensor.Float32, tensor.Bool),
			in: []*tensor.Tensor{mathF32s(s(4), 0, float32(mathNegZ), float32(nan), 0.1)}, dt: tensor.Bool, shape: s(4), want: []float64{0, 0, 1, 1}},
		{name: "i32 to bool", op: "Cast", attrs: c(tensor.Int32, tensor.Bool),
			in: []*tensor.Tensor{mathI32s(s(2), 0, -5)}, dt: tensor.Bool, shape: s(2), want: []float64{0, 1}},
		{name: "bool to f32", op: "Cast", attrs: c(tensor.Bool, tensor.Float32),
			in: []*tensor.Tensor{mathBools(s(2), true, false)}, dt: tensor.Float32, shape: s(2), want: []float64{1, 0}},
		{name: "bool to i64", op: "Cast", attrs: c(tensor.Bool, tensor.Int64),
			in: []*tensor.Tensor{mathBools(s(2), false, true)}, dt: tensor.Int64, shape: s(2), want: []float64{0, 1}},
		{name: "bool to u8", op: "Cast", attrs: c(tensor.Bool, tensor.Uint8),
			in: []*tensor.Tensor{mathBools(s(1), true)}, dt: tensor.Uint8, shape: s(1), want: []float64{1}},
		// To binary16: 1+2^-11 ties to 1; 65520 overflows; 65519 → 65504;
		// 1e-8 < 2^-25 underflows to 0; 3e-8 > 2^-25 rounds up to 2^-24.
		{name: "f32 to half", op: "Cast", attrs: c(tensor.Float32, tensor.Half),
			in: []*tensor.Tensor{mathF32s(s(8), 1+1.0/2048, 65520, 65519, 1e-8, 3e-8, float32(nan), float32(mathNegZ), -70000)},
			dt: tensor.Half, shape: s(8), want: []float64{1, inf, 65504, 0, math.Ldexp(1, -24), nan, mathNegZ, math.Inf(-1)}},
		// 0.1 in binary16 is 1638/16384.
		{name: "f64 to half", op: "Cast", attrs: c(tensor.Float64, tensor.Half),
			in: []*tensor.Tensor{mathF64s(s(1), 0.1)}, dt: tensor.Half, shape: s(1), want: []float64{1638.0 / 16384}},
		{name: "i32 to half", op: "Cast", attrs: c(tensor.Int32, tensor.Half),
			in: []*tensor.Tensor{mathI32s(s(2), 2049, 100000)}, dt: tensor.Half, shape: s(2), want: []float64{2048, inf}},
		// bfloat16 keeps 8 bits: 1+2^-8 ties to 1, 3.4e38 rounds past the
		// largest bfloat16 (3.3895e38) to Inf.
		{name: "f32 to bf16", op: "Cast", attrs: c(tensor.Float32, tensor.BFloat16),
			in: []*tensor.Tensor{mathF32s(s(3), 1+1.0/256, 1+3.0/256, 3.4e38)}, dt: tensor.BFloat16, shape: s(3), want: []float64{1, 1 + 4.0/256, inf}},
		{name: "half to bf16", op: "Cast", attrs: c(tensor.Half, tensor.BFloat16),
			in: []*tensor.Tensor{mathT(t, tensor.Half, s(1), []float32{1 + 1.0/1024})}, dt: tensor.BFloat16, shape: s(1), want: []float64{1}},
		{name: "half to f32", op: "Cast", attrs: c(tensor.Half, tensor.Float32),
			in: []*tensor.Tensor{mathT(t, tensor.Half, s(2), []float32{1.5, -2})}, dt: tensor.Float32, shape: s(2), want: []float64{1.5, -2}},
		{name: "half to i32", op: "Cast", attrs: c(tensor.Half, tensor.Int32),
			in: []*tensor.Tensor{mathT(t, tensor.Half, s(1), []float32{-2.5})}, dt: tensor.Int32, shape: s(1), want: []float64{-2}},
		{name: "half to f64", op: "Cast", attrs: c(tensor.Half, tensor.Float64),
			in: []*tensor.Tensor{mathT(t, tensor.Half, s(1), []float32{0.5})}, dt: tensor.Float64, shape: s(1), want: []float64{0.5}},
		{name: "same dtype", op: "Cast", attrs: c(tensor.Float32, tensor.Float32),
			in: []*tensor.Tensor{mathF32s(s(2, 1), 1, 2)}, dt: tensor.Float32, shape: s(2, 1), want: []float64{1, 2}},
		{name: "rank 0", op: "Cast", attrs: c(tensor.Int32, tensor.Float64),
			in: []*tensor.Tensor{mathI32s(s(), 7)}, dt: tensor.Float64, shape: s(), want: []float64{7}},
		{name: "empty", op: "Cast", attrs: c(tensor.Float32, tensor.Int32),
			in: []*tensor.Tensor{mathF32s(s(0, 2))}, dt: tensor.Int32, shape: s(0, 2), want: []float64{}},
		{name: "string to float", op: "Cast", attrs: c(tensor.String, tensor.Float32),
			in: []*tensor.Tensor{tensor.FromSlice(s(1), []string{"1"})}, err: ErrDType},
		// uint32 takes the low 32 bits of the 64-bit conversion: -1 →
		// 2^32-1, 5e9 - 2^32 = 705032704, NaN (INT64_MIN) → 0.
		{name: "f32 to u32", op: "Cast", attrs: c(tensor.Float32, tensor.Uint32),
			in: []*tensor.Tensor{mathF32s(s(5), 3.9, -1, 5e9, float32(nan), 4294967040)}, dt: tensor.Uint32, shape: s(5),
			want: []float64{3, 4294967295, 705032704, 0, 4294967040}},
		{name: "i32 to u32", op: "Cast", attrs: c(tensor.Int32, tensor.Uint32),
			in: []*tensor.Tensor{mathI32s(s(2), -2, 7)}, dt: tensor.Uint32, shape: s(2), want: []float64{4294967294, 7}},
		{name: "u32 to f32", op: "Cast", attrs: c(tensor.Uint32, tensor.Float32),
			in: []*tensor.Tensor{tensor.FromSlice(s(1), []uint32{math.MaxUint32})}, dt: tensor.Float32, shape: s(1), want: []float64{1 << 32}},
		{name: "u64 to i64", op: "Cast", attrs: c(tensor.Uint64, tensor.Int64),
			in: []*tensor.Tensor{tensor.FromSlice(s(2), []uint64{1 << 63, 5})}, dt: tensor.Int64, shape: s(2), want: []float64{minI64, 5}},
		{name: "bool to u64", op: "Cast", attrs: c(tensor.Bool, tensor.Uint64),
			in: []*tensor.Tensor{mathBools(s(2), true, false)}, dt: tensor.Uint64, shape: s(2), want: []float64{1, 0}},
		{name: "missing DstT", op: "Cast", attrs: tensor.Attrs{}, in: []*tensor.Tensor{mathF32s(s(1), 1)}, err: ErrAttr},
	})
}

// TestMathCastToUint64 checks float to uint64 beyond float64's exact
// integers: the x86-64 sequence compilers emit for static_cast.
func TestMathCastToUint64(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   float64
		want uint64
	}{
		{name: "small", in: 2.7, want: 2},
		{name: "negative wraps", in: -1, want: math.MaxUint64}, // int64 -1 reinterpreted
		{name: "2^63", in: 1 << 63, want: 1 << 63},             // unsigned branch
		{name: "largest below 2^64", in: 18446744073709549568, want: 18446744073709549568},
		{name: "2^64 overflows", in: 1 << 64, want: 0}, // INT64_MIN ^ 2^63
		{name: "NaN", in: math.NaN(), want: 1 << 63},   // signed branch: INT64_MIN
		{name: "-Inf", in: math.Inf(-1), want: 1 << 63},
	} {
		for _, src := range []tensor.DType{tensor.Float64, tensor.Float32} {
			in := mathF64s(mathS(1), tt.in)
			if src == tensor.Float32 {
				if float64(float32(tt.in)) != tt.in && !math.IsNaN(tt.in) {
					continue // not a float32 value
				}
				in = mathF32s(mathS(1), float32(tt.in))
			}
			out := mathMust(t, "Cast", mathCastAttrs(src, tensor.Uint64), in)
			if got := tensor.As[uint64](out)[0]; got != tt.want {
				t.Errorf("%s from %s: got %d, want %d", tt.name, src, got, tt.want)
			}
		}
	}
}

func TestMathCastStringIdentity(t *testing.T) {
	in := tensor.FromSlice(mathS(2), []string{"a", "b"})
	out := mathMust(t, "Cast", mathCastAttrs(tensor.String, tensor.String), in)
	if got := tensor.As[string](out); got[0] != "a" || got[1] != "b" || out.DType() != tensor.String {
		t.Fatalf("got %v", out)
	}
}

// TestMathCastAllPairs casts small integers, exact in every dtype, between
// every pair of supported dtypes, and checks the values survive. Large
// enough to be split.
func TestMathCastAllPairs(t *testing.T) {
	const n = 20000
	for _, src := range mathCastTypes {
		for _, dst := range mathCastTypes {
			vals := make([]float64, n)
			for i := range vals {
				vals[i] = float64(i % 100)
				if src == tensor.Bool || dst == tensor.Bool {
					vals[i] = float64(i % 2)
				}
			}
			in := mathFromFloats(t, src, mathS(n), vals)
			out := mathMust(t, "Cast", mathCastAttrs(src, dst), in)
			if out.DType() != dst {
				t.Fatalf("%s→%s: dtype %s", src, dst, out.DType())
			}
			mathCheckExact(t, src.String()+"→"+dst.String(), out, vals)
		}
	}
}

// mathFromFloats builds a tensor of dt from float64 values (converted with
// Go conversions; callers pass values exact in dt).
func mathFromFloats(t *testing.T, dt tensor.DType, shape tensor.Shape, v []float64) *tensor.Tensor {
	t.Helper()
	n := len(v)
	var data any
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		data = mathF32(v)
	case tensor.Float64:
		data = append([]float64(nil), v...)
	case tensor.Int32:
		data = mathConvSlice[int32](v)
	case tensor.Int64:
		data = mathConvSlice[int64](v)
	case tensor.Uint8:
		data = mathConvSlice[uint8](v)
	case tensor.Int8:
		data = mathConvSlice[int8](v)
	case tensor.Int16:
		data = mathConvSlice[int16](v)
	case tensor.Uint16:
		data = mathConvSlice[uint16](v)
	case tensor.Uint32:
		data = mathConvSlice[uint32](v)
	case tensor.Uint64:
		data = mathConvSlice[uint64](v)
	case tensor.Bool:
		b := make([]bool, n)
		for i, x := range v {
			b[i] = x != 0
		}
		data = b
	default:
		t.Fatalf("mathFromFloats: dtype %s", dt)
	}
	return mathT(t, dt, shape, data)
}

func mathConvSlice[T tensor.Number](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// mathTableRound rounds x to the nearest value of a sorted table of
// non-negative finite values, ties to the entry whose code is even,
// overflowing to +Inf past limit. It is the reference for the 16-bit
// formats, built from their bit-level definitions.
func mathTableRound(x float64, vals []float64, codes []uint16, limit float64) float64 {
	a := math.Abs(x)
	var r float64
	if a >= limit {
		r = math.Inf(1)
	} else {
		i := sort.SearchFloat64s(vals, a)
		switch {
		case i == len(vals):
			r = vals[i-1]
		case vals[i] == a || i == 0:
			r = vals[i]
		default:
			lo, hi := vals[i-1], vals[i]
			switch dl, dh := a-lo, hi-a; {
			case dl < dh:
				r = lo
			case dh < dl:
				r = hi
			case codes[i-1]%2 == 0:
				r = lo
			default:
				r = hi
			}
		}
	}
	return math.Copysign(r, x)
}

// TestMathToHalfAndBF16 checks the rounding helpers on random float32
// values against tables of every binary16 and bfloat16 value.
func TestMathToHalfAndBF16(t *testing.T) {
	var hv, bv []float64
	var hc, bc []uint16
	for code := 0; code < 0x7c00; code++ { // positive finite binary16
		e, m := code>>10, code&0x3ff
		v := math.Ldexp(float64(m), -24)
		if e > 0 {
			v = math.Ldexp(float64(1024+m), e-25)
		}
		hv, hc = append(hv, v), append(hc, uint16(code))
	}
	for code := 0; code < 0x7f80; code++ { // positive finite bfloat16
		bv, bc = append(bv, float64(math.Float32frombits(uint32(code)<<16))), append(bc, uint16(code))
	}
	// Past the largest finite value plus half an ulp, rounding overflows.
	hLimit := 65504 + 16.0
	bLimit := bv[len(bv)-1] + math.Ldexp(1, 127-8)
	r := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 200000; i++ {
		var f float32
		switch i % 4 {
		case 0:
			f = float32((r.Float64()*2 - 1) * 70000)
		case 1:
			f = float32(math.Ldexp(r.Float64()*2-1, -r.IntN(30)))
		case 2:
			f = math.Float32frombits(r.Uint32())
		default:
			// Exact ties between neighbouring binary16 values.
			j := r.IntN(len(hv) - 1)
			f = float32((hv[j] + hv[j+1]) / 2)
		}
		if f != f {
			continue
		}
		if got, want := float64(mathToHalf(f)), mathTableRound(float64(f), hv, hc, hLimit); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("mathToHalf(%g) = %g, want %g", f, got, want)
		}
		if got, want := float64(mathToBF16(f)), mathTableRound(float64(f), bv, bc, bLimit); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("mathToBF16(%g) = %g, want %g", f, got, want)
		}
	}
	nan := float32(math.NaN())
	if v := mathToHalf(nan); v == v {
		t.Error("mathToHalf(NaN) is not NaN")
	}
	if v := mathToBF16(math.Float32frombits(0x7f800001)); v == v {
		t.Error("mathToBF16 of a NaN with a low payload is not NaN")
	}
}

func TestMathCastRuntimeDType(t *testing.T) {
	spec, _ := Default().Lookup("Cast")
	in := mathF32s(mathS(1), 1)
	k, err := spec.Build(mathNode("Cast", mathCastAttrs(tensor.Float32, tensor.Int32), []*tensor.Tensor{in}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Run(&Ctx{}, []*tensor.Tensor{mathI32s(mathS(1), 1)}); !errors.Is(err, ErrDType) {
		t.Fatalf("err = %v, want ErrDType", err)
	}
}
