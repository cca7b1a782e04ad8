package tensor

import (
	"errors"
	"math"
	"testing"
)

func TestNumElements(t *testing.T) {
	cases := []struct {
		s    Shape
		n    int
		fail bool
	}{
		{Shape{}, 1, false},
		{Shape{0, 5}, 0, false},
		{Shape{2, 3, 4}, 24, false},
		{Shape{-1, 2}, 0, true},
		{Shape{1 << 32, 1 << 32}, 0, true},
		{Shape{0, 1 << 62, 1 << 62}, 0, false},
	}
	for _, c := range cases {
		n, err := c.s.NumElements()
		if (err != nil) != c.fail || (!c.fail && n != c.n) {
			t.Errorf("%v.NumElements() = %d, %v", c.s, n, err)
		}
		if err != nil && !errors.Is(err, ErrLimit) {
			t.Errorf("%v: error %v does not wrap ErrLimit", c.s, err)
		}
	}
	if _, err := New(Float32, Shape{1000, 1000}, 999); !errors.Is(err, ErrLimit) {
		t.Errorf("element limit not enforced: %v", err)
	}
}

func TestNormAxis(t *testing.T) {
	for _, c := range []struct{ axis, rank, want int }{{0, 3, 0}, {-1, 3, 2}, {-3, 3, 0}, {2, 3, 2}} {
		got, err := NormAxis(c.axis, c.rank)
		if err != nil || got != c.want {
			t.Errorf("NormAxis(%d, %d) = %d, %v", c.axis, c.rank, got, err)
		}
	}
	for _, c := range []struct{ axis, rank int }{{3, 3}, {-4, 3}, {0, 0}} {
		if _, err := NormAxis(c.axis, c.rank); err == nil {
			t.Errorf("NormAxis(%d, %d) accepted", c.axis, c.rank)
		}
	}
}

func TestPartialShape(t *testing.T) {
	p := PartialShape{Dims: []int{-1, 784}}
	if !p.Matches(Shape{5, 784}) || p.Matches(Shape{5, 783}) || p.Matches(Shape{784}) {
		t.Error("Matches")
	}
	if !UnknownShape().Matches(Shape{1, 2, 3}) {
		t.Error("unknown rank must match anything")
	}
	if p.String() != "[? 784]" || UnknownShape().String() != "<unknown>" {
		t.Errorf("String: %s %s", p, UnknownShape())
	}
	b, _ := p.MarshalJSON()
	if string(b) != "[-1,784]" {
		t.Errorf("JSON %s", b)
	}
}

