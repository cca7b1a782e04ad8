//go:build linux

package ops

import (
	"fmt"
	"math"
	"math/rand"
	"runtime/debug"
	"testing"
)

// cvGuardedCopy returns v copied into memory that ends at an inaccessible
// page (nnGuarded).
func cvGuardedCopy(t *testing.T, v []float32) ([]float32, func()) {
	t.Helper()
	if len(v) == 0 {
		return nil, func() {}
	}
	g, free := nnGuarded(t, len(v))
	copy(g, v)
	return g, free
}

// cvNoFault runs fn and fails the test on a memory fault.
func cvNoFault(t *testing.T, fn func()) {
	t.Helper()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if e := recover(); e != nil {
			t.Fatalf("fault: %v", e)
		}
	}()
	fn()
}

// TestConvTileGuardPages runs the convolution tiles on operands of the
// least length their contract allows, each ending at an inaccessible
// page, and checks every stored element against the reference loop, one
// rounding per multiply-add.
func TestConvTileGuardPages(t *testing.T) {
	r := rand.New(rand.NewSource(61))
	for _, ar := range cvArches() {
		for trial := 0; trial < 80; trial++ {
			rows := 1 + r.Intn(ar.mr)
			cols := 1 + r.Intn(ar.nr)
			nseg := 1 + r.Intn(4)
			segLen := 1 + r.Intn(30)
			aRow := r.Intn(3 * segLen)
			offs := make([]int, nseg)
			for s := range offs {
				offs[s] = r.Intn(50)
			}
			maxOff := 0
			for _, o := range offs {
				maxOff = max(maxOff, o)
			}
			ldc := cols + r.Intn(5)
			bw := ar.nr
			if cols <= ar.nr/2 && ar.name != "go" {
				// The assembly tiles read only the half of B they use; the
				// portable one reads whole panels.
				bw = ar.nr / 2
			}
			flags := []int{0, nnGemmBias, nnGemmBias | nnGemmRelu, nnGemmBias | nnGemmRelu | nnGemmClip6, nnGemmRelu}[trial%5]
			name := fmt.Sprintf("%s/rows=%d/cols=%d/segs=%v/len=%d/aRow=%d/flags=%d", ar.name, rows, cols, offs, segLen, aRow, flags)
			t.Run(name, func(t *testing.T) {
				a, freeA := cvGuardedCopy(t, nnRandF32(r, maxOff+(ar.mr-1)*aRow+segLen))
				defer freeA()
				b, freeB := cvGuardedCopy(t, nnRandF32(r, (nseg*segLen-1)*ar.nr+bw))
				defer freeB()
				bias, freeBias := cvGuardedCopy(t, nnRandF32(r, cols))
				defer freeBias()
				c, freeC := nnGuarded(t, (rows-1)*ldc+cols)
				defer freeC()
				for i := range c {
					c[i] = float32(math.NaN())
				}
				cvNoFault(t, func() { ar.convTile(a, aRow, offs, segLen, b, c, ldc, rows, cols, flags, bias) })
				for i := 0; i < rows; i++ {
					for j := 0; j < ldc && i*ldc+j < len(c); j++ {
						got := c[i*ldc+j]
						if j >= cols {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("c[%d,%d] outside the tile was written: %v", i, j, got)
							}
							continue
						}
						var acc float32
						p := 0
						for _, off := range offs {
							for q := 0; q < segLen; q++ {
								acc = cvFMA(ar, acc, a[off+i*aRow+q], b[p*ar.nr+j])
								p++
							}
						}
						want := nnEpilogueOne(acc, j, flags, bias)
						if math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("c[%d,%d] = %v, want %v", i, j, got, want)
						}
					}
				}
			})
		}
	}
}

