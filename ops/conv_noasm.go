//go:build !amd64 || noasm

package ops

// cvSelectArch returns the convolution kernels of builds without
// assembly: the portable ones (cvGoArch). Their loops are the reference
// that the kernels of conv_amd64.s implement, each multiply-add (fma
// below) rounded once, here as there.
//
// The convolution tile (cvConvTileGo) computes rows < rows and columns
// < cols of an mr×nr tile of C from A read in segments:
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < cols; j++ {
//			var acc float32
//			p := 0
//			for _, off := range offs {
//				for q := 0; q < segLen; q++ {
//					acc = fma(a[off+i*aRow+q], b[p*nr+j], acc)
//					p++
//				}
//			}
//			c[i*ldc+j] = epilogue(acc, j)   // bias, Relu, clip per flags
//		}
//	}
//
// The assembly tiles also read rows rows..mr-1 of A (padding).
//
// The depthwise kernel (cvDwGo) computes npix output pixels of chans
// channels, strides in elements:
//
//	for p := 0; p < npix; p++ {
//		for c := 0; c < chans; c++ {
//			var acc float32
//			for i := 0; i < nkh; i++ {
//				for j := 0; j < nkw; j++ {
//					acc = fma(x[p*xPix+i*xRow+j*xCol+c], f[i*fRow+j*fCol+c], acc)
//				}
//			}
//			out[p*outPix+c] = epilogue(acc, c)
//		}
//	}
//
// The pooling kernel (cvPoolGo) folds the same windows with max (acc
// starts at -MaxFloat32 and takes x when x > acc) or with + (acc starts
// at 0 and is divided by count at the end). The column sum (cvSumColsGo)
// adds acc[j] += float64(x[i*stride+j]) for i < rows in order.
func cvSelectArch() *cvArch { return cvGoArch(nnArchF32) }

// cvArches lists every convolution kernel set this build can run.
func cvArches() []*cvArch { return []*cvArch{cvArchF32} }
