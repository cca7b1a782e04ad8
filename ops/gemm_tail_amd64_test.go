//go:build linux

package ops

import (
	"fmt"
	"math/rand"
	"runtime/debug"
	"testing"
)

// TestGemmTailGuardPages runs products with a dot-product tail, and the
// dot kernels alone, on operands that each end at an inaccessible page:
// reading past A, B, packed B or bias (the masked loads of the last
// partial step included), or writing past C, faults.
func TestGemmTailGuardPages(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	for _, ar := range gtailArches(t) {
		if ar.name == "go" {
			continue // bounds-checked Go
		}
		for _, k := range []int{1, 2, 15, 16, 17, 31, 100} {
			for _, rows := range []int{1, 7, 9} {
				for cols := 1; cols <= 15; cols += 2 {
					name := fmt.Sprintf("%s/dot/k=%d/rows=%d/cols=%d", ar.name, k, rows, cols)
					t.Run(name, func(t *testing.T) {
						a, freeA := nnGuarded(t, rows*k)
						defer freeA()
						b, freeB := nnGuarded(t, cols*k)
						defer freeB()
						c, freeC := nnGuarded(t, rows*cols)
						defer freeC()
						bias, freeBias := nnGuarded(t, cols)
						defer freeBias()
						copy(a, nnRandF32(r, len(a)))
						copy(b, nnRandF32(r, len(b)))
						copy(bias, nnRandF32(r, cols))
						func() {
							defer func() {
								if e := recover(); e != nil {
									t.Fatalf("fault: %v", e)
								}
							}()
							ar.dot(k, a, k, b, k, c, cols, rows, cols, nnGemmBias|nnGemmRelu, bias)
						}()
						want := make([]float32, rows*cols)
						gtailGoDot(k, a, k, b, k, want, cols, rows, cols, nnGemmBias|nnGemmRelu, bias)
						nnSameBits(t, "guarded", c, want)
					})
				}
			}
		}
		for _, d := range [][3]int{{1, 3, 17}, {5, 20, 33}, {9, 100, 7}, {10, 100, 70}, {23, 47, 129}, {15, 9, 1}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
				for _, prepack := range []bool{false, true} {
					m, n, k := d[0], d[1], d[2]
					name := fmt.Sprintf("%s/gemm/m=%d/n=%d/k=%d/ta=%v/tb=%v/packed=%v", ar.name, m, n, k, tr[0], tr[1], prepack)
					t.Run(name, func(t *testing.T) {
						nnGuardedGemm(t, r, ar, m, n, k, tr, prepack, nnEpilogue[float32]{Act: nnActRelu6, DotTail: true},
							func(a []float32, lda int, b []float32, ldb int, ep nnEpilogue[float32]) []float32 {
								return gtailSeqGemm(ar.fused, n%16, m, n, k, a, lda, tr[0], b, ldb, tr[1], ep)
							})
					})
				}
			}
		}
	}
}