func TestSliceRowsAndCopyRows(t *testing.T) {
	x := FromSlice(Shape{4, 2}, []int32{0, 1, 2, 3, 4, 5, 6, 7})
	s, err := x.SliceRows(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Shape().Equal(Shape{2, 2}) || As[int32](s)[0] != 2 || len(As[int32](s)) != 4 || cap(As[int32](s)) != 4 {
		t.Errorf("slice %v", s)
	}
	if _, err := x.SliceRows(3, 5); err == nil {
		t.Error("out-of-range rows accepted")
	}
	dst := FromSlice(Shape{4, 2}, make([]int32, 8))
	if err := CopyRows(dst, 2, s); err != nil {
		t.Fatal(err)
	}
	if got := As[int32](dst); got[4] != 2 || got[7] != 5 || got[0] != 0 {
		t.Errorf("CopyRows: %v", got)
	}
	if err := CopyRows(dst, 3, s); err == nil {
		t.Error("overflowing copy accepted")
	}
}

func TestEqualTreatsNaNBitwise(t *testing.T) {
	n := float32(math.NaN())
	a := FromSlice(Shape{2}, []float32{1, n})
	b := FromSlice(Shape{2}, []float32{1, n})
	if !Equal(a, b) {
		t.Error("identical NaN payloads compare unequal")
	}
	c := FromSlice(Shape{2}, []float32{1, float32(math.Copysign(0, -1))})
	d := FromSlice(Shape{2}, []float32{1, 0})
	if Equal(c, d) {
		t.Error("-0 and +0 compare equal bitwise")
	}
	if Equal(a, FromSlice(Shape{1, 2}, []float32{1, n})) {
		t.Error("shapes ignored")
	}
}

func TestWrapChecksTypes(t *testing.T) {
	if _, err := Wrap(Float32, Shape{2}, []float64{1, 2}); err == nil {
		t.Error("float64 data accepted as float32")
	}
	if _, err := Wrap(Half, Shape{2}, []float32{1, 2}); err != nil {
		t.Errorf("half stored as float32 rejected: %v", err)
	}
	if _, err := Wrap(Int32, Shape{3}, []int32{1, 2}); err == nil {
		t.Error("length mismatch accepted")
	}
}

func TestAttrs(t *testing.T) {
	a := Attrs{"i": int64(3), "l": []int64{1, 2}, "e": EmptyList{}, "s": "SAME", "t": Float32}
	if v, ok, err := a.Int("i"); v != 3 || !ok || err != nil {
		t.Error("Int")
	}
	if _, ok, err := a.Int("s"); !ok || err == nil {
		t.Error("Int of a string attr must fail")
	}
	if v, ok, err := a.Ints("e"); len(v) != 0 || !ok || err != nil {
		t.Error("empty list")
	}
	if _, ok, _ := a.Ints("missing"); ok {
		t.Error("missing attr reported present")
	}
	if v, _, _ := a.Type("t"); v != Float32 {
		t.Error("Type")
	}
}

func TestDTypes(t *testing.T) {
	if DType(101).Base() != Float32 || !DType(101).IsRef() || DType(101).String() != "float32_ref" {
		t.Error("ref dtypes")
	}
	for _, s := range []string{"float32", "int64", "bool", "string", "float16", "bfloat16", "DT_FLOAT"} {
		d, err := ParseDType(s)
		if err != nil || !d.Supported() {
			t.Errorf("ParseDType(%q) = %v, %v", s, d, err)
		}
	}
}

func TestWideAndComplexDTypes(t *testing.T) {
	for _, tt := range []struct {
		dt    DType
		name  string
		size  int
		data  any
		first float64 // Float64s()[0]
	}{
		{dt: Uint32, name: "uint32", size: 4, data: []uint32{math.MaxUint32, 1}, first: math.MaxUint32},
		{dt: Uint64, name: "uint64", size: 8, data: []uint64{1 << 63, 2}, first: 1 << 63},
		{dt: Complex64, name: "complex64", size: 8, data: []complex64{complex(1.5, -2), 3i}, first: 1.5},
		{dt: Complex128, name: "complex128", size: 16, data: []complex128{complex(-4, 0.25), 1}, first: -4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.dt.Supported() || tt.dt.String() != tt.name || tt.dt.Size() != tt.size || tt.dt.StorageSize() != tt.size {
				t.Errorf("dtype %v: supported %v, size %d", tt.dt, tt.dt.Supported(), tt.dt.Size())
			}
			if d, err := ParseDType(tt.name); err != nil || d != tt.dt {
				t.Errorf("ParseDType(%q) = %v, %v", tt.name, d, err)
			}
			if tt.dt.IsComplex() != (tt.size == 16 || tt.name == "complex64") {
				t.Errorf("IsComplex wrong for %v", tt.dt)
			}
			a, err := Wrap(tt.dt, Shape{2}, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Float64s()[0]; got != tt.first {
				t.Errorf("Float64s()[0] = %v, want %v", got, tt.first)
			}
			c := a.Clone()
			if !Equal(a, c) {
				t.Error("clone differs")
			}
			z, err := New(tt.dt, Shape{3, 2}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := CopyRows(z, 1, a.mustView(t, Shape{1, 2})); err != nil {
				t.Fatal(err)
			}
			r, err := z.SliceRows(1, 2)
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(r, a.mustView(t, Shape{1, 2})) {
				t.Errorf("rows: got %v, want %v", r, a)
			}
			if Equal(z, a) {
				t.Error("different shapes compare equal")
			}
			if s := a.String(); s == "" {
				t.Error("empty String")
			}
		})
	}
	if DTypeOf[complex64]() != Complex64 || DTypeOf[uint64]() != Uint64 {
		t.Error("DTypeOf")
	}
	n := complex(float32(math.NaN()), 0)
	if !Equal(FromSlice(Shape{1}, []complex64{n}), FromSlice(Shape{1}, []complex64{n})) {
		t.Error("identical complex NaNs compare unequal")
	}
}

func (t *Tensor) mustView(tb testing.TB, s Shape) *Tensor {
	v, err := t.View(s)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
