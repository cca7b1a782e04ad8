package ops

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// fuseBuildRun builds op from the default registry on inputs (constant at
// build time when consts) and runs it with ctx.
func fuseBuildRun(t *testing.T, ctx *Ctx, op string, attrs tensor.Attrs, consts bool, in ...*tensor.Tensor) (Kernel, *tensor.Tensor, error) {
	t.Helper()
	impl, err := Default().Choose(op)
	if err != nil {
		t.Fatal(err)
	}
	k, err := impl.Build(nnNode(op, attrs, in, consts))
	if err != nil {
		return nil, nil, err
	}
	out, err := k.Run(ctx, in)
	if err != nil {
		return k, nil, err
	}
	got := out[0].Clone()
	out[0].Release()
	return k, got, nil
}

// fuseUnfusedEpilogue runs the product's output through BiasAdd and the
// activation as separate ops: the reference for the fused kernels.
func fuseUnfusedEpilogue(t *testing.T, dt tensor.DType, y, bias *tensor.Tensor, act string, alpha float32) *tensor.Tensor {
	t.Helper()
	if bias != nil {
		_, out, err := fuseBuildRun(t, &Ctx{}, "BiasAdd", tensor.Attrs{"T": dt}, false, y, bias)
		if err != nil {
			t.Fatal(err)
		}
		y = out
	}
	if act != "" {
		_, out, err := fuseBuildRun(t, &Ctx{}, act, tensor.Attrs{"T": dt, "alpha": alpha}, false, y)
		if err != nil {
			t.Fatal(err)
		}
		y = out
	}
	return y
}

// fuseRandTensor returns a tensor of dt with values in [-1, 1), one of them
// NaN when nan.
func fuseRandTensor(r *rand.Rand, dt tensor.DType, nan bool, shape ...int) *tensor.Tensor {
	v := make([]float64, tensor.Shape(shape).Size())
	for i := range v {
		v[i] = r.Float64()*2 - 1
	}
	if nan && len(v) > 0 {
		v[r.Intn(len(v))] = math.NaN()
	}
	return fuseEwTensor(dt, tensor.Shape(shape), v)
}

// TestFusedMatMulGemmEpilogue checks that _FusedMatMul, with its BiasAdd
// and Relu or Relu6 applied inside the GEMM, and the other activations
// after it, gives the bits of MatMul, BiasAdd and the activation run one
// after the other, over the GEMM's paths: one row, a few rows, full tiles,
// several K blocks, transposes, constant (pre-packed) and fed weights.
func TestFusedMatMulGemmEpilogue(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	epilogues := [][]string{{"BiasAdd"}, {"BiasAdd", "Relu"}, {"BiasAdd", "Relu6"}, {"Relu"}, {"Relu6"},
		{"BiasAdd", "Sigmoid"}, {"BiasAdd", "Elu"}, {"BiasAdd", "Tanh"}, {"BiasAdd", "LeakyRelu"}, {"Sigmoid"}, {"Elu"}}
	dims := []struct{ m, n, k int }{{1, 5, 7}, {3, 33, 20}, {17, 40, 400}, {70, 100, 65}, {2, 1, 1}, {5, 3, 0}, {0, 4, 3}}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		for _, d := range dims {
			for _, ep := range epilogues {
				ta, tb := r.Intn(2) == 0, r.Intn(2) == 0
				consts := r.Intn(2) == 0
				nan := r.Intn(3) == 0
				name := fmt.Sprintf("%s/%dx%dx%d/%v/ta=%v/tb=%v/const=%v/nan=%v", dt, d.m, d.n, d.k, ep, ta, tb, consts, nan)
				as, bs := []int{d.m, d.k}, []int{d.k, d.n}
				if ta {
					as = []int{d.k, d.m}
				}
				if tb {
					bs = []int{d.n, d.k}
				}
				a := fuseRandTensor(r, dt, nan, as...)
				b := fuseRandTensor(r, dt, false, bs...)
				mmAttrs := tensor.Attrs{"T": dt, "transpose_a": ta, "transpose_b": tb}
				_, y, err := fuseBuildRun(t, &Ctx{}, "MatMul", mmAttrs, consts, a, b)
				if err != nil {
					t.Fatalf("%s: MatMul: %v", name, err)
				}
				attrs := tensor.Attrs{"T": dt, "transpose_a": ta, "transpose_b": tb, "fused_ops": ep, "leakyrelu_alpha": float32(0.3)}
				in := []*tensor.Tensor{a, b}
				var bias *tensor.Tensor
				act := ep[len(ep)-1]
				if ep[0] == "BiasAdd" {
					bias = fuseRandTensor(r, dt, false, d.n)
					in = append(in, bias)
					attrs["num_args"] = int64(1)
					if len(ep) == 1 {
						act = ""
					}
				} else {
					attrs["num_args"] = int64(0)
				}
				want := fuseUnfusedEpilogue(t, dt, y, bias, act, 0.3)
				for _, ctx := range []*Ctx{{}, {Par: nnTestPar, Pool: pool.New()}} {
					k, got, err := fuseBuildRun(t, ctx, "_FusedMatMul", attrs, consts, in...)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if _, isGemm := k.(*fuseGemmKernel[float32]); !isGemm && dt == tensor.Float32 {
						t.Fatalf("%s: kernel is %T, expected the GEMM epilogue", name, k)
					}
					if !tensor.Equal(got, want) {
						t.Fatalf("%s: fused differs from unfused:\n got %v\nwant %v", name, got, want)
					}
				}
			}
		}
	}
}

