package ops

import (
	"math"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// Fingerprint64 goldens: the farmhashna::Hash64 column (oh64na) of
// dgryski/go-farm's farmhash_test.go ("generated from the C++ code"), and
// TensorFlow's string_to_hash_bucket_op_test.py for the bucket values.
func TestHashFingerprint64Goldens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0x9ae16a3b2f90404f},
		{"a", 0xb3454265b6df75e3},
		{"ab", 0xaa8d6e5242ada51e},
		{"abc", 0x24a5b3a074e7f369},
		{"abcd", 0x1a5502de4a1f8101},
		{"abcdefgh", 0xfee9d22990c82909},
		{"abcdefghi", 0x332c8ed4dae5ba42},
		{"0123456789+0123456", 0xa4abb4e0da2c594c},                                                   // 18 bytes
		{"size:  a.out:  bad magic", 0x80d73b843ba57db8},                                             // 24 bytes
		{"C is as portable as Stonehedge!!", 0xb944f8a16261e414},                                     // 32 bytes
		{"Discard medicine more than two years old.", 0xe8f89ab6df9bdd25},                            // 41 bytes
		{"Free! Free!/A trip/to Mars/for 900/empty jars/Burma Shave", 0x5d14f96c18fe3d5e},            // 58 bytes
		{"For every action there is an equal and opposite government program.", 0x55182f8859eca4ce},  // 68 bytes
		{"You remind me of a TV show, but that's all right: I watch it anyway.", 0xabcdb319fcf2826c}, // 68 bytes
		{"There is no reason for any individual to have a computer in their home. -Ken Olsen, 1977", 0x7e85d7b050ed2967}, // 88 bytes
		{"The fugacity of a constituent in a mixture of gases at a given temperature is proportional to its mole fraction.  Lewis-Randall Rule", 0x98eff6958c5e91a},
		{"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.", 0xc3f02c4ffd5d71e6},
	} {
		if got := hashFingerprint64([]byte(c.in)); got != c.want {
			t.Errorf("Fingerprint64(%q) (%d bytes) = %#x, want %#x", c.in, len(c.in), got, c.want)
		}
	}
}

func TestStringToHashBucketFast(t *testing.T) {
	in := tensor.FromSlice(tensor.Shape{2, 2}, []string{"a", "b", "c", "d"})
	// string_to_hash_bucket_op_test.py: Fingerprint64 mod 10 -> 9, 2, 2, 5.
	got := moreMust(t, "StringToHashBucketFast", tensor.Attrs{"num_buckets": int64(10)}, in)[0]
	seqWant(t, "10 buckets", got, tensor.Int64, tensor.Shape{2, 2}, []float64{9, 2, 2, 5})
	got = moreMust(t, "StringToHashBucketFast", tensor.Attrs{"num_buckets": int64(1)}, in)[0]
	seqWant(t, "1 bucket", got, tensor.Int64, tensor.Shape{2, 2}, []float64{0, 0, 0, 0})
	// Large bucket counts use the unsigned fingerprint: 0xb3454265b6df75e3
	// mod 2^62 = 0x33454265b6df75e3.
	got = moreMust(t, "StringToHashBucketFast", tensor.Attrs{"num_buckets": int64(1) << 62}, tensor.Scalar("a"))[0]
	seqWant(t, "2^62 buckets", got, tensor.Int64, tensor.Shape{}, []float64{float64(int64(0x33454265b6df75e3))})
	got = moreMust(t, "StringToHashBucketFast", tensor.Attrs{"num_buckets": int64(3)}, tensor.FromSlice(tensor.Shape{0}, []string{}))[0]
	seqWant(t, "empty", got, tensor.Int64, tensor.Shape{0}, []float64{})
	moreWantErr(t, ErrAttr, "StringToHashBucketFast", tensor.Attrs{"num_buckets": int64(0)}, in)
	moreWantErr(t, ErrDType, "StringToHashBucketFast", tensor.Attrs{"num_buckets": int64(2)}, tensor.Scalar(int32(1)))
}

