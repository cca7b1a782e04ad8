package ops

// cvArch is a set of float32 kernels for convolutions, depthwise
// convolutions, pools and column sums, matched to one GEMM kernel set:
// the convolution tile has the GEMM tile's shape (mr×nr), reads B packed
// for it, and rounds as it does (fused multiply-add or not), so that the
// direct convolution gives the bits of im2col followed by that GEMM.
//
// The kernels' contracts are the reference loops in conv_noasm.go; strides
// are in elements.
type cvArch struct {
	name   string
	gemm   *nnGemmArch[float32]
	mr, nr int
	// direct tells whether Conv2D should use convTile rather than im2col
	// and the GEMM (measured: the portable tile is slower than im2col).
	direct   bool
	convTile func(a []float32, aRow int, offs []int, segLen int, b, c []float32, ldc, rows, cols, flags int, bias []float32)
	dw       func(x []float32, xPix, xRow, xCol, nkh, nkw int, f []float32, fRow, fCol int, out []float32, outPix, npix, chans, flags int, bias []float32)
	pool     func(x []float32, xPix, xRow, xCol, nkh, nkw int, out []float32, outPix, npix, chans int, avg bool, count float32)
	sumCols  func(acc []float64, x []float32, rows, stride, cols int)
}

// cvArchF32 is the kernel set in use, chosen once to match nnArchF32.
var cvArchF32 = cvSelectArch()

// cvGoArch returns the portable kernel set for the GEMM set gemm (whose
// tile shape sets the layout of packed filters).
func cvGoArch(gemm *nnGemmArch[float32]) *cvArch {
	nr := gemm.nr
	return &cvArch{
		name: "go", gemm: gemm, mr: gemm.mr, nr: nr,
		convTile: func(a []float32, aRow int, offs []int, segLen int, b, c []float32, ldc, rows, cols, flags int, bias []float32) {
			cvConvTileGo(nr, a, aRow, offs, segLen, b, c, ldc, rows, cols, flags, bias)
		},
		dw:      cvDwGo,
		pool:    cvPoolGo,
		sumCols: cvSumColsGo,
	}
}

// cvConvTileGo is the portable convolution tile (see conv_noasm.go) for
// B packed in panels of nr (a multiple of 4) columns. Each multiply-add
// rounds once, as in the tile of the portable GEMM (vmathGoTile).
func cvConvTileGo(nr int, a []float32, aRow int, offs []int, segLen int, b, c []float32, ldc, rows, cols, flags int, bias []float32) {
	for i := 0; i < rows; i++ {
		ci := c[i*ldc : i*ldc+cols]
		for j0 := 0; j0 < cols; j0 += 4 {
			var c0, c1, c2, c3 float32
			p := 0
			for _, off := range offs {
				for _, av := range a[off+i*aRow : off+i*aRow+segLen] {
					r := b[p*nr+j0 : p*nr+j0+4 : p*nr+j0+4]
					p++
					a := float64(av)
					s0 := a*float64(r[0]) + float64(c0)
					s1 := a*float64(r[1]) + float64(c1)
					s2 := a*float64(r[2]) + float64(c2)
					s3 := a*float64(r[3]) + float64(c3)
					if vmathTwice(s0) || vmathTwice(s1) || vmathTwice(s2) || vmathTwice(s3) {
						c0, c1 = vmathFMA(av, r[0], c0), vmathFMA(av, r[1], c1)
						c2, c3 = vmathFMA(av, r[2], c2), vmathFMA(av, r[3], c3)
						continue
					}
					c0, c1, c2, c3 = float32(s0), float32(s1), float32(s2), float32(s3)
				}
			}
			acc := [4]float32{c0, c1, c2, c3}
			for j := j0; j < min(j0+4, cols); j++ {
				ci[j] = nnEpilogueOne(acc[j-j0], j, flags, bias)
			}
		}
	}
}

// cvDwGo is the portable depthwise kernel (see conv_noasm.go), each
// multiply-add rounded once.
func cvDwGo(x []float32, xPix, xRow, xCol, nkh, nkw int, f []float32, fRow, fCol int, out []float32, outPix, npix, chans, flags int, bias []float32) {
	for p := 0; p < npix; p++ {
		acc := out[p*outPix : p*outPix+chans]
		clear(acc)
		for i := 0; i < nkh; i++ {
			for j := 0; j < nkw; j++ {
				xs := x[p*xPix+i*xRow+j*xCol:][:len(acc)]
				fs := f[i*fRow+j*fCol:][:len(acc)]
				for c, v := range acc {
					if s := float64(xs[c])*float64(fs[c]) + float64(v); !vmathTwice(s) {
						acc[c] = float32(s)
					} else {
						acc[c] = vmathFMA(xs[c], fs[c], v)
					}
				}
			}
		}
		if flags != 0 {
			for c, v := range acc {
				acc[c] = nnEpilogueOne(v, c, flags, bias)
			}
		}
	}
}

// cvPoolGo is the portable pooling kernel (see conv_noasm.go).
func cvPoolGo(x []float32, xPix, xRow, xCol, nkh, nkw int, out []float32, outPix, npix, chans int, avg bool, count float32) {
	init := float32(0)
	if !avg {
		init = nnLowest[float32]()
	}
	for p := 0; p < npix; p++ {
		acc := out[p*outPix : p*outPix+chans]
		for c := range acc {
			acc[c] = init
		}
		for i := 0; i < nkh; i++ {
			for j := 0; j < nkw; j++ {
				xs := x[p*xPix+i*xRow+j*xCol:][:len(acc)]
				if avg {
					for c, v := range xs {
						acc[c] += v
					}
					continue
				}
				for c, v := range xs {
					if v > acc[c] {
						acc[c] = v
					}
				}
			}
		}
		if avg {
			for c := range acc {
				acc[c] /= count
			}
		}
	}
}

// cvSumColsGo is the portable column sum (see conv_noasm.go).
func cvSumColsGo(acc []float64, x []float32, rows, stride, cols int) {
	acc = acc[:cols]
	for i := 0; i < rows; i++ {
		for j, v := range x[i*stride : i*stride+cols] {
			acc[j] += float64(v)
		}
	}
}
