package ops

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// Numerical safety (issue 9): NaN and Inf propagate as TensorFlow's CPU
// kernels propagate them, integer division by zero and out-of-range
// indices are errors that say what was wrong, and nothing panics. The
// TensorFlow behaviour each table follows is cited with it.

// nsafeRun is moreRun (four build/run variants that must agree) that
// turns a panic into a test failure naming the op.
func nsafeRun(t *testing.T, op string, attrs tensor.Attrs, in ...*tensor.Tensor) (out []*tensor.Tensor, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", op, r)
		}
	}()
	return moreRun(t, op, attrs, in...)
}

var (
	nsafeNaN = math.NaN()
	nsafeInf = math.Inf(1)
)

// nsafeF32 makes a float32 vector from float64 values (NaN and Inf kept).
func nsafeF32(v ...float64) *tensor.Tensor {
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.FromSlice(tensor.Shape{len(v)}, f)
}

// nsafeView reshapes x, which must have as many elements as shape.
func nsafeView(x *tensor.Tensor, shape tensor.Shape) *tensor.Tensor {
	v, err := x.View(shape)
	if err != nil {
		panic(err)
	}
	return v
}

// nsafeAs converts t (float32, float64, half or bfloat16) to float64s.
func nsafeAs(t *tensor.Tensor) []float64 {
	if t.DType() == tensor.Float64 {
		return tensor.As[float64](t)
	}
	f := tensor.As[float32](t)
	out := make([]float64, len(f))
	for i, x := range f {
		out[i] = float64(x)
	}
	return out
}

// nsafeSame compares with NaN equal to NaN and exact otherwise.
func nsafeSame(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			return false
		}
	}
	return true
}

// nsafeOfDType makes a vector of dtype dt from float64 values.
func nsafeOfDType(dt tensor.DType, v ...float64) *tensor.Tensor {
	if dt == tensor.Float64 {
		return tensor.FromSlice(tensor.Shape{len(v)}, v)
	}
	t := nsafeF32(v...)
	if dt != tensor.Float32 {
		t, _ = t.Retag(dt)
	}
	return t
}

var nsafeFloatTypes = []tensor.DType{tensor.Float32, tensor.Float64, tensor.Half, tensor.BFloat16}

