package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// mathRefSoftmax is the textbook definition, unshifted (callers keep the
// logits small enough for exp not to overflow), in float64. With shift32
// the logits are first replaced by x - max rounded to float32, as
// TensorFlow's float32 kernel shifts them (the rounding of a shifted
// logit of magnitude s changes its exponential by up to s·2^-24
// relative, more than the kernel's own error).
func mathRefSoftmax(x []float64, c int, log, shift32 bool) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < len(x)/c; r++ {
		row := x[r*c : (r+1)*c]
		if shift32 {
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, v)
			}
			row = append([]float64(nil), row...)
			for i, v := range row {
				row[i] = float64(float32(v) - float32(m))
			}
		}
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(v)
		}
		for i, v := range row {
			if log {
				out[r*c+i] = v - math.Log(sum)
			} else {
				out[r*c+i] = math.Exp(v) / sum
			}
		}
	}
	return out
}

// TestMathSoftmaxRandom compares Softmax and LogSoftmax with the textbook
// formula on random logits. Tolerances: float32 Softmax within 4.8e-7
// relative (4 ulp: exp within 1, the float32 sum, the reciprocal and the
// product) of the formula on the float32-shifted logits; LogSoftmax
// within 3e-7 relative plus 1e-6 absolute (its values pass through zero);
// float64 within 1e-14.
func TestMathSoftmaxRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, shape := range []tensor.Shape{mathS(7), mathS(3, 5), mathS(2, 3, 10), mathS(200, 100), mathS(5, 1)} {
		c := shape[len(shape)-1]
		x := mathRandFloats(r, shape.Size(), 15)
		for _, op := range []string{"Softmax", "LogSoftmax"} {
			log := op == "LogSoftmax"
			x32 := mathF32(x)
			x32in := make([]float64, len(x32))
			for i, v := range x32 {
				x32in[i] = float64(v)
			}
			abs := 0.0
			if log {
				abs = 1e-6
			}
			rel := 4.8e-7
			if log {
				rel = 3e-7
			}
			got32 := mathMust(t, op, nil, tensor.FromSlice(shape, x32))
			mathCheckClose(t, op+" float32 "+shape.String(), got32, mathRefSoftmax(x32in, c, log, !log), rel, abs)
			got64 := mathMust(t, op, nil, tensor.FromSlice(shape, x))
			mathCheckClose(t, op+" float64 "+shape.String(), got64, mathRefSoftmax(x, c, log, false), 1e-14, abs*1e-8)
		}
	}
}

func TestMathSoftmaxCases(t *testing.T) {
	s := mathS
	inf := mathInf
	// Softmax is shift-invariant: equal logits give 1/n however large.
	mathRunCases(t, []mathCase{
		{name: "large logits", op: "Softmax", in: []*tensor.Tensor{mathF64s(s(1, 4), 1000, 1000, 1000, 1000)},
			dt: tensor.Float64, shape: s(1, 4), want: []float64{0.25, 0.25, 0.25, 0.25}},
		{name: "large float32 logits", op: "Softmax", in: []*tensor.Tensor{mathF32s(s(2), 3e38, 3e38)},
			dt: tensor.Float32, shape: s(2), want: []float64{0.5, 0.5}},
		{name: "large logits", op: "LogSoftmax", in: []*tensor.Tensor{mathF64s(s(2), 1000, 1000)},
			dt: tensor.Float64, shape: s(2), want: []float64{-math.Ln2, -math.Ln2}},
		{name: "minus inf", op: "Softmax", in: []*tensor.Tensor{mathF32s(s(2), float32(math.Inf(-1)), 0)},
			dt: tensor.Float32, shape: s(2), want: []float64{0, 1}},
		{name: "minus inf", op: "LogSoftmax", in: []*tensor.Tensor{mathF32s(s(2), float32(math.Inf(-1)), 0)},
			dt: tensor.Float32, shape: s(2), want: []float64{math.Inf(-1), 0}},
		// A NaN poisons only its own row; an infinite maximum gives NaN as in TF.
		{name: "nan row", op: "Softmax", in: []*tensor.Tensor{mathF32s(s(3, 2), 0, float32(mathNaN), 0, 0, float32(inf), 0)},
			dt: tensor.Float32, shape: s(3, 2), want: []float64{mathNaN, mathNaN, 0.5, 0.5, mathNaN, mathNaN}},
		{name: "nan first", op: "LogSoftmax", in: []*tensor.Tensor{mathF64s(s(2), mathNaN, 1)},
			dt: tensor.Float64, shape: s(2), want: []float64{mathNaN, mathNaN}},
		{name: "one class", op: "Softmax", in: []*tensor.Tensor{mathF32s(s(2, 1), -5, 7)},
			dt: tensor.Float32, shape: s(2, 1), want: []float64{1, 1}},
		{name: "half", op: "Softmax", in: []*tensor.Tensor{mathT(t, tensor.Half, s(3), []float32{0, 0, 0})},
			dt: tensor.Half, shape: s(3), want: []float64{1365.0 / 4096, 1365.0 / 4096, 1365.0 / 4096}}, // 1/3 in binary16
		{name: "bfloat16", op: "Softmax", in: []*tensor.Tensor{mathT(t, tensor.BFloat16, s(2), []float32{0, 0})},
			dt: tensor.BFloat16, shape: s(2), want: []float64{0.5, 0.5}},
		{name: "empty rows", op: "Softmax", in: []*tensor.Tensor{mathF32s(s(0, 5))},
			dt: tensor.Float32, shape: s(0, 5), want: []float64{}},
		{name: "empty classes", op: "LogSoftmax", in: []*tensor.Tensor{mathF32s(s(3, 0))},
			dt: tensor.Float32, shape: s(3, 0), want: []float64{}},
		{name: "scalar", op: "Softmax", in: []*tensor.Tensor{mathF32s(s(), 1)}, err: ErrShape},
		{name: "int", op: "LogSoftmax", in: []*tensor.Tensor{mathI32s(s(2), 1, 2)}, err: ErrDType},
	})
}

func TestMathSoftmaxBatchRule(t *testing.T) {
	spec, _ := Default().Lookup("Softmax")
	node := func(dims ...int) *Node {
		return &Node{Op: "Softmax", Inputs: []Value{{DType: tensor.Float32, Shape: tensor.PartialShape{Dims: dims}}}}
	}
	if out, ok := spec.Batch(node(-1, 10), []bool{true}); !ok || !out[0] {
		t.Errorf("rank 2: %v %v, want batched", out, ok)
	}
	if _, ok := spec.Batch(node(10), []bool{true}); ok {
		t.Error("rank 1 softmax accepted for batching: axis 0 is the softmax axis")
	}
	if _, ok := spec.Batch(&Node{Inputs: []Value{{Shape: tensor.UnknownShape()}}}, []bool{true}); ok {
		t.Error("unknown rank accepted for batching")
	}
	if out, ok := spec.Batch(node(10), []bool{false}); !ok || out[0] {
		t.Errorf("unbatched: %v %v", out, ok)
	}
}
