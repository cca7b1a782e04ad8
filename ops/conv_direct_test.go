package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// cvTestAttrs returns the window attrs of a convolution case.
func cvTestAttrs(cc nnConvCase) nnWindowAttrs {
	a := nnWindowAttrs{strideH: cc.sh, strideW: cc.sw, dilH: cc.dh, dilW: cc.dw, padding: cc.padding}
	if cc.padding == nnPadExplicit {
		a.padT, a.padB, a.padL, a.padR = cc.pt, cc.pb, cc.pl, cc.pr
	}
	return a
}

// cvRefEpilogue applies a GEMM epilogue to a float64 reference, channel
// j = i % depth.
func cvRefEpilogue(want []float64, depth int, bias []float32, act nnAct) {
	for i, v := range want {
		if bias != nil {
			v += float64(bias[i%depth])
		}
		if act != nnActNone && v < 0 {
			v = 0
		}
		if act == nnActRelu6 && v > 6 {
			v = 6
		}
		want[i] = v
	}
}

// cvIm2colGemm is the im2col path with the GEMM set ar: the bits the
// direct path must reproduce.
func cvIm2colGemm(ar *nnGemmArch[float32], g nnConvShape, a nnWindowAttrs, x, f []float32, ep nnEpilogue[float32]) []float32 {
	pixels := g.n * g.oh * g.ow
	k := g.kh * g.kw * g.c
	col := make([]float32, pixels*k)
	nnIm2col(g, a, x, 0, 0, pixels, col)
	out := make([]float32, pixels*g.fo)
	nnGemmWith(ar, &Ctx{}, pixels, g.fo, k, col, k, false, f, g.fo, false, nil, out, g.fo, ep)
	return out
}

// cvRunDirect runs the direct path of ar on a fresh output.
func cvRunDirect(ar *cvArch, ctx *Ctx, g nnConvShape, a nnWindowAttrs, x, f []float32, ep nnEpilogue[float32], post func([]float32, int)) []float32 {
	k := g.kh * g.kw * g.c
	pb := make([]float32, cvPackedLen(ar, k, g.fo))
	cvPackFilter(ar, k, g.fo, f, g.fo, pb)
	out := make([]float32, g.n*g.oh*g.ow*g.fo)
	for i := range out {
		out[i] = float32(math.NaN()) // every element must be written
	}
	cvConvDirect(ar, ctx, g, a, x, pb, out, ep, post)
	return out
}