// TestNaNPropagatesElementwise: TensorFlow's Maximum and Minimum use
// Eigen's scalar_max_op/scalar_min_op with PropagateNaN
// (core/kernels/cwise_ops.h), so a NaN on either side gives NaN. Relu is
// features.cwiseMax(0) and Relu6 .cwiseMax(0).cwiseMin(6)
// (relu_op_functor.h): std::max/min semantics keep a NaN feature. ClipByValue
// is std::max(std::min(x, hi), lo) (cwise_op_clip.cc): a NaN x stays NaN, a
// NaN bound is ignored.
func TestNaNPropagatesElementwise(t *testing.T) {
	cases := []struct {
		op   string
		in   [][]float64
		want []float64
	}{
		{op: "Maximum", in: [][]float64{{nsafeNaN, 1, 2, nsafeNaN, -nsafeInf}, {1, nsafeNaN, 1, nsafeNaN, nsafeNaN}}, want: []float64{nsafeNaN, nsafeNaN, 2, nsafeNaN, nsafeNaN}},
		{op: "Minimum", in: [][]float64{{nsafeNaN, 1, 2, nsafeNaN, nsafeInf}, {1, nsafeNaN, 1, nsafeNaN, nsafeNaN}}, want: []float64{nsafeNaN, nsafeNaN, 1, nsafeNaN, nsafeNaN}},
		{op: "Relu", in: [][]float64{{nsafeNaN, -1, 7, nsafeInf, -nsafeInf}}, want: []float64{nsafeNaN, 0, 7, nsafeInf, 0}},
		{op: "Relu6", in: [][]float64{{nsafeNaN, -1, 7, nsafeInf, -nsafeInf}}, want: []float64{nsafeNaN, 0, 6, 6, 0}},
		// elu(x) = x > 0 ? x : exp(x) - 1; exp(-Inf) - 1 = -1.
		{op: "Elu", in: [][]float64{{nsafeNaN, nsafeInf, -nsafeInf}}, want: []float64{nsafeNaN, nsafeInf, -1}},
		// sigmoid(±Inf) = 1, 0; tanh(±Inf) = ±1.
		{op: "Sigmoid", in: [][]float64{{nsafeNaN, nsafeInf, -nsafeInf}}, want: []float64{nsafeNaN, 1, 0}},
		{op: "Tanh", in: [][]float64{{nsafeNaN, nsafeInf, -nsafeInf}}, want: []float64{nsafeNaN, 1, -1}},
		// softsign(x) = x / (|x| + 1): Inf/Inf is NaN in TensorFlow too.
		{op: "Softsign", in: [][]float64{{nsafeNaN, nsafeInf, -1}}, want: []float64{nsafeNaN, nsafeNaN, -0.5}},
		{op: "ClipByValue", in: [][]float64{{nsafeNaN, -5, 5, 0}, {-1}, {1}}, want: []float64{nsafeNaN, -1, 1, 0}},
		{op: "ClipByValue", in: [][]float64{{3, -5, 0}, {nsafeNaN}, {1}}, want: []float64{1, -5, 0}},
	}
	for _, c := range cases {
		for _, dt := range nsafeFloatTypes {
			t.Run(fmt.Sprintf("%s/%s", c.op, dt), func(t *testing.T) {
				var in []*tensor.Tensor
				for i, v := range c.in {
					x := nsafeOfDType(dt, v...)
					if c.op == "ClipByValue" && i > 0 {
						x = nsafeView(x, tensor.Shape{})
					}
					in = append(in, x)
				}
				out, err := nsafeRun(t, c.op, tensor.Attrs{"T": dt}, in...)
				if err != nil {
					t.Fatal(err)
				}
				want := c.want
				if c.op == "Elu" && dt != tensor.Float32 && dt != tensor.Float64 {
					want = want[:2] // exp(-Inf)-1 is -1 in every precision; kept short for the half types' rounding of the rest
				}
				if got := nsafeAs(out[0]); !nsafeSame(got[:len(want)], want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
}

// TestNaNInLongVectors runs the element-wise ops and reductions on vectors
// long enough for every vectorized path, with one NaN at a changing
// position: the result at that position (or of the reduction) must be
// NaN, and the rest a number.
func TestNaNInLongVectors(t *testing.T) {
	for _, n := range []int{7, 8, 16, 33, 257} {
		for _, pos := range []int{0, 1, n / 2, n - 1} {
			x := make([]float64, n)
			y := make([]float64, n)
			for i := range x {
				x[i] = float64(i%7) - 3
				y[i] = float64(i%5) - 2
			}
			x[pos] = nsafeNaN
			xt, yt := nsafeF32(x...), nsafeF32(y...)
			name := fmt.Sprintf("n=%d/pos=%d", n, pos)
			checkAt := func(op string, out *tensor.Tensor) {
				t.Helper()
				got := nsafeAs(out)
				for i, v := range got {
					if math.IsNaN(v) != (i == pos) {
						t.Errorf("%s %s: element %d is %v", op, name, i, v)
						return
					}
				}
			}
			f := tensor.Attrs{"T": tensor.Float32}
			for _, op := range []string{"Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Abs", "Neg", "Square"} {
				out, err := nsafeRun(t, op, f, xt)
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				checkAt(op, out[0])
			}
			for _, op := range []string{"Maximum", "Minimum", "AddV2", "Mul", "SquaredDifference"} {
				for _, in := range [][]*tensor.Tensor{{xt, yt}, {yt, xt}, {xt, tensor.Scalar[float32](1)}} {
					out, err := nsafeRun(t, op, f, in...)
					if err != nil {
						t.Fatalf("%s: %v", op, err)
					}
					checkAt(op, out[0])
				}
			}
			// Max and Min reduce with PropagateNaN since TensorFlow 2.4
			// (tensorflow/tfjs#4883 quotes tf.raw_ops.Max giving nan).
			for _, op := range []string{"Max", "Min", "Sum", "Mean", "Prod"} {
				rows := tensor.FromSlice(tensor.Shape{2, n}, append(tensor.As[float32](xt.Clone()), tensor.As[float32](yt)...))
				out, err := nsafeRun(t, op, tensor.Attrs{"T": tensor.Float32, "Tidx": tensor.Int32}, rows, tensor.Scalar[int32](1))
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				if got := nsafeAs(out[0]); !math.IsNaN(got[0]) || math.IsNaN(got[1]) {
					t.Errorf("%s %s over rows: %v, want [NaN, a number]", op, name, got)
				}
				cols := nsafeView(xt, tensor.Shape{n, 1})
				out, err = nsafeRun(t, op, tensor.Attrs{"T": tensor.Float32, "Tidx": tensor.Int32}, cols, tensor.Scalar[int32](0))
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				if got := nsafeAs(out[0]); !math.IsNaN(got[0]) {
					t.Errorf("%s %s over a column: %v, want NaN", op, name, got)
				}
			}
			// Softmax subtracts the row's max (which skips the NaN) and
			// divides by a sum that holds it: the whole row is NaN
			// (softmax_op_functor.h).
			for _, op := range []string{"Softmax", "LogSoftmax"} {
				out, err := nsafeRun(t, op, f, nsafeView(xt, tensor.Shape{1, n}))
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
				for i, v := range nsafeAs(out[0]) {
					if !math.IsNaN(v) {
						t.Errorf("%s %s: element %d is %v, want the whole row NaN", op, name, i, v)
						break
					}
				}
			}
		}
	}
}

// TestArgMaxArgMinNaN: TensorFlow's ArgMax and ArgMin use Eigen's
// ArgMaxPairReducer/ArgMinPairReducer (TensorFunctors.h), which start from
// (index 0, lowest or highest value) and move only to a strictly greater
// (smaller) value: NaNs are never chosen, the first of equal extremes
// wins, and when no value beats the start (all NaN, or only -Inf for
// ArgMax) the answer is index 0. tensorflow/tensorflow#118647 shows eager
// argmax of all-NaN giving 0 and argmin([1, nan, 3]) giving 0.
func TestArgMaxArgMinNaN(t *testing.T) {
	cases := []struct {
		in             []float64
		argmax, argmin int64
	}{
		{in: []float64{1, nsafeNaN, 3}, argmax: 2, argmin: 0},
		{in: []float64{nsafeNaN, 1, 3}, argmax: 2, argmin: 1},
		{in: []float64{3, nsafeNaN, 1}, argmax: 0, argmin: 2},
		{in: []float64{nsafeNaN, nsafeNaN}, argmax: 0, argmin: 0},
		{in: []float64{-nsafeInf, nsafeNaN}, argmax: 0, argmin: 0},
		{in: []float64{nsafeNaN, nsafeInf, -nsafeInf}, argmax: 1, argmin: 2},
		{in: []float64{2, nsafeNaN, 2, 5, 5}, argmax: 3, argmin: 0},
	}
	for _, c := range cases {
		for _, dt := range nsafeFloatTypes {
			for _, op := range []string{"ArgMax", "ArgMin"} {
				out, err := nsafeRun(t, op, tensor.Attrs{"T": dt, "Tidx": tensor.Int32, "output_type": tensor.Int64},
					nsafeOfDType(dt, c.in...), tensor.Scalar[int32](0))
				if err != nil {
					t.Fatalf("%s %v: %v", op, c.in, err)
				}
				want := c.argmax
				if op == "ArgMin" {
					want = c.argmin
				}
				if got := tensor.As[int64](out[0])[0]; got != want {
					t.Errorf("%s(%v) as %s = %d, want %d", op, c.in, dt, got, want)
				}
			}
		}
	}
	if _, err := nsafeRun(t, "ArgMax", tensor.Attrs{"T": tensor.Float32, "Tidx": tensor.Int32, "output_type": tensor.Int64},
		nsafeF32(), tensor.Scalar[int32](0)); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("ArgMax over an empty axis: %v, want an error (TensorFlow: \"Reduction axis 0 is empty\")", err)
	}
}

// TestMaxPoolNaN: TensorFlow's CPU MaxPool (SpatialMaxPool in
// maxpooling_op.cc) starts each window at the lowest float and takes
// cwiseMax with each input, which keeps the running value when the input
// is NaN: NaNs are skipped, and a window of NaNs only gives the lowest
// float. AvgPool sums, so a NaN makes its window NaN.
func TestMaxPoolNaN(t *testing.T) {
	attrs := tensor.Attrs{"T": tensor.Float32, "ksize": []int64{1, 2, 2, 1}, "strides": []int64{1, 2, 2, 1}, "padding": "VALID", "data_format": "NHWC"}
	for _, c := range []struct {
		op   string
		in   []float64
		want float64
	}{
		{"MaxPool", []float64{nsafeNaN, 1, 2, nsafeNaN}, 2},
		{"MaxPool", []float64{nsafeNaN, nsafeNaN, nsafeNaN, nsafeNaN}, -math.MaxFloat32},
		{"AvgPool", []float64{nsafeNaN, 1, 2, 3}, nsafeNaN},
	} {
		out, err := nsafeRun(t, c.op, attrs, nsafeView(nsafeF32(c.in...), tensor.Shape{1, 2, 2, 1}))
		if err != nil {
			t.Fatal(err)
		}
		if got := nsafeAs(out[0]); !nsafeSame(got, []float64{c.want}) {
			t.Errorf("%s(%v) = %v, want %v", c.op, c.in, got, c.want)
		}
	}
}

// TestFusedActivationsKeepNaN checks that a product followed by a fused
// activation keeps a NaN row NaN on every path (blocked GEMM and its
// epilogue, 1x1 convolution), as the unfused ops do.
func TestFusedActivationsKeepNaN(t *testing.T) {
	for _, m := range []int{1, 7, 37} {
		for _, n := range []int{1, 8, 17, 33} {
			const k = 5
			a := make([]float64, m*k)
			for i := range a {
				a[i] = float64(i%3) - 1
			}
			a[0] = nsafeNaN
			b := make([]float64, k*n)
			for i := range b {
				b[i] = float64(i%4) - 2
			}
			at := nsafeView(nsafeF32(a...), tensor.Shape{m, k})
			bt := nsafeView(nsafeF32(b...), tensor.Shape{k, n})
			bias := nsafeF32(make([]float64, n)...)
			check := func(what string, out *tensor.Tensor) {
				t.Helper()
				for j, v := range nsafeAs(out)[:n] {
					if !math.IsNaN(v) {
						t.Errorf("%s m=%d n=%d: out[0, %d] = %v, want NaN", what, m, n, j, v)
						return
					}
				}
			}
			for _, act := range []string{"Relu", "Relu6", "Elu", "LeakyRelu"} {
				out, err := nsafeRun(t, "_FusedMatMul", tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false,
					"fused_ops": []string{"BiasAdd", act}, "num_args": int64(1), "epsilon": float32(0), "leakyrelu_alpha": float32(0.2)}, at, bt, bias)
				if err != nil {
					t.Fatal(err)
				}
				check("_FusedMatMul+"+act, out[0])
			}
			out, err := nsafeRun(t, "_FusedConv2D", tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "VALID",
				"fused_ops": []string{"BiasAdd", "Relu"}, "num_args": int64(1), "epsilon": float32(0), "data_format": "NHWC"},
				nsafeView(at, tensor.Shape{1, 1, m, k}), nsafeView(bt, tensor.Shape{1, 1, k, n}), bias)
			if err != nil {
				t.Fatal(err)
			}
			check("_FusedConv2D+Relu", out[0])
		}
	}
}

// TestIntegerDivisionByZero: TensorFlow's integer Div, FloorDiv, Mod and
// FloorMod fail with InvalidArgument "Integer division by zero"
// (BinaryOpShared::SetComputeError, cwise_ops_common.cc); tfd fails the
// same way for TruncateDiv and TruncateMod, which TensorFlow leaves to the
// CPU. The quotient of the most negative integer by -1 wraps, as Go
// defines it, rather than trapping.
func TestIntegerDivisionByZero(t *testing.T) {
	ops := []string{"Div", "FloorDiv", "TruncateDiv", "Mod", "FloorMod", "TruncateMod"}
	checked := map[string]int{}
	for _, op := range ops {
		for _, dt := range []tensor.DType{tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64} {
			xs := nsafeInts(dt, tensor.Shape{3}, 7, 1, 0)
			ys := nsafeInts(dt, tensor.Shape{3}, 2, 0, 1)
			zero := nsafeInts(dt, tensor.Shape{}, 0)
			for _, y := range []*tensor.Tensor{ys, zero} {
				_, err := nsafeRun(t, op, tensor.Attrs{"T": dt}, xs, y)
				if errors.Is(err, ErrDType) {
					continue // the op does not take this dtype
				}
				if err == nil || !strings.Contains(err.Error(), "integer division by zero") || !strings.Contains(err.Error(), op) {
					t.Errorf("%s %s by %v: error %v, want %q naming the op", op, dt, y, err, "integer division by zero")
				}
				checked[op]++
			}
		}
	}
	for _, op := range ops {
		if checked[op] < 4 { // int32 and int64 at least, by a tensor and a scalar
			t.Errorf("%s: only %d integer dtypes checked", op, checked[op]/2)
		}
	}
	t.Logf("integer dtypes checked per op (tensor and scalar divisors): %v", checked)
	// math.MinInt64 / -1 and % -1 (by Go's definition: the quotient wraps
	// to math.MinInt64, the remainder is 0).
	for _, c := range []struct {
		op   string
		want int64
	}{{"Div", math.MinInt64}, {"FloorDiv", math.MinInt64}, {"TruncateDiv", math.MinInt64}, {"Mod", 0}, {"FloorMod", 0}, {"TruncateMod", 0}} {
		out, err := nsafeRun(t, c.op, tensor.Attrs{"T": tensor.Int64}, tensor.Scalar[int64](math.MinInt64), tensor.Scalar[int64](-1))
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		if got := tensor.As[int64](out[0])[0]; got != c.want {
			t.Errorf("%s(MinInt64, -1) = %d, want %d", c.op, got, c.want)
		}
	}
	// Integer powers with a negative exponent: "Integers to negative
	// integer powers are not allowed" (same function of TensorFlow).
	if _, err := nsafeRun(t, "Pow", tensor.Attrs{"T": tensor.Int32}, tensor.Scalar[int32](2), tensor.Scalar[int32](-1)); err == nil ||
		!strings.Contains(err.Error(), "negative integer powers") {
		t.Errorf("Pow(2, -1) on int32: %v", err)
	}
}

// nsafeInts makes a tensor of integer dtype dt holding v.
func nsafeInts(dt tensor.DType, shape tensor.Shape, v ...int64) *tensor.Tensor {
	var data any
	switch dt {
	case tensor.Int8:
		d := make([]int8, len(v))
		for i, x := range v {
			d[i] = int8(x)
		}
		data = d
	case tensor.Int16:
		d := make([]int16, len(v))
		for i, x := range v {
			d[i] = int16(x)
		}
		data = d
	case tensor.Int32:
		d := make([]int32, len(v))
		for i, x := range v {
			d[i] = int32(x)
		}
		data = d
	case tensor.Int64:
		data = append([]int64(nil), v...)
	case tensor.Uint8:
		d := make([]uint8, len(v))
		for i, x := range v {
			d[i] = uint8(x)
		}
		data = d
	case tensor.Uint16:
		d := make([]uint16, len(v))
		for i, x := range v {
			d[i] = uint16(x)
		}
		data = d
	case tensor.Uint32:
		d := make([]uint32, len(v))
		for i, x := range v {
			d[i] = uint32(x)
		}
		data = d
	case tensor.Uint64:
		d := make([]uint64, len(v))
		for i, x := range v {
			d[i] = uint64(x)
		}
		data = d
	}
	t, err := tensor.Wrap(dt, shape, data)
	if err != nil {
		panic(err)
	}
	return t
}

// TestIndicesOutOfRange: gathers and scatters reject an index outside the
// shape with an error naming it, as TensorFlow does ("indices[1] = 5 is
// not in [0, 3)", gather_functor.h; "indices[1] = [9] does not index into
// param shape [3]", gather_nd_op.cc; scatter_nd_op.cc likewise), never
// reading or writing out of bounds. OneHot rejects a negative depth
// ("depth must be non-negative") and gives an all-off row for an index
// outside [0, depth) (one_hot_op.h).
func TestIndicesOutOfRange(t *testing.T) {
	f := nsafeF32(1, 2, 3)
	i32 := func(shape tensor.Shape, v ...int32) *tensor.Tensor { return tensor.FromSlice(shape, v) }
	cases := []struct {
		name, op string
		attrs    tensor.Attrs
		in       []*tensor.Tensor
		want     []string // substrings of the error
	}{
		{"GatherV2 past the end", "GatherV2", tensor.Attrs{"Tparams": tensor.Float32, "Tindices": tensor.Int32, "Taxis": tensor.Int32},
			[]*tensor.Tensor{f, i32(tensor.Shape{2}, 0, 5), tensor.Scalar[int32](0)}, []string{"indices[1] = 5", "[0, 3)"}},
		{"GatherV2 negative", "GatherV2", tensor.Attrs{"Tparams": tensor.Float32, "Tindices": tensor.Int32, "Taxis": tensor.Int32},
			[]*tensor.Tensor{f, i32(tensor.Shape{1}, -1), tensor.Scalar[int32](0)}, []string{"indices[0] = -1"}},
		{"Gather", "Gather", tensor.Attrs{"Tparams": tensor.Float32, "Tindices": tensor.Int32},
			[]*tensor.Tensor{f, i32(tensor.Shape{1}, 3)}, []string{"indices[0] = 3"}},
		{"GatherNd", "GatherNd", tensor.Attrs{"Tparams": tensor.Float32, "Tindices": tensor.Int32},
			[]*tensor.Tensor{f, i32(tensor.Shape{2, 1}, 1, 9)}, []string{"[9]", "row 1", "[3]"}},
		{"ScatterNd", "ScatterNd", tensor.Attrs{"T": tensor.Float32, "Tindices": tensor.Int32},
			[]*tensor.Tensor{i32(tensor.Shape{2, 1}, 1, 9), nsafeF32(1, 2), i32(tensor.Shape{1}, 3)}, []string{"[9]", "row 1"}},
		{"ScatterNd negative", "ScatterNd", tensor.Attrs{"T": tensor.Float32, "Tindices": tensor.Int32},
			[]*tensor.Tensor{i32(tensor.Shape{1, 1}, -1), nsafeF32(1), i32(tensor.Shape{1}, 3)}, []string{"[-1]"}},
		{"TensorScatterUpdate", "TensorScatterUpdate", tensor.Attrs{"T": tensor.Float32, "Tindices": tensor.Int32},
			[]*tensor.Tensor{f, i32(tensor.Shape{1, 1}, 5), nsafeF32(9)}, []string{"[5]"}},
		{"UnsortedSegmentSum", "UnsortedSegmentSum", tensor.Attrs{"T": tensor.Float32, "Tindices": tensor.Int32, "Tnumsegments": tensor.Int32},
			[]*tensor.Tensor{nsafeF32(1, 2), i32(tensor.Shape{2}, 0, 7), tensor.Scalar[int32](2)}, []string{"segment id 7"}},
		{"OneHot negative depth", "OneHot", tensor.Attrs{"T": tensor.Float32, "TI": tensor.Int32, "axis": int64(-1)},
			[]*tensor.Tensor{i32(tensor.Shape{2}, 0, 1), tensor.Scalar[int32](-2), tensor.Scalar[float32](1), tensor.Scalar[float32](0)}, []string{"depth", "-2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := nsafeRun(t, c.op, c.attrs, c.in...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	out, err := nsafeRun(t, "OneHot", tensor.Attrs{"T": tensor.Float32, "TI": tensor.Int32, "axis": int64(-1)},
		i32(tensor.Shape{3}, 0, 5, -1), tensor.Scalar[int32](3), tensor.Scalar[float32](1), tensor.Scalar[float32](0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nsafeAs(out[0]), []float64{1, 0, 0, 0, 0, 0, 0, 0, 0}; !nsafeSame(got, want) {
		t.Errorf("OneHot([0 5 -1], 3) = %v, want %v", got, want)
	}
}

// TestNonFiniteEdges covers the remaining ops whose inputs may be NaN or
// Inf in ways that could turn them into numbers: InTopKV2 ("if
// predictions[i] contains non-finite values, out[i] is false", and a
// target outside the classes is false), TopKV2 (NaN kept, ranked above
// every number, deterministic), and Cast of NaN and out-of-range floats
// to integers, which gives what TensorFlow's static_cast gives on x86 (the
// most negative integer; low bits for the narrow unsigned types).
func TestNonFiniteEdges(t *testing.T) {
	out, err := nsafeRun(t, "InTopKV2", tensor.Attrs{"T": tensor.Int32},
		tensor.FromSlice(tensor.Shape{3, 3}, []float32{float32(nsafeNaN), 1, 2, 0, 1, 2, 0, float32(nsafeInf), 2}),
		tensor.FromSlice(tensor.Shape{3}, []int32{2, 7, 2}), tensor.Scalar[int32](2))
	if err != nil {
		t.Fatal(err)
	}
	if got := tensor.As[bool](out[0]); got[0] || got[1] || got[2] {
		t.Errorf("InTopKV2 with NaN, an out-of-range target and Inf: %v, want all false", got)
	}

	out, err = nsafeRun(t, "TopKV2", tensor.Attrs{"T": tensor.Float32, "sorted": true}, nsafeF32(nsafeNaN, 1, nsafeNaN, 3), tensor.Scalar[int32](4))
	if err != nil {
		t.Fatal(err)
	}
	if got, idx := nsafeAs(out[0]), tensor.As[int32](out[1]); !nsafeSame(got, []float64{nsafeNaN, nsafeNaN, 3, 1}) || fmt.Sprint(idx) != "[0 2 3 1]" {
		t.Errorf("TopKV2 = %v %v, want [NaN NaN 3 1] [0 2 3 1]", got, idx)
	}

	for _, c := range []struct {
		dt   tensor.DType
		want string
	}{
		{tensor.Int32, "[-2147483648 -2147483648 -2147483648 -2147483648]"},
		{tensor.Int64, "[-9223372036854775808 -9223372036854775808 -9223372036854775808 -9223372036854775808]"},
	} {
		out, err := nsafeRun(t, "Cast", tensor.Attrs{"SrcT": tensor.Float32, "DstT": c.dt}, nsafeF32(nsafeNaN, nsafeInf, -nsafeInf, 1e30))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(out[0].Data()); got != c.want {
			t.Errorf("Cast to %s of [NaN Inf -Inf 1e30] = %s, want %s", c.dt, got, c.want)
		}
	}
}