func TestAsString(t *testing.T) {
	f32 := func(v ...float32) *tensor.Tensor { return tensor.FromSlice(tensor.Shape{len(v)}, v) }
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		name  string
		in    *tensor.Tensor
		attrs tensor.Attrs
		want  []string
	}{
		// Expected strings are what C's printf gives for the format
		// as_string_op.cc builds ("%lld", "%f", "%.2f", "%e", "%g", ...).
		{name: "int64", in: tensor.FromSlice(tensor.Shape{3}, []int64{0, -12, 1 << 40}), want: []string{"0", "-12", "1099511627776"}},
		{name: "int32 width zero-fill", in: tensor.FromSlice(tensor.Shape{2}, []int32{7, -7}), attrs: tensor.Attrs{"width": int64(5), "fill": "0"}, want: []string{"00007", "-0007"}},
		{name: "int8 left-justified", in: tensor.FromSlice(tensor.Shape{1}, []int8{7}), attrs: tensor.Attrs{"width": int64(3), "fill": "-"}, want: []string{"7  "}},
		{name: "int16 width", in: tensor.FromSlice(tensor.Shape{1}, []int16{-3}), attrs: tensor.Attrs{"width": int64(4)}, want: []string{"  -3"}},
		{name: "float default", in: f32(1.5, -0.25), want: []string{"1.500000", "-0.250000"}},
		{name: "float precision", in: f32(1.5, 2.125), attrs: tensor.Attrs{"precision": int64(2)}, want: []string{"1.50", "2.12"}},
		{name: "float scientific", in: f32(1.5, 12345), attrs: tensor.Attrs{"scientific": true}, want: []string{"1.500000e+00", "1.234500e+04"}},
		{name: "float shortest", in: f32(0.1, 1e-5, 123456789, 100), attrs: tensor.Attrs{"shortest": true}, want: []string{"0.1", "1e-05", "1.23457e+08", "100"}},
		{name: "double shortest precision", in: tensor.FromSlice(tensor.Shape{1}, []float64{math.Pi}), attrs: tensor.Attrs{"shortest": true, "precision": int64(3)}, want: []string{"3.14"}},
		{name: "non-finite", in: f32(inf, -inf, float32(math.NaN())), attrs: tensor.Attrs{"width": int64(5)}, want: []string{"  inf", " -inf", "  nan"}},
		{name: "bool", in: tensor.FromSlice(tensor.Shape{2}, []bool{true, false}), want: []string{"true", "false"}},
		{name: "rank 0", in: tensor.Scalar(int64(3)), want: []string{"3"}},
		{name: "empty", in: f32(), want: []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			attrs := c.attrs
			if attrs == nil {
				attrs = tensor.Attrs{}
			}
			attrs["T"] = c.in.DType()
			got := moreMust(t, "AsString", attrs, c.in)[0]
			if got.DType() != tensor.String || !got.Shape().Equal(c.in.Shape()) || strings.Join(tensor.As[string](got), "|") != strings.Join(c.want, "|") {
				t.Errorf("got %s%v %q, want %q", got.DType(), got.Shape(), tensor.As[string](got), c.want)
			}
		})
	}
	for _, a := range []tensor.Attrs{
		{"T": tensor.Int32, "precision": int64(2)},
		{"T": tensor.Int32, "shortest": true},
		{"T": tensor.Float32, "scientific": true, "shortest": true},
		{"T": tensor.Float32, "fill": "ab"},
		{"T": tensor.Float32, "fill": "x", "width": int64(3)},
	} {
		in := tensor.Scalar(float32(1))
		if a["T"] == tensor.Int32 {
			in = tensor.Scalar(int32(1))
		}
		moreWantErr(t, ErrAttr, "AsString", a, in)
	}
	moreWantErr(t, ErrDType, "AsString", tensor.Attrs{"T": tensor.String}, tensor.Scalar("x"))
}