// TestDwPoolGuardPages runs the depthwise, pooling and column-sum kernels
// on operands of the least length their contracts allow, ending at an
// inaccessible page, and checks the results exactly.
func TestDwPoolGuardPages(t *testing.T) {
	r := rand.New(rand.NewSource(62))
	for _, ar := range cvArches() {
		for trial := 0; trial < 60; trial++ {
			chans := []int{1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130}[trial%16]
			npix := 1 + r.Intn(5)
			nkh, nkw := 1+r.Intn(3), 1+r.Intn(3)
			xCol := chans + r.Intn(3)
			xRow := nkw*xCol + r.Intn(5)
			xPix := r.Intn(2 * xCol)
			fCol := chans + r.Intn(2)
			fRow := nkw*fCol + r.Intn(3)
			outPix := chans + r.Intn(3)
			flags := []int{0, nnGemmBias, nnGemmBias | nnGemmRelu, nnGemmBias | nnGemmRelu | nnGemmClip6}[trial%4]
			name := fmt.Sprintf("%s/chans=%d/npix=%d/taps=%dx%d/flags=%d", ar.name, chans, npix, nkh, nkw, flags)
			t.Run(name, func(t *testing.T) {
				xLen := (npix-1)*xPix + (nkh-1)*xRow + (nkw-1)*xCol + chans
				x, freeX := cvGuardedCopy(t, nnRandF32(r, xLen))
				defer freeX()
				f, freeF := cvGuardedCopy(t, nnRandF32(r, (nkh-1)*fRow+(nkw-1)*fCol+chans))
				defer freeF()
				bias, freeBias := cvGuardedCopy(t, nnRandF32(r, chans))
				defer freeBias()
				out, freeOut := nnGuarded(t, (npix-1)*outPix+chans)
				defer freeOut()
				cvNoFault(t, func() {
					ar.dw(x, xPix, xRow, xCol, nkh, nkw, f, fRow, fCol, out, outPix, npix, chans, flags, bias)
				})
				for p := 0; p < npix; p++ {
					for c := 0; c < chans; c++ {
						var acc float32
						for i := 0; i < nkh; i++ {
							for j := 0; j < nkw; j++ {
								acc = cvFMA(ar, acc, x[p*xPix+i*xRow+j*xCol+c], f[i*fRow+j*fCol+c])
							}
						}
						want := nnEpilogueOne(acc, c, flags, bias)
						if got := out[p*outPix+c]; math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("depthwise pixel %d channel %d = %v, want %v", p, c, got, want)
						}
					}
				}
				for _, avg := range []bool{false, true} {
					cvNoFault(t, func() {
						ar.pool(x, xPix, xRow, xCol, nkh, nkw, out, outPix, npix, chans, avg, float32(nkh*nkw))
					})
					for p := 0; p < npix; p++ {
						for c := 0; c < chans; c++ {
							acc := float32(-math.MaxFloat32)
							if avg {
								acc = 0
							}
							for i := 0; i < nkh; i++ {
								for j := 0; j < nkw; j++ {
									v := x[p*xPix+i*xRow+j*xCol+c]
									if avg {
										acc += v
									} else if v > acc {
										acc = v
									}
								}
							}
							if avg {
								acc /= float32(nkh * nkw)
							}
							if got := out[p*outPix+c]; math.Float32bits(got) != math.Float32bits(acc) {
								t.Fatalf("pool avg=%v pixel %d channel %d = %v, want %v", avg, p, c, got, acc)
							}
						}
					}
				}
				rows := npix
				sx, freeSX := cvGuardedCopy(t, nnRandF32(r, (rows-1)*outPix+chans))
				defer freeSX()
				acc := make([]float64, chans)
				cvNoFault(t, func() { ar.sumCols(acc, sx, rows, outPix, chans) })
				for j := range acc {
					var want float64
					for i := 0; i < rows; i++ {
						want += float64(sx[i*outPix+j])
					}
					if acc[j] != want {
						t.Fatalf("column sum %d = %v, want %v", j, acc[j], want)
					}
				}
			})
		}
	}
}
