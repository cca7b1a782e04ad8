//go:build linux

package ops

import (
	"fmt"
	"math/rand"
	"os"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"
)

func init() {
	nnCPUSeconds = func() float64 {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
			return 0
		}
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
}

// nnGuarded returns n float32s that end exactly where an inaccessible page
// begins, so that the assembly kernels fault on any read or write past the
// end, and a function that unmaps them.
func nnGuarded(t *testing.T, n int) ([]float32, func()) {
	t.Helper()
	page := os.Getpagesize()
	size := (n*4 + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	if err := syscall.Mprotect(mem[size:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	data := unsafe.Slice((*float32)(unsafe.Pointer(&mem[size-n*4])), n)
	return data, func() { syscall.Munmap(mem) }
}

// nnGuardedGemm runs one m×n×k product (A transposed if tr[0], B if
// tr[1], B packed ahead of time if prepack) with ep and a random bias, on
// operands that each end at an inaccessible page, and checks it against
// want's product of the same operands. A read or write past any of them
// faults, and the fault fails the test.
func nnGuardedGemm(t *testing.T, r *rand.Rand, ar *nnGemmArch[float32], m, n, k int, tr [2]bool, prepack bool, ep nnEpilogue[float32],
	want func(a []float32, lda int, b []float32, ldb int, ep nnEpilogue[float32]) []float32) {
	t.Helper()
	lda, ldb := k, n
	if tr[0] {
		lda = m
	}
	if tr[1] {
		ldb = k
	}
	a, freeA := nnGuarded(t, m*k)
	defer freeA()
	b, freeB := nnGuarded(t, k*n)
	defer freeB()
	c, freeC := nnGuarded(t, m*n)
	defer freeC()
	bias, freeBias := nnGuarded(t, n)
	defer freeBias()
	copy(a, nnRandF32(r, len(a)))
	copy(b, nnRandF32(r, len(b)))
	copy(bias, nnRandF32(r, n))
	ep.Bias = bias
	var pb []float32
	bb := b
	if prepack {
		var freePB func()
		pb, freePB = nnGuarded(t, k*nnPadN(n, ar.nr)+k*gtailWidth(ar, n))
		defer freePB()
		nnPackBWith(ar, &Ctx{}, k, n, b, ldb, tr[1], pb)
		bb = nil
	}
	func() {
		defer func() {
			if e := recover(); e != nil {
				t.Fatalf("fault: %v", e)
			}
		}()
		nnGemmWith(ar, &Ctx{}, m, n, k, a, lda, tr[0], bb, ldb, tr[1], pb, c, n, ep)
	}()
	nnSameBits(t, "guarded", c, want(a, lda, b, ldb, ep))
}

// TestGemmAsmGuardPages runs the assembly kernels on operands that each
// end at an inaccessible page: reading past A, B, packed B or bias, or
// writing past C, faults.
func TestGemmAsmGuardPages(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var shapes [][3]int
	for _, m := range []int{1, 2, 5, 6, 7, 9, 10, 13, 14, 15, 23} {
		for _, n := range []int{1, 7, 8, 9, 16, 17, 31, 33, 100} {
			shapes = append(shapes, [3]int{m, n, 1 + r.Intn(500)})
		}
	}
	for _, ar := range nnArchesF32() {
		if !ar.fused {
			continue
		}
		for _, d := range shapes {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
				for _, prepack := range []bool{false, true} {
					m, n, k := d[0], d[1], d[2]
					name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/ta=%v/tb=%v/packed=%v", ar.name, m, n, k, tr[0], tr[1], prepack)
					t.Run(name, func(t *testing.T) {
						nnGuardedGemm(t, r, ar, m, n, k, tr, prepack, nnEpilogue[float32]{Act: nnActRelu6},
							func(a []float32, lda int, b []float32, ldb int, ep nnEpilogue[float32]) []float32 {
								return nnSeqGemmF32(true, m, n, k, a, lda, tr[0], b, ldb, tr[1], ep)
							})
					})
				}
			}
		}
	}
}
