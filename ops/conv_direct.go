package ops

import "github.com/tfdgo/tfd/tensor"

// Direct float32 Conv2D: the GEMM's tile kernel reads the receptive
// fields straight from a zero-padded copy of a band of input rows
// instead of from im2col rows.
//
// For an output row, the receptive field of output pixel ow, filter row
// kh, is the kw·c (dilation 1) consecutive floats of padded input row
// oh·sh + kh·dh starting at pixel ow·sw: so the K steps of a tile of
// consecutive output pixels are a few segments at fixed offsets (one per
// filter row, or one per filter tap when dilated), and the tile's rows
// are a stride of sw·c apart. The tile kernel walks those segments in
// (kh, kw, c) order, the order of im2col columns, and the padding it reads
// holds zeros that it multiplies as im2col's would: the direct path gives
// the bits of the im2col path. It copies each input row once per band
// (plus the rows bands share) rather than kh·kw times, and needs no
// buffer larger than a band.

// cvBandFloats bounds the floats of a band of padded input rows, so that
// the band stays in L2 while the tiles of its output rows read it.
const cvBandFloats = 1 << 15

// cvDirectGeom is the layout of the direct path for one call.
type cvDirectGeom struct {
	wb, rowLen int // padded band row: pixels, floats
	aRow       int // floats between the receptive fields of neighbor pixels
	segLen     int // floats per segment
	span       int // input rows one output row reads
	bandOut    int // output rows per band
	slack      int // floats past a band that partial tiles read
	// The segment offsets from a pixel's first float: the first nOffs of
	// offsBuf, or offsHeap when there are more (a large dilated filter),
	// so that the common case allocates nothing.
	nOffs    int
	offsBuf  [cvDirectOffs]int
	offsHeap []int
}

// cvDirectOffs is the number of segment offsets a cvDirectGeom holds in
// place.
const cvDirectOffs = 16

// offs returns the segment offsets.
func (d *cvDirectGeom) offs() []int {
	if d.offsHeap != nil {
		return d.offsHeap
	}
	return d.offsBuf[:d.nOffs]
}

func (d *cvDirectGeom) addOff(off int) {
	switch {
	case d.offsHeap != nil:
		d.offsHeap = append(d.offsHeap, off)
	case d.nOffs == cvDirectOffs:
		d.offsHeap = append(append([]int(nil), d.offsBuf[:]...), off)
	default:
		d.offsBuf[d.nOffs] = off
		d.nOffs++
	}
}

func cvDirectLayout(ar *cvArch, g nnConvShape, a nnWindowAttrs) cvDirectGeom {
	var d cvDirectGeom
	d.wb = (g.ow-1)*a.strideW + (g.kw-1)*a.dilW + 1
	d.rowLen = d.wb * g.c
	d.aRow = a.strideW * g.c
	d.span = (g.kh-1)*a.dilH + 1
	if a.dilW == 1 || g.kw == 1 {
		d.segLen = g.kw * g.c
		for kh := 0; kh < g.kh; kh++ {
			d.addOff(kh * a.dilH * d.rowLen)
		}
	} else {
		d.segLen = g.c
		for kh := 0; kh < g.kh; kh++ {
			for kw := 0; kw < g.kw; kw++ {
				d.addOff(kh*a.dilH*d.rowLen + kw*a.dilW*g.c)
			}
		}
	}
	d.bandOut = max(1, (cvBandFloats/d.rowLen-d.span)/a.strideH+1)
	d.bandOut = min(d.bandOut, g.oh)
	d.slack = (ar.mr - 1) * d.aRow
	return d
}

// cvUseDirect tells whether a float32 Conv2D with filter shape fs and ow
// output columns takes the direct path rather than im2col and the GEMM;
// ow < 0 means not known yet, and then maybe tells whether it might.
//
// The direct path's tiles run along an output row, so a row of ow pixels
// fills ow/(⌈ow/mr⌉·mr) of their rows; im2col's copies cost little next
// to the product unless they are short (a receptive-field row of few
// floats). The thresholds come from BenchmarkConvPaths: the direct path
// wins with rows at least 85 % full or segments under 64 floats, and
// loses below that (7×7 outputs of 512 channels, 1×1 stride 2 on 20
// columns).
func cvUseDirect(a nnWindowAttrs, fs tensor.Shape, groups, ow int) (use, maybe bool) {
	ar := cvArchF32
	if !ar.direct || groups != 1 || len(fs) != 4 || cvPlain1x1(a, fs[0], fs[1]) {
		return false, false
	}
	if fs[1]*fs[2] < 64 {
		return true, true
	}
	if ow < 0 {
		return false, true
	}
	tiles := (ow + ar.mr - 1) / ar.mr
	return ow*100 >= 85*tiles*ar.mr, true
}

// cvDirectFits tells whether the band of the direct path stays small for
// a convolution of g whose input has xLen elements: a padding or dilation
// far larger than the image (which only an odd or hostile model has) would
// make the band of zeros larger than the work, and im2col never
// materializes it.
func cvDirectFits(ar *cvArch, g nnConvShape, a nnWindowAttrs, xLen int) bool {
	const limit = 1 << 22 // floats
	wb := (g.ow-1)*a.strideW + (g.kw-1)*a.dilW + 1
	span := (g.kh-1)*a.dilH + 1
	if wb <= 0 || span <= 0 || wb > limit || span > limit || wb > limit/max(1, g.c) {
		return false
	}
	if a.strideH > limit || a.strideW > limit {
		return false
	}
	rows := span + a.strideH*min(g.oh, cvBandFloats/(wb*g.c)+1)
	if rows > limit {
		return false
	}
	band := rows*wb*g.c + ar.mr*a.strideW*g.c
	return band <= max(limit/4, 4*xLen)
}