// TestFusedConvActivationsMatchUnfused checks that _FusedConv2D's
// activations are the unfused ops' own loops (bit for bit).
func TestFusedConvActivationsMatchUnfused(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	x := fuseRandTensor(r, tensor.Float32, false, 2, 9, 9, 3)
	w := fuseRandTensor(r, tensor.Float32, false, 3, 3, 3, 8)
	bias := fuseRandTensor(r, tensor.Float32, false, 8)
	conv := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME"}
	_, y, err := fuseBuildRun(t, &Ctx{}, "Conv2D", conv, true, x, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []string{"Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh"} {
		attrs := tensor.Attrs{"fused_ops": []string{"BiasAdd", act}, "num_args": int64(1), "leakyrelu_alpha": float32(0.25)}
		for k, v := range conv {
			attrs[k] = v
		}
		want := fuseUnfusedEpilogue(t, tensor.Float32, y, bias, act, 0.25)
		_, got, err := fuseBuildRun(t, &Ctx{}, "_FusedConv2D", attrs, true, x, w, bias)
		if err != nil {
			t.Fatalf("%s: %v", act, err)
		}
		if !tensor.Equal(got, want) {
			t.Errorf("%s: fused differs from unfused:\n got %v\nwant %v", act, got, want)
		}
	}
}

func TestFusedMatMulGemmErrors(t *testing.T) {
	a := tensor.FromSlice(tensor.Shape{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	b := tensor.FromSlice(tensor.Shape{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	attrs := tensor.Attrs{"T": tensor.Float32, "fused_ops": []string{"BiasAdd", "Relu"}, "num_args": int64(1)}
	for _, c := range []struct {
		name string
		bias *tensor.Tensor
		want error
	}{
		{"bias length", tensor.FromSlice(tensor.Shape{3}, []float32{1, 2, 3}), ErrShape},
		{"bias dtype", tensor.FromSlice(tensor.Shape{2}, []float64{1, 2}), ErrShape},
	} {
		_, _, err := fuseBuildRun(t, &Ctx{}, "_FusedMatMul", attrs, false, a, b, c.bias)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want an error wrapping %v", c.name, err, c.want)
		}
	}
	// a and b of different dtypes: the kernel was built for float32.
	b64 := tensor.FromSlice(tensor.Shape{3, 2}, []float64{1, 2, 3, 4, 5, 6})
	k, _, _ := fuseBuildRun(t, &Ctx{}, "_FusedMatMul", attrs, false, a, b, tensor.FromSlice(tensor.Shape{2}, []float32{1, 2}))
	if _, err := k.Run(&Ctx{}, []*tensor.Tensor{a, b64, tensor.FromSlice(tensor.Shape{2}, []float32{1, 2})}); !errors.Is(err, ErrDType) {
		t.Errorf("mixed dtypes: got %v, want an error wrapping %v", err, ErrDType)
	}
}