// TestConvDirect checks the direct Conv2D path of every kernel set against
// the float64 reference, and bit for bit against im2col with the same
// GEMM set, inline and split between workers, with each epilogue.
func TestConvDirect(t *testing.T) {
	r := rand.New(rand.NewSource(51))
	pads := []string{nnPadSame, nnPadValid, nnPadExplicit}
	chans := []int{1, 2, 3, 5, 8, 17, 40}
	outs := []int{1, 3, 8, 9, 16, 17, 32, 33, 47, 70}
	acts := []nnAct{nnActNone, nnActRelu, nnActRelu6}
	for _, ar := range cvArches() {
		for i := 0; i < 60; i++ {
			cc := nnConvCase{
				n: 1 + r.Intn(2), h: 1 + r.Intn(20), w: 1 + r.Intn(33), c: chans[r.Intn(len(chans))],
				kh: 1 + r.Intn(5), kw: 1 + r.Intn(5), fo: outs[r.Intn(len(outs))],
				sh: 1 + r.Intn(3), sw: 1 + r.Intn(3), dh: 1 + r.Intn(2), dw: 1 + r.Intn(2),
				padding: pads[r.Intn(3)], dtype: tensor.Float32,
			}
			cc.fc = cc.c
			if cc.padding == nnPadExplicit {
				cc.pt, cc.pb, cc.pl, cc.pr = r.Intn(4), r.Intn(4), r.Intn(4), r.Intn(4)
			}
			if i == 0 {
				// The workload, scaled down: 3×3 SAME, 3→32.
				cc = nnConvCase{n: 1, h: 30, w: 29, c: 3, kh: 3, kw: 3, fc: 3, fo: 32, sh: 1, sw: 1, dh: 1, dw: 1, padding: nnPadSame, dtype: tensor.Float32}
			}
			_, _, ok1 := nnRefOut(cc.h, cc.kh, cc.dh, cc.sh, cc.padding, cc.pt, cc.pb)
			_, _, ok2 := nnRefOut(cc.w, cc.kw, cc.dw, cc.sw, cc.padding, cc.pl, cc.pr)
			if !ok1 || !ok2 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d/%+v", ar.name, i, cc), func(t *testing.T) {
				x := nnRandF32(r, cc.n*cc.h*cc.w*cc.c)
				f := nnRandF32(r, cc.kh*cc.kw*cc.c*cc.fo)
				shape, want, _ := nnRefConv(cc, nnF64s(x), nnF64s(f))
				a := cvTestAttrs(cc)
				g, err := nnConvGeometry("Conv2D", a, tensor.Shape{cc.n, cc.h, cc.w, cc.c}, tensor.Shape{cc.kh, cc.kw, cc.c, cc.fo})
				if err != nil {
					t.Fatal(err)
				}
				var ep nnEpilogue[float32]
				if i%2 == 1 {
					ep = nnEpilogue[float32]{Bias: nnRandF32(r, cc.fo), Act: acts[i/2%3]}
				}
				got := cvRunDirect(ar, &Ctx{}, g, a, x, f, ep, nil)
				par := cvRunDirect(ar, &Ctx{Par: nnTestPar, Pool: pool.New()}, g, a, x, f, ep, nil)
				nnSameBits(t, "split between workers", par, got)
				nnSameBits(t, "im2col", got, cvIm2colGemm(ar.gemm, g, a, x, f, ep))
				cvRefEpilogue(want, cc.fo, ep.Bias, ep.Act)
				tol := 1e-5 * float64(cc.kh*cc.kw*cc.c+1)
				nnClose(t, "direct", tensor.FromSlice(tensor.Shape(g4(g)), got), shape, want, tol, tol)
			})
		}
	}
}

func g4(g nnConvShape) []int { return []int{g.n, g.oh, g.ow, g.fo} }

// TestConvDirectPost checks that post sees every output element once, in
// blocks of whole pixels with the right offsets.
func TestConvDirectPost(t *testing.T) {
	r := rand.New(rand.NewSource(52))
	for _, ar := range cvArches() {
		cc := nnConvCase{n: 2, h: 40, w: 23, c: 3, kh: 3, kw: 3, fc: 3, fo: 5, sh: 1, sw: 1, dh: 1, dw: 1, padding: nnPadSame}
		a := cvTestAttrs(cc)
		g, _ := nnConvGeometry("Conv2D", a, tensor.Shape{cc.n, cc.h, cc.w, cc.c}, tensor.Shape{cc.kh, cc.kw, cc.c, cc.fo})
		x := nnRandF32(r, cc.n*cc.h*cc.w*cc.c)
		f := nnRandF32(r, cc.kh*cc.kw*cc.c*cc.fo)
		plain := cvRunDirect(ar, &Ctx{}, g, a, x, f, nnEpilogue[float32]{}, nil)
		seen := make([]int32, len(plain))
		post := func(v []float32, off int) {
			if off%cc.fo != 0 || len(v)%cc.fo != 0 {
				panic(fmt.Sprintf("post block at %d of %d elements: not whole pixels", off, len(v)))
			}
			for i := range v {
				seen[off+i]++
				v[i] = v[i]*2 + 1
			}
		}
		got := cvRunDirect(ar, &Ctx{Par: nnTestPar}, g, a, x, f, nnEpilogue[float32]{}, post)
		for i := range got {
			if seen[i] != 1 || got[i] != plain[i]*2+1 {
				t.Fatalf("%s: element %d: post ran %d times, got %v from %v", ar.name, i, seen[i], got[i], plain[i])
			}
		}
	}
}

