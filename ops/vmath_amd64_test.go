//go:build linux

package ops

import (
	"math/rand/v2"
	"runtime/debug"
	"testing"
)

// TestVmathGuardPages runs every kernel on slices that end where an
// inaccessible page begins (nnGuarded): a read or write past the end of
// an input or the output faults.
func TestVmathGuardPages(t *testing.T) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	r := rand.New(rand.NewPCG(15, 16))
	for _, im := range vmathImpls() {
		for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100} {
			s, freeS := nnGuarded(t, n)
			d, freeD := nnGuarded(t, n)
			b, freeB := nnGuarded(t, n)
			copy(s, vmathInputs(r, n))
			copy(b, vmathInputs(r, n))
			for _, kc := range vmathKernelCases {
				kc.run(im, d, s)
			}
			im.softmaxRows(d, s, 1)
			im.softmaxRows(d, s, n)
			for op := 0; op < vmathBinOps; op++ {
				for _, bc := range vmathBinCases {
					bc.run(im.bin[op], d, s, b)
				}
			}
			freeS()
			freeD()
			freeB()
		}
	}
}
