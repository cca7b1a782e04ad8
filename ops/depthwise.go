package ops

// Float32 depthwise convolution with multiplier 1 on the channel-vector
// kernel of cvArch (cvArch.dw): for each output row, the pixels whose
// window lies inside the input in both directions go to the kernel in one
// run, the others (near the left and right edges) one at a time with the
// taps that fall inside the input; rows near the top and bottom use the
// filter rows that fall inside. Skipping the padding taps equals
// multiplying its zeros for a finite filter (see nnDepthwise).

// cvTapRange returns the taps [k0, k1) of a window of k taps dil apart,
// starting at input position start, that fall inside [0, size).
func cvTapRange(start, k, dil, size int) (k0, k1 int) {
	if start < 0 {
		k0 = (-start + dil - 1) / dil
	}
	if last := size - 1 - start; last < 0 {
		k1 = 0
	} else {
		k1 = min(k, last/dil+1)
	}
	if k1 < k0 {
		k1 = k0
	}
	return k0, k1
}

// cvInterior returns the output positions [lo, hi) whose whole window
// (k taps dil apart, stride apart, pad before) lies inside [0, size);
// hi ≤ lo when there are none.
func cvInterior(out, k, dil, stride, pad, size int) (lo, hi int) {
	lo = (pad + stride - 1) / stride
	last := size - 1 - (k-1)*dil + pad // largest o*stride allowed
	if last < 0 {
		return lo, lo
	}
	hi = min(out, last/stride+1)
	return lo, hi
}

// cvDepthwise computes a float32 depthwise convolution with multiplier 1
// and a finite filter into od with the kernels of ar, applying ep as it
// stores and post (when not nil) to each finished output row.
func cvDepthwise(ar *cvArch, ctx *Ctx, g nnConvShape, a nnWindowAttrs, xd, fd, od []float32, ep nnEpilogue[float32], post func(v []float32, off int)) {
	if len(od) == 0 {
		return
	}
	owA, owB := cvInterior(g.ow, g.kw, a.dilW, a.strideW, g.padL, g.w)
	rowWork := max(1, g.ow*g.kh*g.kw*g.c)
	ParallelJob(ctx, g.n*g.oh, max(1, nnGemmGrain/rowWork), cvDepthwiseJob{ar: ar, ctx: ctx, g: g, a: a, xd: xd, fd: fd, od: od,
		bias: ep.Bias, ef: ep.flags(), owA: owA, owB: owB, post: post})
}

// cvDepthwiseJob computes output rows [lo, hi) (over all images) of
// cvDepthwise.
type cvDepthwiseJob struct {
	ar           *cvArch
	ctx          *Ctx
	g            nnConvShape
	a            nnWindowAttrs
	xd, fd, od   []float32
	bias         []float32
	ef, owA, owB int
	post         func(v []float32, off int)
}

func (j *cvDepthwiseJob) Chunk(lo, hi int) {
	ar, ctx, g, a, xd, fd, od, bias, ef, owA, owB := j.ar, j.ctx, &j.g, &j.a, j.xd, j.fd, j.od, j.bias, j.ef, j.owA, j.owB
	c := g.c
	for r := lo; r < hi; r++ {
		if (r-lo)%64 == 63 && ctx.Err() != nil {
			return
		}
		n, oh := r/g.oh, r%g.oh
		ih0 := oh*a.strideH - g.padT
		kh0, kh1 := cvTapRange(ih0, g.kh, a.dilH, g.h)
		orow := od[r*g.ow*c : (r+1)*g.ow*c]
		// pixels runs npix output pixels from ow whose taps [kw0, kw1)
		// are inside.
		pixels := func(ow, npix, kw0, kw1 int) {
			out := orow[ow*c:]
			if kh1 == kh0 || kw1 == kw0 {
				for p := 0; p < npix; p++ {
					for j := range c {
						out[p*c+j] = nnEpilogueOne(0, j, ef, bias)
					}
				}
				return
			}
			iw := ow*a.strideW - g.padL + kw0*a.dilW
			ih := ih0 + kh0*a.dilH
			x := xd[((n*g.h+ih)*g.w+iw)*c:]
			f := fd[(kh0*g.kw+kw0)*c:]
			ar.dw(x, a.strideW*c, a.dilH*g.w*c, a.dilW*c, kh1-kh0, kw1-kw0, f, g.kw*c, c, out, c, npix, c, ef, bias)
		}
		for ow := 0; ow < g.ow; {
			if ow >= owA && ow < owB {
				pixels(ow, owB-ow, 0, g.kw)
				ow = owB
				continue
			}
			kw0, kw1 := cvTapRange(ow*a.strideW-g.padL, g.kw, a.dilW, g.w)
			pixels(ow, 1, kw0, kw1)
			ow++
		}
		if j.post != nil {
			j.post(orow, r*g.ow*c)
		}
	}
}
