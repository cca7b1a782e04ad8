package ops

import (
	"math"
	"math/cmplx"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// cplxCheck compares a complex tensor with want, part by part, within
// |got-want| <= tol·(1+|want|); NaN parts must be NaN.
func cplxCheck(t *testing.T, name string, got *tensor.Tensor, dt tensor.DType, shape tensor.Shape, want []complex128, tol float64) {
	t.Helper()
	if got.DType() != dt || !got.Shape().Equal(shape) {
		t.Fatalf("%s: got %s%v, want %s%v", name, got.DType(), got.Shape(), dt, shape)
	}
	var vals []complex128
	switch d := got.Data().(type) {
	case []complex64:
		for _, v := range d {
			vals = append(vals, complex128(v))
		}
	case []complex128:
		vals = d
	}
	if len(vals) != len(want) {
		t.Fatalf("%s: got %d values, want %d", name, len(vals), len(want))
	}
	for i, w := range want {
		g := vals[i]
		for _, p := range [][2]float64{{real(g), real(w)}, {imag(g), imag(w)}} {
			if math.IsNaN(p[1]) {
				if !math.IsNaN(p[0]) {
					t.Errorf("%s[%d]: got %v, want %v", name, i, g, w)
				}
				continue
			}
			if math.Abs(p[0]-p[1]) > tol*(1+cmplx.Abs(w)) {
				t.Errorf("%s[%d]: got %v, want %v", name, i, g, w)
			}
		}
	}
}

func cplx64s(shape tensor.Shape, v ...complex64) *tensor.Tensor   { return tensor.FromSlice(shape, v) }
func cplx128s(shape tensor.Shape, v ...complex128) *tensor.Tensor { return tensor.FromSlice(shape, v) }

func TestComplexOp(t *testing.T) {
	s := mathS
	for _, tt := range []struct {
		name      string
		attrs     tensor.Attrs
		re, im    *tensor.Tensor
		dt        tensor.DType
		shape     tensor.Shape
		want      []complex128
		wantError error
	}{
		{name: "float32 with scalar imag", re: mathF32s(s(2), 1, 2), im: mathF32s(s(), 3),
			dt: tensor.Complex64, shape: s(2), want: []complex128{1 + 3i, 2 + 3i}},
		{name: "float64 broadcast 2x1 by 1x2", attrs: tensor.Attrs{"Tout": tensor.Complex128},
			re: mathF64s(s(2, 1), 1, 2), im: mathF64s(s(1, 2), -1, 0.5),
			dt: tensor.Complex128, shape: s(2, 2), want: []complex128{1 - 1i, 1 + 0.5i, 2 - 1i, 2 + 0.5i}},
		{name: "NaN and Inf parts kept", re: mathF32s(s(1), float32(math.NaN())), im: mathF32s(s(1), float32(math.Inf(-1))),
			dt: tensor.Complex64, shape: s(1), want: []complex128{complex(math.NaN(), math.Inf(-1))}},
		{name: "empty", re: mathF32s(s(0, 3)), im: mathF32s(s(1, 3), 1, 2, 3), dt: tensor.Complex64, shape: s(0, 3), want: nil},
		{name: "Tout does not fit", attrs: tensor.Attrs{"Tout": tensor.Complex128}, re: mathF32s(s(1), 1), im: mathF32s(s(1), 1), wantError: ErrDType},
		{name: "integer inputs", re: mathI32s(s(1), 1), im: mathI32s(s(1), 1), wantError: ErrDType},
		{name: "shapes do not broadcast", re: mathF32s(s(2), 1, 2), im: mathF32s(s(3), 1, 2, 3), wantError: ErrShape},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantError != nil {
				moreWantErr(t, tt.wantError, "Complex", tt.attrs, tt.re, tt.im)
				return
			}
			got := moreMust(t, "Complex", tt.attrs, tt.re, tt.im)[0]
			cplxCheck(t, tt.name, got, tt.dt, tt.shape, tt.want, 0)
		})
	}
}