// TestConvDirectOp runs the registered Conv2D on shapes that take the
// direct path (when the CPU has it), against the reference, with constant
// and runtime filters and split between workers (nnRun checks that all
// agree bit for bit).
func TestConvDirectOp(t *testing.T) {
	r := rand.New(rand.NewSource(53))
	cases := []nnConvCase{
		{n: 1, h: 28, w: 28, c: 1, kh: 3, kw: 3, fc: 1, fo: 8, sh: 1, sw: 1, dh: 1, dw: 1, padding: nnPadSame},
		{n: 3, h: 14, w: 14, c: 8, kh: 3, kw: 3, fc: 8, fo: 16, sh: 2, sw: 2, dh: 1, dw: 1, padding: nnPadValid},
		{n: 1, h: 33, w: 31, c: 3, kh: 3, kw: 3, fc: 3, fo: 32, sh: 2, sw: 2, dh: 1, dw: 1, padding: nnPadSame},
		{n: 1, h: 9, w: 17, c: 24, kh: 5, kw: 5, fc: 24, fo: 40, sh: 1, sw: 1, dh: 2, dw: 2, padding: nnPadSame},
		{n: 2, h: 8, w: 8, c: 16, kh: 1, kw: 1, fc: 16, fo: 24, sh: 2, sw: 2, dh: 1, dw: 1, padding: nnPadSame},
		{n: 1, h: 6, w: 7, c: 5, kh: 2, kw: 3, fc: 5, fo: 6, sh: 1, sw: 1, dh: 1, dw: 1, padding: nnPadExplicit, pt: 3, pb: 0, pl: 9, pr: 1},
		{n: 1, h: 0, w: 7, c: 5, kh: 2, kw: 3, fc: 5, fo: 6, sh: 1, sw: 1, dh: 1, dw: 1, padding: nnPadExplicit, pt: 3, pb: 0, pl: 9, pr: 1},
	}
	for i, cc := range cases {
		cc.dtype = tensor.Float32
		t.Run(fmt.Sprint(i), func(t *testing.T) { nnRunConvCase(t, r, cc) })
	}
}

// cvFMA is one multiply-add as the kernel set ar computes it.
func cvFMA(ar *cvArch, acc, x, f float32) float32 {
	if ar.gemm.fused {
		return nnFMA32(x, f, acc)
	}
	return acc + float32(x*f)
}

// cvDwCase is a depthwise convolution case.
type cvDwCase struct {
	n, h, w, c     int
	kh, kw, mult   int
	s, dh, dw      int
	padding        string
	pt, pb, pl, pr int
	bias           bool
	act            nnAct
}

func (dc cvDwCase) conv() nnConvCase {
	return nnConvCase{n: dc.n, h: dc.h, w: dc.w, c: dc.c, kh: dc.kh, kw: dc.kw, fc: dc.c, fo: dc.mult,
		sh: dc.s, sw: dc.s, dh: dc.dh, dw: dc.dw, padding: dc.padding, pt: dc.pt, pb: dc.pb, pl: dc.pl, pr: dc.pr,
		depthwise: true, dtype: tensor.Float32}
}

// cvSeqDepthwise is the depthwise convolution in float32 in the kernels'
// order (taps inside the input in (kh, kw) order, then the epilogue).
func cvSeqDepthwise(ar *cvArch, dc cvDwCase, g nnConvShape, a nnWindowAttrs, x, f []float32, ep nnEpilogue[float32]) []float32 {
	out := make([]float32, g.n*g.oh*g.ow*g.c)
	for n := 0; n < g.n; n++ {
		for oh := 0; oh < g.oh; oh++ {
			for ow := 0; ow < g.ow; ow++ {
				for c := 0; c < g.c; c++ {
					var acc float32
					for kh := 0; kh < g.kh; kh++ {
						for kw := 0; kw < g.kw; kw++ {
							ih := oh*a.strideH - g.padT + kh*a.dilH
							iw := ow*a.strideW - g.padL + kw*a.dilW
							if ih < 0 || ih >= g.h || iw < 0 || iw >= g.w {
								continue
							}
							acc = cvFMA(ar, acc, x[((n*g.h+ih)*g.w+iw)*g.c+c], f[(kh*g.kw+kw)*g.c+c])
						}
					}
					out[((n*g.oh+oh)*g.ow+ow)*g.c+c] = nnEpilogueOne(acc, c, ep.flags(), ep.Bias)
				}
			}
		}
	}
	return out
}

