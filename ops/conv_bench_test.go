package ops

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// cvBenchStage is one kernel of a benchmarked chain: its op, attrs, and
// which inputs are the previous stage's output (-1) or fixed tensors.
type cvBenchStage struct {
	op    string
	attrs tensor.Attrs
	args  []*tensor.Tensor // nil entry: the previous output
}

// cvBuildChain builds the kernels of a chain whose fixed arguments are
// graph constants and whose first input is x.
func cvBuildChain(b *testing.B, x *tensor.Tensor, stages []cvBenchStage) []Kernel {
	b.Helper()
	var ks []Kernel
	prev := x
	ctx := &Ctx{}
	for _, s := range stages {
		spec, ok := Default().Lookup(s.op)
		if !ok {
			b.Fatalf("op %s not registered", s.op)
		}
		var in []*tensor.Tensor
		n := &Node{Name: "bench/" + s.op, Op: s.op, Attrs: s.attrs}
		for _, a := range s.args {
			if a == nil {
				in = append(in, prev)
				n.Inputs = append(n.Inputs, Value{DType: prev.DType(), Shape: tensor.Known(prev.Shape())})
				continue
			}
			in = append(in, a)
			n.Inputs = append(n.Inputs, Value{DType: a.DType(), Shape: tensor.Known(a.Shape()), Const: a})
		}
		k, err := spec.Build(n)
		if err != nil {
			b.Fatalf("build %s: %v", s.op, err)
		}
		out, err := k.Run(ctx, in)
		if err != nil {
			b.Fatalf("run %s: %v", s.op, err)
		}
		prev = out[0]
		ks = append(ks, k)
	}
	return ks
}

// cvRunChain runs the chain once, releasing intermediates as a plan would.
func cvRunChain(b *testing.B, ctx *Ctx, x *tensor.Tensor, stages []cvBenchStage, ks []Kernel) {
	prev := x
	for i, s := range stages {
		in := make([]*tensor.Tensor, len(s.args))
		for j, a := range s.args {
			if a == nil {
				a = prev
			}
			in[j] = a
		}
		out, err := ks[i].Run(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if prev != x {
			prev.Release()
		}
		prev = out[0]
	}
	prev.Release()
}

// BenchmarkConvWorkload is issue 5's Conv2D workload: a 3×3 SAME
// convolution of a 1×224×224×3 image to 32 channels, bias, Relu and a
// global average pool, as separate ops and with _FusedConv2D.
func BenchmarkConvWorkload(b *testing.B) {
	r := rand.New(rand.NewSource(3))
	x := tensor.FromSlice(tensor.Shape{1, 224, 224, 3}, nnRandF32(r, 224*224*3))
	f := tensor.FromSlice(tensor.Shape{3, 3, 3, 32}, nnRandF32(r, 3*3*3*32))
	bias := tensor.FromSlice(tensor.Shape{32}, nnRandF32(r, 32))
	axes := tensor.FromSlice(tensor.Shape{2}, []int32{1, 2})
	conv := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME"}
	fused := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME",
		"fused_ops": []string{"BiasAdd", "Relu"}, "num_args": int64(1)}
	mean := tensor.Attrs{"T": tensor.Float32, "Tidx": tensor.Int32, "keep_dims": false}
	chains := []struct {
		name   string
		stages []cvBenchStage
	}{
		{"separate", []cvBenchStage{
			{"Conv2D", conv, []*tensor.Tensor{nil, f}},
			{"BiasAdd", tensor.Attrs{"T": tensor.Float32}, []*tensor.Tensor{nil, bias}},
			{"Relu", tensor.Attrs{"T": tensor.Float32}, []*tensor.Tensor{nil}},
			{"Mean", mean, []*tensor.Tensor{nil, axes}},
		}},
		{"fused", []cvBenchStage{
			{"_FusedConv2D", fused, []*tensor.Tensor{nil, f, bias}},
			{"Mean", mean, []*tensor.Tensor{nil, axes}},
		}},
		{"conv", []cvBenchStage{
			{"Conv2D", conv, []*tensor.Tensor{nil, f}},
		}},
		{"mean", []cvBenchStage{
			{"Mean", mean, []*tensor.Tensor{nil, axes}},
		}},
	}
	y := tensor.FromSlice(tensor.Shape{1, 224, 224, 32}, nnRandF32(r, 224*224*32))
	for _, ch := range chains {
		in := x
		if ch.name == "mean" {
			in = y
		}
		ks := cvBuildChain(b, in, ch.stages)
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("chain=%s/workers=%d", ch.name, workers), func(b *testing.B) {
				ctx := &Ctx{Pool: pool.New()}
				if workers > 1 {
					ctx.Par = nnBenchPar(workers)
				}
				b.ReportAllocs()
				cvCPUTimed(b, func() { cvRunChain(b, ctx, in, ch.stages, ks) })
			})
		}
	}
}

