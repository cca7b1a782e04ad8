//go:build amd64 && !noasm

package ops

import "fmt"

//go:generate go run conv_asm_gen.go -o conv_amd64.s

// Float32 convolution kernels in assembly (conv_amd64.s, written by
// conv_asm_gen.go). conv_noasm.go holds the reference loop of each; the
// portable twins (cvConvTileGo, cvDwGo, cvPoolGo, cvSumColsGo) compute
// the same thing in Go. Strides of the depthwise and pooling kernels are
// in bytes here and in elements in the Go wrappers.
//
// The multiply-adds are fused (VFMADD231PS), as in the GEMM kernels of
// the same instruction set, so the direct convolution gives the same bits
// as im2col followed by the GEMM.

// cvConvTileAVX512 is the convolution tile of cvArch for the AVX-512
// GEMM set (14×32).
//
//go:noescape
func cvConvTileAVX512(a *float32, aRow int, offs *int, nseg, segLen int, b, c *float32, ldc, rows, cols, flags int, bias *float32)

// cvConvTileAVX2 is the convolution tile of cvArch for the AVX2 GEMM set
// (6×16).
//
//go:noescape
func cvConvTileAVX2(a *float32, aRow int, offs *int, nseg, segLen int, b, c *float32, ldc, rows, cols, flags int, bias *float32)

// cvDwAVX512 is the depthwise kernel of cvArch, on zmm vectors.
//
//go:noescape
func cvDwAVX512(x *float32, xPix, xRow, xCol, nkh, nkw int, f *float32, fRow, fCol int, out *float32, outPix, npix, chans, flags int, bias *float32)

// cvDwAVX2 is the depthwise kernel of cvArch, on ymm vectors.
//
//go:noescape
func cvDwAVX2(x *float32, xPix, xRow, xCol, nkh, nkw int, f *float32, fRow, fCol int, out *float32, outPix, npix, chans, flags int, bias *float32)

// cvPoolAVX2 is the pooling kernel of cvArch (both instruction sets: the
// loop is bound by memory, not by the vector width).
//
//go:noescape
func cvPoolAVX2(x *float32, xPix, xRow, xCol, nkh, nkw int, out *float32, outPix, npix, chans int, avg bool, count float32)

// cvSumColsAVX2 is the column-sum kernel of cvArch.
//
//go:noescape
func cvSumColsAVX2(acc *float64, x *float32, rows, stride, cols int)

var (
	cvArchAVX512 = cvAsmArch("avx512", nnArchAVX512, cvConvTileAVX512, cvDwAVX512)
	cvArchAVX2   = cvAsmArch("avx2", nnArchAVX2, cvConvTileAVX2, cvDwAVX2)
)

// cvSelectArch returns the convolution kernels matching the float32 GEMM
// set in use (nnArchF32).
func cvSelectArch() *cvArch {
	switch nnArchF32 {
	case nnArchAVX512:
		return cvArchAVX512
	case nnArchAVX2:
		return cvArchAVX2
	}
	return cvGoArch(nnArchF32)
}

// cvArches lists every convolution kernel set this CPU can run, for tests
// and benchmarks.
func cvArches() []*cvArch {
	var all []*cvArch
	if nnHasAVX512() {
		all = append(all, cvArchAVX512)
	}
	if nnHasAVX2() {
		all = append(all, cvArchAVX2)
	}
	return append(all, cvGoArch(nnGoArch[float32]()))
}