// TestDepthwiseKernels checks the depthwise path of every kernel set bit
// for bit against the same arithmetic done one element at a time, and
// against the float64 reference.
func TestDepthwiseKernels(t *testing.T) {
	cases := []cvDwCase{
		{n: 1, h: 9, w: 11, c: 16, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame},
		{n: 2, h: 12, w: 13, c: 32, kh: 3, kw: 3, mult: 1, s: 2, dh: 1, dw: 1, padding: nnPadSame, bias: true, act: nnActRelu6},
		{n: 1, h: 10, w: 10, c: 24, kh: 5, kw: 5, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame, bias: true},
		{n: 1, h: 11, w: 9, c: 88, kh: 5, kw: 5, mult: 1, s: 2, dh: 1, dw: 1, padding: nnPadSame, bias: true, act: nnActRelu},
		{n: 1, h: 8, w: 9, c: 17, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadValid},
		{n: 1, h: 9, w: 8, c: 70, kh: 3, kw: 3, mult: 1, s: 2, dh: 1, dw: 1, padding: nnPadValid, act: nnActRelu},
		{n: 1, h: 7, w: 7, c: 3, kh: 3, kw: 3, mult: 1, s: 1, dh: 2, dw: 2, padding: nnPadSame},
		{n: 1, h: 6, w: 5, c: 129, kh: 1, kw: 1, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame, bias: true},
		{n: 1, h: 2, w: 3, c: 5, kh: 5, kw: 5, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame},
		{n: 1, h: 5, w: 6, c: 7, kh: 3, kw: 2, mult: 1, s: 3, dh: 1, dw: 3, padding: nnPadExplicit, pt: 2, pb: 4, pl: 7, pr: 1, bias: true, act: nnActRelu6},
		{n: 1, h: 1, w: 1, c: 1, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame},
		{n: 1, h: 3, w: 4, c: 20, kh: 3, kw: 3, mult: 1, s: 1, dh: 1 << 24, dw: 1 << 24, padding: nnPadSame, bias: true},
		{n: 0, h: 5, w: 5, c: 8, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame},
		{n: 1, h: 4, w: 0, c: 8, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame},
	}
	r := rand.New(rand.NewSource(54))
	for _, ar := range cvArches() {
		for i, dc := range cases {
			t.Run(fmt.Sprintf("%s/%d/%+v", ar.name, i, dc), func(t *testing.T) {
				cc := dc.conv()
				a := cvTestAttrs(cc)
				g, err := nnConvGeometry("DepthwiseConv2dNative", a, tensor.Shape{dc.n, dc.h, dc.w, dc.c}, tensor.Shape{dc.kh, dc.kw, dc.c, 1})
				if err != nil {
					t.Fatal(err)
				}
				x := nnRandF32(r, dc.n*dc.h*dc.w*dc.c)
				f := nnRandF32(r, dc.kh*dc.kw*dc.c)
				var ep nnEpilogue[float32]
				if dc.bias {
					ep.Bias = nnRandF32(r, dc.c)
				}
				ep.Act = dc.act
				run := func(ctx *Ctx) []float32 {
					out := make([]float32, g.n*g.oh*g.ow*g.c)
					for j := range out {
						out[j] = float32(math.NaN())
					}
					cvDepthwise(ar, ctx, g, a, x, f, out, ep, nil)
					return out
				}
				got := run(&Ctx{})
				nnSameBits(t, "split between workers", run(&Ctx{Par: nnTestPar}), got)
				nnSameBits(t, "sequential", got, cvSeqDepthwise(ar, dc, g, a, x, f, ep))
				shape, want, _ := nnRefConv(cc, nnF64s(x), nnF64s(f))
				cvRefEpilogue(want, dc.c, ep.Bias, ep.Act)
				tol := 1e-5 * float64(dc.kh*dc.kw+1)
				nnClose(t, "depthwise", tensor.FromSlice(shape, got), shape, want, tol, tol)
			})
		}
	}
}

