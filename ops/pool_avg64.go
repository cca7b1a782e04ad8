package ops

import "github.com/tfdgo/tfd/tensor"

// nnAvgPoolWide64 is the window area from which a float32 AvgPool sums its
// windows in float64 and rounds once. Squeeze-and-excite blocks average
// windows of up to 128×128 values; summed in float32, such a mean drifts by
// ~1e-5 relative and made the selfie segmentation model miss TF.js (whose
// CPU backend sums in float64) by 1.7e-4 rel L2 (conformance/README.md).
// Small windows keep the vector kernel: 3×3 sums lose nothing measurable.
const nnAvgPoolWide64 = 64

// nnAvgPoolF64 is AvgPool over NHWC float32 (or 16-bit float) data with
// float64 sums. Padding is excluded from each window's count, as in TF.
func nnAvgPoolF64(ctx *Ctx, dt tensor.DType, a nnWindowAttrs, x *tensor.Tensor) ([]*tensor.Tensor, error) {
	g, err := nnPoolGeometry("AvgPool", a, x.Shape())
	if err != nil {
		return nil, err
	}
	out, err := ctx.Alloc(dt, tensor.Shape{g.n, g.oh, g.ow, g.c})
	if err != nil {
		return nil, err
	}
	od := tensor.As[float32](out)
	if len(od) == 0 {
		return ctx.Out(out), nil
	}
	rowWork := max(1, g.ow*a.kH*a.kW*g.c)
	ParallelJob(ctx, g.n*g.oh, max(1, nnGemmGrain/rowWork), nnAvgPool64Job{ctx: ctx, g: g, a: a, xd: tensor.As[float32](x), od: od})
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return ctx.Out(out), nil
}

// nnAvgPool64Job computes output rows [lo, hi) (over all images) of
// nnAvgPoolF64.
type nnAvgPool64Job struct {
	ctx    *Ctx
	g      nnConvShape
	a      nnWindowAttrs
	xd, od []float32
}

func (j *nnAvgPool64Job) Chunk(lo, hi int) {
	ctx, g, a, xd, od := j.ctx, &j.g, &j.a, j.xd, j.od
	c := g.c
	acc, release := nnScratch[float64](ctx, c)
	defer release.Release()
	for r := lo; r < hi; r++ {
		if ctx.Err() != nil {
			return
		}
		n, oh := r/g.oh, r%g.oh
		ih0 := oh*a.strideH - g.padT
		kh0, kh1 := max(0, -ih0), min(a.kH, g.h-ih0)
		for ow := range g.ow {
			iw0 := ow*a.strideW - g.padL
			kw0, kw1 := max(0, -iw0), min(a.kW, g.w-iw0)
			clear(acc)
			count := 0
			for kh := kh0; kh < kh1; kh++ {
				for kw := kw0; kw < kw1; kw++ {
					px := xd[((n*g.h+ih0+kh)*g.w+iw0+kw)*c:][:c]
					for j, v := range px {
						acc[j] += float64(v)
					}
					count++
				}
			}
			o := od[(r*g.ow+ow)*c:][:c]
			for j := range o {
				if count == 0 {
					o[j] = 0
					continue
				}
				o[j] = float32(acc[j] / float64(count))
			}
		}
	}
}
