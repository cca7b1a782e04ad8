package ops

import (
	"math"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

func TestStringToNumber(t *testing.T) {
	s := moreS
	str := func(v ...string) *tensor.Tensor { return tensor.FromSlice(s(len(v)), v) }
	for _, tt := range []struct {
		name string
		dt   tensor.DType
		in   []string
		want []float64
	}{
		{name: "float32", dt: tensor.Float32, in: []string{"1.5", " -2e3 ", "+7", "0.1"}, want: []float64{1.5, -2000, 7, float64(float32(0.1))}},
		// Special values and overflow (1e39 exceeds float32, 1e999 float64).
		{name: "float specials", dt: tensor.Float32, in: []string{"inf", "-Infinity", "1e39", "1e-60"}, want: []float64{math.Inf(1), math.Inf(-1), math.Inf(1), 0}},
		{name: "float64", dt: tensor.Float64, in: []string{"0.1", "1e999", "\t3\n"}, want: []float64{0.1, math.Inf(1), 3}},
		{name: "int32", dt: tensor.Int32, in: []string{"-2147483648", " 42", "+5"}, want: []float64{math.MinInt32, 42, 5}},
		{name: "int64", dt: tensor.Int64, in: []string{"9007199254740993"}, want: []float64{9007199254740993}},
	} {
		got := moreMust(t, "StringToNumber", tensor.Attrs{"out_type": tt.dt}, str(tt.in...))[0]
		if got.DType() != tt.dt {
			t.Errorf("%s: dtype %s", tt.name, got.DType())
		}
		if tt.dt == tensor.Int64 {
			if v := tensor.As[int64](got)[0]; v != 9007199254740993 {
				t.Errorf("%s: %d", tt.name, v)
			}
			continue
		}
		moreExact(t, tt.name, got, tt.dt, s(len(tt.in)), tt.want)
	}
	got := moreMust(t, "StringToNumber", nil, tensor.FromSlice(s(), []string{"nan"}))[0]
	if v := got.Float64s()[0]; !math.IsNaN(v) || got.DType() != tensor.Float32 {
		t.Errorf("nan: %v", got)
	}
	for _, bad := range []struct {
		dt tensor.DType
		in string
	}{
		{tensor.Float32, "abc"}, {tensor.Float32, ""}, {tensor.Float32, "0x10"}, {tensor.Float32, "1_000"},
		{tensor.Int32, "2147483648"}, {tensor.Int32, "1.5"}, {tensor.Int64, "1e3"},
	} {
		moreWantErr(t, ErrShape, "StringToNumber", tensor.Attrs{"out_type": bad.dt}, str(bad.in))
	}
	moreWantErr(t, ErrDType, "StringToNumber", tensor.Attrs{"out_type": tensor.Bool}, str("1"))
	moreWantErr(t, ErrDType, "StringToNumber", nil, moreT(tensor.Float32, s(1), 1))
	got = moreMust(t, "StringToNumber", nil, tensor.FromSlice(s(0, 2), []string{}))[0]
	if !got.Shape().Equal(s(0, 2)) {
		t.Errorf("empty: %v", got.Shape())
	}
}