// TestDepthwiseOp runs the registered op: float32 multiplier 1 (the
// kernels), multiplier 2 and float64 (the portable loop), a filter with
// Inf (the portable loop, whose padding taps give NaN as TF's do).
func TestDepthwiseOp(t *testing.T) {
	r := rand.New(rand.NewSource(55))
	cases := []struct {
		name  string
		dc    cvDwCase
		dtype tensor.DType
	}{
		{"f32", cvDwCase{n: 2, h: 10, w: 9, c: 19, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame}, tensor.Float32},
		{"f32-s2", cvDwCase{n: 1, h: 16, w: 15, c: 40, kh: 5, kw: 5, mult: 1, s: 2, dh: 1, dw: 1, padding: nnPadSame}, tensor.Float32},
		{"f32-mult2", cvDwCase{n: 1, h: 6, w: 7, c: 5, kh: 3, kw: 3, mult: 2, s: 1, dh: 1, dw: 1, padding: nnPadSame}, tensor.Float32},
		{"f64", cvDwCase{n: 1, h: 6, w: 7, c: 5, kh: 3, kw: 3, mult: 1, s: 2, dh: 1, dw: 1, padding: nnPadValid}, tensor.Float64},
		{"half", cvDwCase{n: 1, h: 6, w: 7, c: 21, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame}, tensor.Half},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cc := tc.dc.conv()
			cc.dtype = tc.dtype
			x := nnConvert(nnRandTensor(r, cc.n, cc.h, cc.w, cc.c), tc.dtype)
			f := nnConvert(nnRandTensor(r, cc.kh, cc.kw, cc.c, cc.fo), tc.dtype)
			shape, want, _ := nnRefConv(cc, x.Float64s(), f.Float64s())
			out := nnMust(t, "DepthwiseConv2dNative", cc.attrs(), x, f)
			tol := 1e-5 * float64(cc.kh*cc.kw+1)
			if tc.dtype == tensor.Float64 {
				tol = 1e-12
			}
			nnClose(t, "depthwise", out[0], shape, want, tol, tol)
		})
	}
	t.Run("inf-filter", func(t *testing.T) {
		// 1×3 image, 3×3 SAME: every output's window has padding taps,
		// which multiply the filter's Inf into NaN.
		x := nnF32(tensor.Shape{1, 1, 3, 1}, 1, 2, 3)
		f := nnF32(tensor.Shape{3, 3, 1, 1}, float32(math.Inf(1)), 0, 0, 0, 1, 0, 0, 0, 0)
		cc := cvDwCase{n: 1, h: 1, w: 3, c: 1, kh: 3, kw: 3, mult: 1, s: 1, dh: 1, dw: 1, padding: nnPadSame}.conv()
		out := nnMust(t, "DepthwiseConv2dNative", cc.attrs(), x, f)
		for i, v := range tensor.As[float32](out[0]) {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("output %d = %v, want NaN (0·Inf in the top padding row)", i, v)
			}
		}
	})
}

