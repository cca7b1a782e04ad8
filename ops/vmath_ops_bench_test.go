package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// BenchmarkVmathOps runs the float32 ops that use vmath.go through their
// kernels (one worker, outputs from a pool), reporting ns and CPU ns per output element; it
// only uses the registry, so that the same file measures a tree without
// vmath.go for comparison.
func BenchmarkVmathOps(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	vals := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((r.Float64()*2 - 1) * scale)
		}
		return v
	}
	big := tensor.FromSlice(tensor.Shape{1000, 1000}, vals(1000000, 8))
	big2 := tensor.FromSlice(tensor.Shape{1000, 1000}, vals(1000000, 8))
	small := tensor.FromSlice(tensor.Shape{64, 1024}, vals(65536, 8))
	small2 := tensor.FromSlice(tensor.Shape{64, 1024}, vals(65536, 8))
	pos := tensor.FromSlice(tensor.Shape{64, 1024}, vals(65536, 1000))
	for i, v := range tensor.As[float32](pos) {
		if v <= 0 {
			tensor.As[float32](pos)[i] = -v + 1e-3
		}
	}
	logits := tensor.FromSlice(tensor.Shape{10000, 100}, vals(1000000, 10))
	row100 := tensor.FromSlice(tensor.Shape{100}, vals(100, 1))
	row1024 := tensor.FromSlice(tensor.Shape{1024}, vals(1024, 1))
	scalar := tensor.FromSlice(tensor.Shape{}, []float32{0.5})
	cases := []struct {
		name string
		op   string
		in   []*tensor.Tensor
	}{
		{"op=Exp/n=64k", "Exp", []*tensor.Tensor{small}},
		{"op=Log/n=64k", "Log", []*tensor.Tensor{pos}},
		{"op=Sigmoid/n=64k", "Sigmoid", []*tensor.Tensor{small}},
		{"op=Tanh/n=64k", "Tanh", []*tensor.Tensor{small}},
		{"op=Erf/n=64k", "Erf", []*tensor.Tensor{small}},
		{"op=Elu/n=64k", "Elu", []*tensor.Tensor{small}},
		{"op=Selu/n=64k", "Selu", []*tensor.Tensor{small}},
		{"op=Softplus/n=64k", "Softplus", []*tensor.Tensor{small}},
		{"op=Exp/n=1M", "Exp", []*tensor.Tensor{big}},
		{"op=Softmax/case=10000x100", "Softmax", []*tensor.Tensor{logits}},
		{"op=LogSoftmax/case=10000x100", "LogSoftmax", []*tensor.Tensor{logits}},
		{"op=Add/case=same64k", "AddV2", []*tensor.Tensor{small, small2}},
		{"op=Add/case=same1M", "AddV2", []*tensor.Tensor{big, big2}},
		{"op=Mul/case=scalar64k", "Mul", []*tensor.Tensor{small, scalar}},
		{"op=Sub/case=scalar-first64k", "Sub", []*tensor.Tensor{scalar, small}},
		{"op=Maximum/case=same64k", "Maximum", []*tensor.Tensor{small, small2}},
		{"op=Add/case=row1024", "AddV2", []*tensor.Tensor{small, row1024}},
		{"op=Mul/case=row100", "Mul", []*tensor.Tensor{logits, row100}},
		{"op=BiasAdd/case=c100", "BiasAdd", []*tensor.Tensor{logits, row100}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			spec, _ := Default().Lookup(c.op)
			k, err := spec.Build(mathNode(c.op, nil, c.in))
			if err != nil {
				b.Fatal(err)
			}
			ctx := &Ctx{Pool: pool.New()}
			n := 0
			vmathOpsBenchLoop(b, func() {
				out, err := k.Run(ctx, c.in)
				if err != nil {
					b.Fatal(err)
				}
				n = out[0].Len()
				out[0].Release()
			}, &n)
		})
	}
}

// vmathOpsBenchLoop runs fn and reports ns and CPU ns per element, *n
// elements a call.
func vmathOpsBenchLoop(b *testing.B, fn func(), n *int) {
	cpu0 := 0.0
	if nnCPUSeconds != nil {
		cpu0 = nnCPUSeconds()
	}
	for b.Loop() {
		fn()
	}
	elems := float64(b.N) * float64(*n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/elems, "ns/elem")
	if nnCPUSeconds != nil {
		b.ReportMetric((nnCPUSeconds()-cpu0)*1e9/elems, "cpu-ns/elem")
	}
}