func TestComplexParts(t *testing.T) {
	s := mathS
	// Hand-computed: |3+4i| = 5, arg(3+4i) = atan2(4, 3) = 0.9272952180016122,
	// arg(-1+0i) = π, arg(-1-0i) = -π, arg(i) = π/2.
	in := []complex128{3 + 4i, complex(-1, 0), complex(-1, math.Copysign(0, -1)), 1i, complex(math.NaN(), 1)}
	want := map[string][]float64{
		"Real":       {3, -1, -1, 0, math.NaN()},
		"Imag":       {4, 0, math.Copysign(0, -1), 1, 1},
		"ComplexAbs": {5, 1, 1, 1, math.NaN()},
		"Angle":      {0.9272952180016122, math.Pi, -math.Pi, math.Pi / 2, math.NaN()},
	}
	in64 := make([]complex64, len(in))
	for i, z := range in {
		in64[i] = complex64(z)
	}
	for op, w := range want {
		got := moreMust(t, op, nil, cplx64s(s(5), in64...))[0]
		mathCheckClose(t, op+" complex64", got, w, 1e-7, 0)
		if got.DType() != tensor.Float32 {
			t.Errorf("%s complex64: dtype %s", op, got.DType())
		}
		got = moreMust(t, op, tensor.Attrs{"Tout": tensor.Float64}, cplx128s(s(5, 1), in...))[0]
		mathCheckClose(t, op+" complex128", got, w, 1e-15, 0)
		if got.DType() != tensor.Float64 || !got.Shape().Equal(s(5, 1)) {
			t.Errorf("%s complex128: %s%v", op, got.DType(), got.Shape())
		}
		// Rank 0 and empty.
		got = moreMust(t, op, nil, cplx64s(s(), 3+4i))[0]
		if !got.Shape().Equal(s()) {
			t.Errorf("%s rank 0: shape %v", op, got.Shape())
		}
		got = moreMust(t, op, nil, cplx64s(s(0)))[0]
		if got.Len() != 0 {
			t.Errorf("%s empty: %v", op, got)
		}
		moreWantErr(t, ErrDType, op, nil, mathF32s(s(1), 1))
		moreWantErr(t, ErrDType, op, tensor.Attrs{"Tout": tensor.Float64}, cplx64s(s(1), 1))
	}
	got := moreMust(t, "Conj", nil, cplx128s(s(2), 1+2i, -3))[0]
	cplxCheck(t, "Conj", got, tensor.Complex128, s(2), []complex128{1 - 2i, complex(-3, math.Copysign(0, -1))}, 0)
	got = moreMust(t, "Conj", nil, cplx64s(s(1), 1-1i))[0]
	cplxCheck(t, "Conj complex64", got, tensor.Complex64, s(1), []complex128{1 + 1i}, 0)
	moreWantErr(t, ErrDType, "Conj", nil, mathF32s(s(1), 1))
}

func TestComplexArithmetic(t *testing.T) {
	s := mathS
	a := []complex128{1 + 2i, -1, 2i}
	b := 3 + 4i
	// Hand-computed: (1+2i)(3+4i) = -5+10i; (1+2i)/(3+4i) = (11+2i)/25;
	// -1/(3+4i) = (-3+4i)/25; 2i/(3+4i) = (8+6i)/25.
	want := map[string][]complex128{
		"Add":     {4 + 6i, 2 + 4i, 3 + 6i},
		"AddV2":   {4 + 6i, 2 + 4i, 3 + 6i},
		"Sub":     {-2 - 2i, -4 - 4i, -3 - 2i},
		"Mul":     {-5 + 10i, -3 - 4i, -8 + 6i},
		"RealDiv": {(11 + 2i) / 25, (-3 + 4i) / 25, (8 + 6i) / 25},
		"Div":     {(11 + 2i) / 25, (-3 + 4i) / 25, (8 + 6i) / 25},
	}
	for op, w := range want {
		got := moreMust(t, op, nil, cplx128s(s(3), a...), cplx128s(s(), b))[0]
		cplxCheck(t, op, got, tensor.Complex128, s(3), w, 1e-15)
		a64 := []complex64{complex64(a[0]), complex64(a[1]), complex64(a[2])}
		got = moreMust(t, op, nil, cplx64s(s(3, 1), a64...), cplx64s(s(1, 2), complex64(b), complex64(b)))[0]
		w2 := []complex128{w[0], w[0], w[1], w[1], w[2], w[2]}
		cplxCheck(t, op+" complex64 broadcast", got, tensor.Complex64, s(3, 2), w2, 1e-7)
	}
	// Division by zero follows Go's (and C99's) complex rules: not an error.
	got := moreMust(t, "Div", nil, cplx128s(s(1), 1), cplx128s(s(1), 0))[0]
	if z := tensor.As[complex128](got)[0]; !cmplx.IsInf(z) && !cmplx.IsNaN(z) {
		t.Errorf("1/0 = %v", z)
	}
	moreWantErr(t, ErrDType, "Maximum", nil, cplx64s(s(1), 1), cplx64s(s(1), 2))
	moreWantErr(t, ErrDType, "SquaredDifference", nil, cplx64s(s(1), 1), cplx64s(s(1), 2))
	moreWantErr(t, ErrDType, "Add", nil, cplx64s(s(1), 1), cplx128s(s(1), 2))
}

func TestComplexUnary(t *testing.T) {
	s := mathS
	for _, tt := range []struct {
		op   string
		in   complex128
		want complex128 // hand-computed
	}{
		{"Neg", 1 - 2i, -1 + 2i},
		{"Square", 1 + 2i, -3 + 4i},
		{"Exp", complex(0, math.Pi), -1},
		{"Log", -1, complex(0, math.Pi)},
		{"Sqrt", -4, 2i},
		{"Rsqrt", -4, -0.5i},
		{"Tanh", 0, 0},
		{"Sigmoid", 0, 0.5},
		{"Sign", 3 + 4i, 0.6 + 0.8i},
		{"Sign", 0, 0},
	} {
		got := moreMust(t, tt.op, nil, cplx128s(s(1), tt.in))[0]
		cplxCheck(t, tt.op, got, tensor.Complex128, s(1), []complex128{tt.want}, 1e-15)
		got = moreMust(t, tt.op, nil, cplx64s(s(), complex64(tt.in)))[0]
		cplxCheck(t, tt.op+" complex64", got, tensor.Complex64, s(), []complex128{tt.want}, 1e-7)
	}
	moreWantErr(t, ErrDType, "Relu", nil, cplx64s(s(1), 1))
}