// cvPackFilter packs a k×n filter matrix (row-major, leading dimension
// ldb) for the convolution tile of ar: panel jp of nr columns at
// dst[jp*k*nr:], element (p, j) at p*nr+j, zeros past column n. dst has
// cvPackedLen(ar, k, n) elements.
func cvPackFilter(ar *cvArch, k, n int, b []float32, ldb int, dst []float32) {
	nr := ar.nr
	for j0 := 0; j0 < n; j0 += nr {
		nnPackBPanel(b, ldb, false, n, 0, k, j0, nr, dst[j0*k:][:k*nr])
	}
}

// cvPackedLen is the length of a k×n filter packed by cvPackFilter.
func cvPackedLen(ar *cvArch, k, n int) int { return k * nnPadN(n, ar.nr) }

// cvConvDirect computes a float32 Conv2D of one group into od with the
// tile kernel of ar and the filter packed by cvPackFilter, applying the
// GEMM epilogue ep as it stores, then post (when not nil) to each band of
// finished output pixels.
func cvConvDirect(ar *cvArch, ctx *Ctx, g nnConvShape, a nnWindowAttrs, xd, pb, od []float32, ep nnEpilogue[float32], post func(v []float32, off int)) {
	if len(od) == 0 {
		return
	}
	k := g.kh * g.kw * g.c
	rowWork := max(1, g.ow*g.fo*k)
	ParallelJob(ctx, g.n*g.oh, max(1, nnGemmGrain/rowWork), cvDirectJob{ar: ar, ctx: ctx, g: g, a: a, d: cvDirectLayout(ar, g, a),
		k: k, ef: ep.flags(), xd: xd, pb: pb, od: od, bias: ep.Bias, post: post})
}

// cvDirectJob computes output rows [lo, hi) (over all images) of
// cvConvDirect.
type cvDirectJob struct {
	ar         *cvArch
	ctx        *Ctx
	g          nnConvShape
	a          nnWindowAttrs
	d          cvDirectGeom
	k, ef      int
	xd, pb, od []float32
	bias       []float32
	post       func(v []float32, off int)
}

func (j *cvDirectJob) Chunk(lo, hi int) {
	ar, ctx, g, a, d, k, ef, xd, pb, od := j.ar, j.ctx, &j.g, &j.a, &j.d, j.k, j.ef, j.xd, j.pb, j.od
	offs := d.offs()
	// A band holds at most the input rows of the chunk's output rows.
	bandRows := (min(d.bandOut, hi-lo)-1)*a.strideH + d.span
	band, release := nnScratch[float32](ctx, bandRows*d.rowLen+d.slack)
	defer release.Release()
	clear(band)
	for r0 := lo; r0 < hi; {
		if ctx.Err() != nil {
			return
		}
		img, oh0 := r0/g.oh, r0%g.oh
		r1 := min(hi, r0+d.bandOut, (img+1)*g.oh)
		rows := (r1-r0-1)*a.strideH + d.span
		ih0 := oh0*a.strideH - g.padT
		for t := 0; t < rows; t++ {
			var src []float32
			if ih := ih0 + t; ih >= 0 && ih < g.h {
				src = xd[(img*g.h+ih)*g.w*g.c:][:g.w*g.c]
			}
			cvFillBandRow(band[t*d.rowLen:][:d.rowLen], src, g.padL, g.w, g.c)
		}
		for r := r0; r < r1; r++ {
			base := (r - r0) * a.strideH * d.rowLen
			for ow0 := 0; ow0 < g.ow; ow0 += ar.mr {
				nrows := min(ar.mr, g.ow-ow0)
				ab := band[base+ow0*d.aRow:]
				cb := od[(r*g.ow+ow0)*g.fo:]
				for j0 := 0; j0 < g.fo; j0 += ar.nr {
					ar.convTile(ab, d.aRow, offs, d.segLen, pb[j0*k:], cb[j0:], g.fo, nrows, min(ar.nr, g.fo-j0), ef, nnBiasAt(j.bias, ef, j0))
				}
			}
		}
		if j.post != nil {
			j.post(od[r0*g.ow*g.fo:r1*g.ow*g.fo], r0*g.ow*g.fo)
		}
		r0 = r1
	}
}

// cvFillBandRow writes one padded band row of wb = len(dst)/c pixels:
// pixel q holds input pixel q-padL of src (c floats each), or zeros where
// that is outside [0, w) or src is nil (a padding row).
func cvFillBandRow(dst, src []float32, padL, w, c int) {
	wb := len(dst) / c
	if src == nil {
		clear(dst)
		return
	}
	qa := min(max(padL, 0), wb)
	qb := min(max(padL+w, qa), wb)
	clear(dst[:qa*c])
	if qb > qa {
		copy(dst[qa*c:qb*c], src[(qa-padL)*c:(qb-padL)*c])
	}
	clear(dst[qb*c:])
}