// TestPoolKernels checks MaxPool and AvgPool of every kernel set against
// a reference folding the in-bounds window in order, exactly.
func TestPoolKernels(t *testing.T) {
	type poolCase struct {
		n, h, w, c int
		kh, kw     int
		sh, sw     int
		padding    string
	}
	cases := []poolCase{
		{1, 28, 28, 8, 2, 2, 2, 2, nnPadValid},
		{2, 6, 6, 16, 3, 3, 2, 2, nnPadSame},
		{1, 9, 11, 37, 3, 3, 1, 1, nnPadSame},
		{1, 7, 5, 3, 5, 5, 2, 3, nnPadSame},
		{1, 4, 4, 70, 2, 3, 1, 2, nnPadValid},
		{1, 1, 1, 1, 1, 1, 1, 1, nnPadValid},
		{1, 2, 2, 9, 4, 4, 1, 1, nnPadSame},
		{0, 3, 3, 2, 2, 2, 1, 1, nnPadSame},
	}
	r := rand.New(rand.NewSource(56))
	for _, ar := range cvArches() {
		for i, pc := range cases {
			for _, avg := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/avg=%v", ar.name, i, avg), func(t *testing.T) {
					x := nnRandF32(r, pc.n*pc.h*pc.w*pc.c)
					if len(x) > 3 {
						x[1] = float32(math.NaN()) // skipped by max, kept by avg
						x[2] = float32(math.Inf(-1))
					}
					a := nnWindowAttrs{kH: pc.kh, kW: pc.kw, strideH: pc.sh, strideW: pc.sw, dilH: 1, dilW: 1, padding: pc.padding}
					op := "MaxPool"
					if avg {
						op = "AvgPool"
					}
					xt := tensor.FromSlice(tensor.Shape{pc.n, pc.h, pc.w, pc.c}, x)
					out, err := cvPoolRunWith(ar, &Ctx{Par: nnTestPar}, op, tensor.Float32, a, xt, avg)
					if err != nil {
						t.Fatal(err)
					}
					g, _ := nnPoolGeometry(op, a, xt.Shape())
					got := tensor.As[float32](out[0])
					for n := 0; n < g.n; n++ {
						for oh := 0; oh < g.oh; oh++ {
							for ow := 0; ow < g.ow; ow++ {
								for c := 0; c < g.c; c++ {
									acc := float32(-math.MaxFloat32)
									if avg {
										acc = 0
									}
									count := 0
									for kh := 0; kh < pc.kh; kh++ {
										for kw := 0; kw < pc.kw; kw++ {
											ih, iw := oh*pc.sh-g.padT+kh, ow*pc.sw-g.padL+kw
											if ih < 0 || ih >= pc.h || iw < 0 || iw >= pc.w {
												continue
											}
											v := x[((n*pc.h+ih)*pc.w+iw)*pc.c+c]
											count++
											if avg {
												acc += v
											} else if v > acc {
												acc = v
											}
										}
									}
									if avg {
										acc /= float32(count)
									}
									k := ((n*g.oh+oh)*g.ow+ow)*g.c + c
									if math.Float32bits(got[k]) != math.Float32bits(acc) {
										t.Fatalf("output %d: got %v, want %v", k, got[k], acc)
									}
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestSumColsKernels checks the column sums of every kernel set exactly
// against float64 sums in row order.
func TestSumColsKernels(t *testing.T) {
	r := rand.New(rand.NewSource(57))
	for _, ar := range cvArches() {
		for _, d := range [][3]int{{1, 1, 1}, {5, 3, 3}, {7, 16, 16}, {9, 21, 37}, {100, 40, 33}, {3, 100, 64}, {0, 5, 5}} {
			rows, cols, stride := d[0], d[1], d[2]
			x := nnRandF32(r, max(0, (rows-1)*stride+cols))
			acc := make([]float64, cols)
			want := make([]float64, cols)
			for j := range acc {
				acc[j] = float64(j) * 0.25
				want[j] = acc[j]
			}
			for i := 0; i < rows; i++ {
				for j := 0; j < cols; j++ {
					want[j] += float64(x[i*stride+j])
				}
			}
			ar.sumCols(acc, x, rows, stride, cols)
			for j := range acc {
				if acc[j] != want[j] {
					t.Fatalf("%s rows=%d cols=%d: column %d = %v, want %v", ar.name, rows, cols, j, acc[j], want[j])
				}
			}
		}
	}
}

// TestMeanSpatial checks the global average pool (Mean over axes 1, 2)
// exactly against float64 sums in order, split between workers or not
// (nnRun compares the variants).
func TestMeanSpatial(t *testing.T) {
	r := rand.New(rand.NewSource(58))
	// [1, 64, 64, 100] is split into column blocks between workers.
	for _, d := range [][4]int{{1, 224, 224, 32}, {1, 64, 64, 100}, {2, 9, 7, 33}, {1, 3, 3, 1}} {
		x := nnRandF32(r, d[0]*d[1]*d[2]*d[3])
		xt := tensor.FromSlice(tensor.Shape{d[0], d[1], d[2], d[3]}, x)
		axes := tensor.FromSlice(tensor.Shape{2}, []int32{1, 2})
		out := nnMust(t, "Mean", tensor.Attrs{"T": tensor.Float32, "Tidx": tensor.Int32, "keep_dims": false}, xt, axes)
		got := tensor.As[float32](out[0])
		for n := 0; n < d[0]; n++ {
			for c := 0; c < d[3]; c++ {
				var s float64
				for p := 0; p < d[1]*d[2]; p++ {
					s += float64(x[(n*d[1]*d[2]+p)*d[3]+c])
				}
				want := float32(s / float64(d[1]*d[2]))
				if got[n*d[3]+c] != want {
					t.Fatalf("%v: output %d,%d = %v, want %v", d, n, c, got[n*d[3]+c], want)
				}
			}
		}
	}
}

// TestConvPackedForUnknownWidth builds Conv2D with a constant filter and an
// input whose width is unknown at build (so the filter is packed for both
// paths) and checks it against a build that knew the shape, on widths
// that choose either path.
func TestConvPackedForUnknownWidth(t *testing.T) {
	r := rand.New(rand.NewSource(59))
	f := nnRandTensor(r, 3, 3, 40, 24)
	attrs := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME"}
	spec, _ := Default().Lookup("Conv2D")
	for _, w := range []int{14, 13, 7, 28, 3} {
		x := nnRandTensor(r, 1, 5, w, 40)
		known, err := spec.Build(nnNode("Conv2D", attrs, []*tensor.Tensor{x, f}, true))
		if err != nil {
			t.Fatal(err)
		}
		n := nnNode("Conv2D", attrs, []*tensor.Tensor{x, f}, true)
		n.Inputs[0] = Value{DType: tensor.Float32, Shape: tensor.PartialShape{Dims: []int{-1, -1, -1, 40}}}
		unknown, err := spec.Build(n)
		if err != nil {
			t.Fatal(err)
		}
		a, err := known.Run(&Ctx{}, []*tensor.Tensor{x, f})
		if err != nil {
			t.Fatal(err)
		}
		b, err := unknown.Run(&Ctx{}, []*tensor.Tensor{x, f})
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.Equal(a[0], b[0]) {
			t.Fatalf("width %d: packing at build for an unknown width changes the result", w)
		}
	}
}

// TestConvHugeDilation runs convolutions whose padding or dilation dwarfs
// the image: they must not take the direct path's band of zeros (nor
// fail), and agree with the reference.
func TestConvHugeDilation(t *testing.T) {
	r := rand.New(rand.NewSource(60))
	for _, cc := range []nnConvCase{
		{n: 1, h: 3, w: 4, c: 2, kh: 3, kw: 3, fc: 2, fo: 5, sh: 1, sw: 1, dh: 1 << 24, dw: 1 << 24, padding: nnPadSame},
		{n: 1, h: 3, w: 4, c: 2, kh: 2, kw: 2, fc: 2, fo: 5, sh: 1 << 30, sw: 1 << 30, dh: 1, dw: 1, padding: nnPadExplicit, pt: 1, pb: 1 << 28, pl: 0, pr: 1 << 28},
	} {
		cc.dtype = tensor.Float32
		a := cvTestAttrs(cc)
		g, err := nnConvGeometry("Conv2D", a, tensor.Shape{cc.n, cc.h, cc.w, cc.c}, tensor.Shape{cc.kh, cc.kw, cc.c, cc.fo})
		if err != nil {
			t.Fatal(err)
		}
		if cvDirectFits(cvArchF32, g, a, cc.n*cc.h*cc.w*cc.c) {
			t.Errorf("%+v: the direct path's band would fit", cc)
		}
		nnRunConvCase(t, r, cc)
	}
}
