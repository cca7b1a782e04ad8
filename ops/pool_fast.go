package ops

import "github.com/tfdgo/tfd/tensor"

// Float32 MaxPool and AvgPool on the channel-vector pooling kernel of
// cvArch: for each output row, the pixels whose window lies inside the
// input go to the kernel in one run, the others one at a time with the
// part of their window inside the input (the only part TF's kernels
// fold). The kernel folds the window positions in (kh, kw) order as
// nnPoolRun does, so the results are the same.

// cvPoolRun runs MaxPool (avg false) or AvgPool on a float32 (or 16-bit
// float) input.
func cvPoolRun(ctx *Ctx, op string, dt tensor.DType, a nnWindowAttrs, x *tensor.Tensor, avg bool) ([]*tensor.Tensor, error) {
	return cvPoolRunWith(cvArchF32, ctx, op, dt, a, x, avg)
}

// cvPoolRunWith is cvPoolRun with the kernel set ar.
func cvPoolRunWith(ar *cvArch, ctx *Ctx, op string, dt tensor.DType, a nnWindowAttrs, x *tensor.Tensor, avg bool) ([]*tensor.Tensor, error) {
	g, err := nnPoolGeometry(op, a, x.Shape())
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
	owA, owB := cvInterior(g.ow, a.kW, 1, a.strideW, g.padL, g.w)
	rowWork := max(1, g.ow*a.kH*a.kW*g.c)
	ParallelJob(ctx, g.n*g.oh, max(1, nnGemmGrain/rowWork), cvPoolJob{ar: ar, ctx: ctx, g: g, a: a, xd: tensor.As[float32](x), od: od,
		owA: owA, owB: owB, avg: avg})
	if err := ctx.Err(); err != nil {
		out.Release()
		return nil, err
	}
	return ctx.Out(out), nil
}

// cvPoolJob computes output rows [lo, hi) (over all images) of
// cvPoolRunWith.
type cvPoolJob struct {
	ar       *cvArch
	ctx      *Ctx
	g        nnConvShape
	a        nnWindowAttrs
	xd, od   []float32
	owA, owB int
	avg      bool
}

func (j *cvPoolJob) Chunk(lo, hi int) {
	ar, ctx, g, a, xd, od, owA, owB, avg := j.ar, j.ctx, &j.g, &j.a, j.xd, j.od, j.owA, j.owB, j.avg
	c := g.c
	for r := lo; r < hi; r++ {
		if (r-lo)%64 == 63 && ctx.Err() != nil {
			return
		}
		n, oh := r/g.oh, r%g.oh
		ih0 := oh*a.strideH - g.padT
		kh0, kh1 := cvTapRange(ih0, a.kH, 1, g.h)
		orow := od[r*g.ow*c : (r+1)*g.ow*c]
		pixels := func(ow, npix, kw0, kw1 int) {
			count := (kh1 - kh0) * (kw1 - kw0)
			o := orow[ow*c:]
			if count == 0 {
				cvPoolGo(xd, 0, 0, 0, 0, 0, o, c, npix, c, avg, 0)
				return
			}
			iw := ow*a.strideW - g.padL + kw0
			xs := xd[((n*g.h+ih0+kh0)*g.w+iw)*c:]
			ar.pool(xs, a.strideW*c, g.w*c, c, kh1-kh0, kw1-kw0, o, c, npix, c, avg, float32(count))
		}
		for ow := 0; ow < g.ow; {
			if ow >= owA && ow < owB {
				pixels(ow, owB-ow, 0, a.kW)
				ow = owB
				continue
			}
			kw0, kw1 := cvTapRange(ow*a.strideW-g.padL, a.kW, 1, g.w)
			pixels(ow, 1, kw0, kw1)
			ow++
		}
	}
}

// cvFoldColsFast adds the rows rows of x (stride apart, len(acc) columns)
// into acc with the column-sum kernel when the reduction is a float32 Sum
// or Mean accumulated in float64, and tells whether it did.
func cvFoldColsFast[T, A nnNum](op nnRedOp, acc []A, x []T, rows, stride int) bool {
	if op != nnRedSum && op != nnRedMean {
		return false
	}
	a, ok1 := any(acc).([]float64)
	xs, ok2 := any(x).([]float32)
	if !ok1 || !ok2 {
		return false
	}
	cvArchF32.sumCols(a, xs, rows, stride, len(a))
	return true
}