// cvAsmArch wraps assembly kernels. The wrappers check that every access
// stays inside the slices, since the assembly cannot.
func cvAsmArch(name string, gemm *nnGemmArch[float32],
	tile func(a *float32, aRow int, offs *int, nseg, segLen int, b, c *float32, ldc, rows, cols, flags int, bias *float32),
	dw func(x *float32, xPix, xRow, xCol, nkh, nkw int, f *float32, fRow, fCol int, out *float32, outPix, npix, chans, flags int, bias *float32),
) *cvArch {
	mr, nr := gemm.mr, gemm.nr
	return &cvArch{
		name: name, gemm: gemm, mr: mr, nr: nr, direct: true,
		convTile: func(a []float32, aRow int, offs []int, segLen int, b, c []float32, ldc, rows, cols, flags int, bias []float32) {
			maxOff := -1
			for _, o := range offs {
				if o < 0 {
					maxOff = -1
					break
				}
				maxOff = max(maxOff, o)
			}
			bw := nr
			if cols <= nr/2 {
				bw = nr / 2
			}
			if len(offs) == 0 || maxOff < 0 || segLen < 1 || rows < 1 || rows > mr || cols < 1 || cols > nr || aRow < 0 ||
				maxOff+(mr-1)*aRow+segLen > len(a) || (len(offs)*segLen-1)*nr+bw > len(b) ||
				(rows-1)*ldc+cols > len(c) || (flags&nnGemmBias != 0 && cols > len(bias)) {
				panic(fmt.Sprintf("ops: conv %s tile out of bounds: segs=%d maxOff=%d segLen=%d rows=%d cols=%d aRow=%d ldc=%d len(a)=%d len(b)=%d len(c)=%d len(bias)=%d",
					name, len(offs), maxOff, segLen, rows, cols, aRow, ldc, len(a), len(b), len(c), len(bias)))
			}
			tile(&a[0], aRow, &offs[0], len(offs), segLen, &b[0], &c[0], ldc, rows, cols, flags, nnBiasPtr(flags, bias))
		},
		dw: func(x []float32, xPix, xRow, xCol, nkh, nkw int, f []float32, fRow, fCol int, out []float32, outPix, npix, chans, flags int, bias []float32) {
			if nkh < 1 || nkw < 1 || npix < 1 || chans < 1 || xPix < 0 || xRow < 0 || xCol < 0 || fRow < 0 || fCol < 0 || outPix < 0 ||
				(npix-1)*xPix+(nkh-1)*xRow+(nkw-1)*xCol+chans > len(x) || (nkh-1)*fRow+(nkw-1)*fCol+chans > len(f) ||
				(npix-1)*outPix+chans > len(out) || (flags&nnGemmBias != 0 && chans > len(bias)) {
				panic(fmt.Sprintf("ops: depthwise %s out of bounds: taps=%d×%d npix=%d chans=%d xPix=%d xRow=%d xCol=%d fRow=%d fCol=%d outPix=%d len(x)=%d len(f)=%d len(out)=%d len(bias)=%d",
					name, nkh, nkw, npix, chans, xPix, xRow, xCol, fRow, fCol, outPix, len(x), len(f), len(out), len(bias)))
			}
			dw(&x[0], 4*xPix, 4*xRow, 4*xCol, nkh, nkw, &f[0], 4*fRow, 4*fCol, &out[0], 4*outPix, npix, chans, flags, nnBiasPtr(flags, bias))
		},
		pool:    cvPoolAsm,
		sumCols: cvSumColsAsm,
	}
}

func cvPoolAsm(x []float32, xPix, xRow, xCol, nkh, nkw int, out []float32, outPix, npix, chans int, avg bool, count float32) {
	if nkh < 1 || nkw < 1 || npix < 1 || chans < 1 || xPix < 0 || xRow < 0 || xCol < 0 || outPix < 0 ||
		(npix-1)*xPix+(nkh-1)*xRow+(nkw-1)*xCol+chans > len(x) || (npix-1)*outPix+chans > len(out) {
		panic(fmt.Sprintf("ops: pool out of bounds: taps=%d×%d npix=%d chans=%d xPix=%d xRow=%d xCol=%d outPix=%d len(x)=%d len(out)=%d",
			nkh, nkw, npix, chans, xPix, xRow, xCol, outPix, len(x), len(out)))
	}
	cvPoolAVX2(&x[0], 4*xPix, 4*xRow, 4*xCol, nkh, nkw, &out[0], 4*outPix, npix, chans, avg, count)
}

func cvSumColsAsm(acc []float64, x []float32, rows, stride, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if stride < 0 || cols > len(acc) || (rows-1)*stride+cols > len(x) {
		panic(fmt.Sprintf("ops: column sum out of bounds: rows=%d stride=%d cols=%d len(acc)=%d len(x)=%d", rows, stride, cols, len(acc), len(x)))
	}
	cvSumColsAVX2(&acc[0], &x[0], rows, stride, cols)
}