func TestComplexCast(t *testing.T) {
	s := mathS
	c := mathCastAttrs
	// Real to complex: imag 0; complex to real: the real part, then the
	// usual conversion (2.7 truncates to 2; a bool tests the real part
	// only, so i is false).
	got := moreMust(t, "Cast", c(tensor.Float32, tensor.Complex64), mathF32s(s(2), 1.5, float32(math.Inf(1))))[0]
	cplxCheck(t, "f32→c64", got, tensor.Complex64, s(2), []complex128{1.5, complex(math.Inf(1), 0)}, 0)
	got = moreMust(t, "Cast", c(tensor.Int32, tensor.Complex128), mathI32s(s(1), -7))[0]
	cplxCheck(t, "i32→c128", got, tensor.Complex128, s(1), []complex128{-7}, 0)
	got = moreMust(t, "Cast", c(tensor.Bool, tensor.Complex64), mathBools(s(2), true, false))[0]
	cplxCheck(t, "bool→c64", got, tensor.Complex64, s(2), []complex128{1, 0}, 0)
	got = moreMust(t, "Cast", c(tensor.Half, tensor.Complex64), mathT(t, tensor.Half, s(1), []float32{0.5}))[0]
	cplxCheck(t, "half→c64", got, tensor.Complex64, s(1), []complex128{0.5}, 0)
	got = moreMust(t, "Cast", c(tensor.Complex64, tensor.Int32), cplx64s(s(2), 2.7-1i, -2.7+5i))[0]
	mathCheckExact(t, "c64→i32", got, []float64{2, -2})
	got = moreMust(t, "Cast", c(tensor.Complex128, tensor.Bool), cplx128s(s(3), 1i, 2, 0))[0]
	mathCheckExact(t, "c128→bool", got, []float64{0, 1, 0})
	got = moreMust(t, "Cast", c(tensor.Complex128, tensor.Float32), cplx128s(s(1), 0.1+3i))[0]
	mathCheckExact(t, "c128→f32", got, []float64{float64(float32(0.1))})
	got = moreMust(t, "Cast", c(tensor.Complex64, tensor.Float32), cplx64s(s(1), 0.25+3i))[0]
	mathCheckExact(t, "c64→f32", got, []float64{0.25})
	got = moreMust(t, "Cast", c(tensor.Complex64, tensor.Complex128), cplx64s(s(1), 0.1+0.2i))[0]
	cplxCheck(t, "c64→c128", got, tensor.Complex128, s(1), []complex128{complex(float64(float32(0.1)), float64(float32(0.2)))}, 0)
	got = moreMust(t, "Cast", c(tensor.Complex128, tensor.Complex64), cplx128s(s(1), 0.1+0.2i))[0]
	cplxCheck(t, "c128→c64", got, tensor.Complex64, s(1), []complex128{complex128(complex64(0.1 + 0.2i))}, 0)
	got = moreMust(t, "Cast", c(tensor.Complex64, tensor.Half), cplx64s(s(1), 1+1.0/2048))[0]
	mathCheckExact(t, "c64→half", got, []float64{1})
	moreWantErr(t, ErrDType, "Cast", c(tensor.Complex64, tensor.String), cplx64s(s(1), 1))
}

// TestComplexArrayOps checks that the shared array kernels move complex
// (and uint32/uint64) elements.
func TestComplexArrayOps(t *testing.T) {
	s := mathS
	x := cplx64s(s(2, 2), 1+1i, 2, 3i, 4-4i)
	got := moreMust(t, "Transpose", nil, x, mathI32s(s(2), 1, 0))[0]
	cplxCheck(t, "Transpose", got, tensor.Complex64, s(2, 2), []complex128{1 + 1i, 3i, 2, 4 - 4i}, 0)
	got = moreMust(t, "ConcatV2", tensor.Attrs{"N": int64(2)}, x, x, mathI32s(s(), 0))[0]
	if !got.Shape().Equal(s(4, 2)) || tensor.As[complex64](got)[7] != 4-4i {
		t.Errorf("ConcatV2: %v", got)
	}
	u := tensor.FromSlice(s(3), []uint64{1 << 63, 2, 3})
	got = moreMust(t, "GatherV2", nil, u, mathI32s(s(2), 2, 0), mathI32s(s(), 0))[0]
	if g := tensor.As[uint64](got); g[0] != 3 || g[1] != 1<<63 {
		t.Errorf("GatherV2 uint64: %v", g)
	}
}