// cvCPUTimed runs fn b.N times and reports, besides wall time, the CPU
// time per call (which the other jobs of a shared machine disturb less).
func cvCPUTimed(b *testing.B, fn func()) {
	var cpu0 float64
	if nnCPUSeconds != nil {
		cpu0 = nnCPUSeconds()
	}
	for b.Loop() {
		fn()
	}
	if nnCPUSeconds != nil {
		b.ReportMetric((nnCPUSeconds()-cpu0)*1e9/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkConvTile runs one convolution tile over L1-resident operands:
// the kernel's own speed, without the memory traffic of a whole image.
func BenchmarkConvTile(b *testing.B) {
	r := rand.New(rand.NewSource(4))
	for _, ar := range cvArches() {
		for _, sh := range []struct{ nseg, segLen, cols int }{{3, 9, 32}, {3, 9, 8}, {3, 192, 32}, {1, 64, 32}} {
			k := sh.nseg * sh.segLen
			aRow := 3
			offs := make([]int, sh.nseg)
			for s := range offs {
				offs[s] = s * 1000
			}
			a := nnRandF32(r, (sh.nseg-1)*1000+(ar.mr-1)*aRow+sh.segLen)
			bb := nnRandF32(r, k*ar.nr)
			c := make([]float32, ar.mr*sh.cols)
			bias := nnRandF32(r, sh.cols)
			flops := 2 * float64(ar.mr*sh.cols*k)
			b.Run(fmt.Sprintf("arch=%s/k=%dx%d/cols=%d", ar.name, sh.nseg, sh.segLen, sh.cols), func(b *testing.B) {
				cols := min(sh.cols, ar.nr)
				var cpu0 float64
				if nnCPUSeconds != nil {
					cpu0 = nnCPUSeconds()
				}
				for b.Loop() {
					ar.convTile(a, aRow, offs, sh.segLen, bb, c, sh.cols, ar.mr, cols, nnGemmBias|nnGemmRelu, bias)
				}
				if nnCPUSeconds != nil {
					b.ReportMetric(flops*float64(b.N)/(nnCPUSeconds()-cpu0)/1e9*float64(cols)/float64(sh.cols), "GFLOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkConvPaths compares the direct path with im2col and the GEMM
// on the shapes of real models (CPU time per call).
func BenchmarkConvPaths(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	shapes := []struct{ h, w, c, k, fo, s int }{
		{224, 224, 3, 3, 32, 1},
		{160, 160, 3, 3, 32, 2},
		{28, 28, 1, 3, 8, 1},
		{14, 14, 8, 3, 16, 2},
		{112, 112, 32, 3, 32, 1},
		{56, 56, 64, 3, 64, 1},
		{28, 28, 128, 3, 128, 1},
		{14, 14, 256, 3, 256, 1},
		{7, 7, 512, 3, 512, 1},
		{64, 64, 24, 5, 24, 1},
		{40, 40, 64, 1, 128, 2},
	}
	ar := cvArchF32
	for _, sh := range shapes {
		cc := nnConvCase{n: 1, h: sh.h, w: sh.w, c: sh.c, kh: sh.k, kw: sh.k, fc: sh.c, fo: sh.fo, sh: sh.s, sw: sh.s, dh: 1, dw: 1, padding: nnPadSame}
		a := cvTestAttrs(cc)
		g, _ := nnConvGeometry("Conv2D", a, tensor.Shape{1, sh.h, sh.w, sh.c}, tensor.Shape{sh.k, sh.k, sh.c, sh.fo})
		x := nnRandF32(r, sh.h*sh.w*sh.c)
		f := nnRandF32(r, sh.k*sh.k*sh.c*sh.fo)
		k := sh.k * sh.k * sh.c
		od := make([]float32, g.oh*g.ow*sh.fo)
		pd := make([]float32, cvPackedLen(ar, k, sh.fo))
		cvPackFilter(ar, k, sh.fo, f, sh.fo, pd)
		pg := make([]float32, nnPackBLen(k, sh.fo))
		nnPackB(&Ctx{}, k, sh.fo, f, sh.fo, false, pg)
		kn := &nnConv2D[float32]{a: a}
		flops := 2 * float64(g.oh*g.ow*sh.fo*k)
		ctx := &Ctx{Pool: pool.New()}
		for _, path := range []string{"direct", "im2col"} {
			b.Run(fmt.Sprintf("x=%dx%dx%d/k=%d/out=%d/s=%d/path=%s", sh.h, sh.w, sh.c, sh.k, sh.fo, sh.s, path), func(b *testing.B) {
				var cpu0 float64
				if nnCPUSeconds != nil {
					cpu0 = nnCPUSeconds()
				}
				for b.Loop() {
					if path == "direct" {
						cvConvDirect(ar, ctx, g, a, x, pd, od, nnEpilogue[float32]{}, nil)
					} else {
						kn.im2colGemm(ctx, g, 1, sh.fo, k, x, [][]float32{pg}, od, nnEpilogue[float32]{}, nil)
					}
				}
				if nnCPUSeconds != nil {
					cpu := (nnCPUSeconds() - cpu0) / float64(b.N)
					b.ReportMetric(cpu*1e9, "cpu-ns/op")
					b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkDepthwise compares the depthwise kernels with the portable
// loop that multiplies the padding, on model shapes (CPU time per call).
func BenchmarkDepthwise(b *testing.B) {
	r := rand.New(rand.NewSource(6))
	shapes := []struct{ h, w, c, k, s int }{
		{112, 112, 32, 3, 1},
		{80, 80, 144, 3, 1},
		{160, 160, 96, 3, 2},
		{64, 64, 24, 5, 1},
		{20, 20, 576, 3, 1},
		{16, 16, 128, 5, 2},
	}
	for _, sh := range shapes {
		cc := nnConvCase{n: 1, h: sh.h, w: sh.w, c: sh.c, kh: sh.k, kw: sh.k, fc: sh.c, fo: 1, sh: sh.s, sw: sh.s, dh: 1, dw: 1, padding: nnPadSame}
		a := cvTestAttrs(cc)
		g, _ := nnConvGeometry("DepthwiseConv2dNative", a, tensor.Shape{1, sh.h, sh.w, sh.c}, tensor.Shape{sh.k, sh.k, sh.c, 1})
		x := nnRandF32(r, sh.h*sh.w*sh.c)
		f := nnRandF32(r, sh.k*sh.k*sh.c)
		bias := nnRandF32(r, sh.c)
		od := make([]float32, g.oh*g.ow*sh.c)
		ep := nnEpilogue[float32]{Bias: bias, Act: nnActRelu6}
		kn := &nnDepthwise[float32]{a: a}
		ctx := &Ctx{Pool: pool.New()}
		flops := 2 * float64(g.oh*g.ow*sh.c*sh.k*sh.k)
		impls := []string{"portable-loop"}
		for _, ar := range cvArches() {
			impls = append(impls, ar.name)
		}
		for _, impl := range impls {
			b.Run(fmt.Sprintf("x=%dx%dx%d/k=%d/s=%d/impl=%s", sh.h, sh.w, sh.c, sh.k, sh.s, impl), func(b *testing.B) {
				var cpu0 float64
				if nnCPUSeconds != nil {
					cpu0 = nnCPUSeconds()
				}
				for b.Loop() {
					if impl == "portable-loop" {
						kn.generic(ctx, g, x, f, od, ep, nil)
						continue
					}
					for _, ar := range cvArches() {
						if ar.name == impl {
							cvDepthwise(ar, ctx, g, a, x, f, od, ep, nil)
						}
					}
				}
				if nnCPUSeconds != nil {
					cpu := (nnCPUSeconds() - cpu0) / float64(b.N)
					b.ReportMetric(cpu*1e9, "cpu-ns/op")
					b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}
