package ops

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestFusedConvEpilogue checks _FusedConv2D and FusedDepthwiseConv2dNative,
// whose epilogue runs inside the convolution, bit for bit against the
// convolution followed by each step over the whole tensor (fusedKernel),
// for every step kind, dtype and both ops; nnRun also checks that constant
// and runtime arguments, inline and split runs agree.
func TestFusedConvEpilogue(t *testing.T) {
	r := rand.New(rand.NewSource(71))
	lists := [][]string{
		{"BiasAdd"},
		{"BiasAdd", "Relu"},
		{"BiasAdd", "Relu6"},
		{"BiasAdd", "Elu"},
		{"BiasAdd", "LeakyRelu"},
		{"BiasAdd", "Sigmoid"},
		{"BiasAdd", "Tanh"},
		{"BiasAdd", "Prelu"},
		{"BiasAdd", "Add", "Relu"},
		{"BiasAdd", "Relu", "Sigmoid"},
		{"FusedBatchNorm", "Relu"},
		{"FusedBatchNorm"},
	}
	for _, op := range []string{"_FusedConv2D", "FusedDepthwiseConv2dNative"} {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Half} {
			for li, ops := range lists {
				if op == "FusedDepthwiseConv2dNative" && (ops[0] == "FusedBatchNorm" || ops[1%len(ops)] == "Add") {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/%v", op, dt, ops), func(t *testing.T) {
					n, h, w, c, fo := 2, 9, 13, 5, 19
					if op == "FusedDepthwiseConv2dNative" {
						c, fo = 19, 1
					}
					if li%3 == 0 {
						h, w = 30, 31 // several bands and blocks
					}
					x := nnConvert(nnRandTensor(r, n, h, w, c), dt)
					f := nnConvert(nnRandTensor(r, 3, 3, c, fo), dt)
					depth := fo
					oh, ow := h, w
					if op == "FusedDepthwiseConv2dNative" {
						depth = c * fo
					}
					in := []*tensor.Tensor{x, f}
					nargs := 0
					for _, s := range ops {
						switch s {
						case "BiasAdd":
							in = append(in, nnConvert(nnRandTensor(r, depth), dt))
							nargs++
						case "FusedBatchNorm":
							for j := 0; j < 4; j++ {
								v := nnRandTensor(r, depth)
								if j == 3 { // a variance: positive
									d := tensor.As[float32](v)
									for i, e := range d {
										d[i] = e*e + 0.5
									}
								}
								in = append(in, nnConvert(v, dt))
							}
							nargs += 4
						case "Add":
							in = append(in, nnConvert(nnRandTensor(r, n, oh, ow, depth), dt))
							nargs++
						case "Prelu":
							in = append(in, nnConvert(nnRandTensor(r, depth), dt))
							nargs++
						}
					}
					attrs := tensor.Attrs{"T": dt, "strides": []int64{1, 1, 1, 1}, "padding": "SAME",
						"fused_ops": ops, "num_args": int64(nargs), "epsilon": float32(0.001), "leakyrelu_alpha": float32(0.3)}
					fspec, _ := Default().Lookup(op)
					if k, err := fspec.Build(nnNode(op, attrs, in, true)); err != nil {
						t.Fatal(err)
					} else {
						switch k.(type) {
						case *cvFused[float32], *cvFused[float64]:
						default:
							t.Fatalf("%s built a %T, not the in-kernel epilogue", op, k)
						}
					}
					got := nnMust(t, op, attrs, in...)
					// The reference: the unfused kernel over the whole tensor.
					node := nnNode(op, attrs, in, false)
					steps, err := parseFused(node)
					if err != nil {
						t.Fatal(err)
					}
					innerOp := "Conv2D"
					if op == "FusedDepthwiseConv2dNative" {
						innerOp = "DepthwiseConv2dNative"
					}
					spec, _ := Default().Lookup(innerOp)
					inner, err := spec.Build(innerNode(node, innerOp))
					if err != nil {
						t.Fatal(err)
					}
					var ref Kernel = &fusedKernel[float32]{inner: inner, steps: steps}
					if dt == tensor.Float64 {
						ref = &fusedKernel[float64]{inner: inner, steps: steps}
					}
					want, err := ref.Run(&Ctx{}, in)
					if err != nil {
						t.Fatal(err)
					}
					if !tensor.Equal(got[0], want[0]) {
						t.Fatalf("fused epilogue differs from the unfused steps:\n%v\n%v", got[0], want[0])
					}
				})
			}
		}
	}
}

// TestFusedConvErrors checks that bad epilogue arguments fail with the
// unfused kernel's errors.
func TestFusedConvErrors(t *testing.T) {
	r := rand.New(rand.NewSource(72))
	x := nnRandTensor(r, 1, 5, 5, 3)
	f := nnRandTensor(r, 3, 3, 3, 4)
	attrs := func(ops ...string) tensor.Attrs {
		return tensor.Attrs{"T": tensor.Float64, "strides": []int64{1, 1, 1, 1}, "padding": "SAME", "fused_ops": ops}
	}
	nnWantErr(t, ErrShape, "_FusedConv2D", attrs("BiasAdd", "Relu"), x, f, nnRandTensor(r, 3))
	nnWantErr(t, ErrShape, "_FusedConv2D", attrs("BiasAdd", "Add"), x, f, nnRandTensor(r, 4), nnRandTensor(r, 1, 5, 4, 4))
	nnWantErr(t, ErrShape, "_FusedConv2D", attrs("BiasAdd", "Prelu"), x, f, nnRandTensor(r, 4), nnRandTensor(r, 3))
	nnWantErr(t, ErrShape, "_FusedConv2D", attrs("BiasAdd"), x, nnRandTensor(r, 3, 3, 2, 4), nnRandTensor(r, 4))
}
