package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vmathFMATriples returns (a, b, c) triples for the fused kernels: sums
// whose float64 rounding lands halfway between two float32s (where
// rounding twice differs from rounding once), sums below the float32
// normal range, exact sums, overflows, NaN and infinities, and random
// ones.
func vmathFMATriples() [][3]float32 {
	var ts [][3]float32
	// a·b = 2^-24·(1 - j²·2^-46): c + a·b rounds to c + 2^-24 in float64,
	// halfway between c and the next float32 when ulp(c) = 2^-23.
	for j := 1; j <= 40; j++ {
		a := float32(math.Ldexp(1+float64(j)*0x1p-23, -24))
		b := float32(1 - float64(j)*0x1p-23)
		for _, c := range []float32{1 + 0x1p-23, 1, -1 - 0x1p-23, 1.5} {
			ts = append(ts, [3]float32{a, b, c}, [3]float32{-a, b, -c})
		}
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	ts = append(ts,
		[3]float32{0x1p-100, 0x1p-40, 0x1p-149}, [3]float32{0x1p-75, 0x1p-75, -0x1p-149},
		[3]float32{0x1p-70, 0x1p-70, 0x1p-130}, [3]float32{3, 0x1p-140, -0x1p-138},
		[3]float32{math.MaxFloat32, 2, -math.MaxFloat32}, [3]float32{math.MaxFloat32, 1.5, 0},
		[3]float32{0, 5, 0}, [3]float32{0, 5, 1.25}, [3]float32{2, 3, 4},
		[3]float32{inf, 0, 1}, [3]float32{inf, 1, -inf}, [3]float32{nan, 1, 1}, [3]float32{1, 1, inf},
	)
	r := rand.New(rand.NewPCG(23, 24))
	for i := 0; i < 2000; i++ {
		ts = append(ts, [3]float32{float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64() * 4)})
	}
	return ts
}

// TestVmathFMAKernels runs the fused portable kernels (the GEMM tile and
// row kernels, the convolution tile, the depthwise kernel) one step deep
// on vmathFMATriples and compares each result with vmathFMA (itself
// checked against exact arithmetic by TestVmathFMA).
func TestVmathFMAKernels(t *testing.T) {
	for _, tr := range vmathFMATriples() {
		a, b, c := tr[0], tr[1], tr[2]
		want := vmathFMA(a, b, c)
		// Tile: a packed 4×1 panel of A, a 1×4 panel of B, C accumulated.
		for i := 0; i < nnGoMR; i++ {
			ap := make([]float32, nnGoMR)
			ap[i] = a
			bp := []float32{b, b, b, b}
			cc := make([]float32, nnGoMR*nnGoNR)
			for k := range cc {
				cc[k] = c
			}
			vmathGoTile(1, ap, 1, nnGoMR, bp, cc, nnGoNR, nnGoMR, nnGoNR, nnGemmAccum, nil)
			for j := 0; j < nnGoNR; j++ {
				if !vmathSame(cc[i*nnGoNR+j], want) {
					t.Fatalf("tile row %d: %g·%g + %g = %g, want %g", i, a, b, c, cc[i*nnGoNR+j], want)
				}
			}
		}
		// Row kernel: one panel, C accumulated.
		row := []float32{c, c, c, c}
		vmathGoRow(1, []float32{a}, 1, []float32{b, b, b, b}, nnGoNR, nnGoNR, 1, row, nnGoNR, nnGemmAccum, nil)
		for j, g := range row {
			if !vmathSame(g, want) {
				t.Fatalf("row [%d]: %g·%g + %g = %g, want %g", j, a, b, c, g, want)
			}
		}
		// Convolution tile and depthwise kernel: c enters as a first product
		// c·1, which is exact.
		ct := make([]float32, 4)
		cvConvTileGo(4, []float32{c, a}, 2, []int{0}, 2, []float32{1, 1, 1, 1, b, b, b, b}, ct, 4, 1, 4, 0, nil)
		dw := make([]float32, 3)
		cvDwGo([]float32{c, c, c, a, a, a}, 0, 3, 0, 2, 1, []float32{1, 1, 1, b, b, b}, 3, 0, dw, 3, 1, 3, 0, nil)
		for j, g := range append(ct, dw...) {
			if !vmathSame(g, want) {
				t.Fatalf("conv/depthwise [%d]: %g·%g + %g = %g, want %g", j, a, b, c, g, want)
			}
		}
	}
}

// TestVmathTwice checks vmathTwice against its definition on float64
// sums of every kind: it must flag each sum whose rounding to float32
// lands on a tie between two float32s and may flag only those and sums
// below the normal range.
func TestVmathTwice(t *testing.T) {
	cases := []struct {
		s    float64
		want bool
	}{
		{1 + 0x1p-24, true},            // halfway between 1 and 1+2^-23
		{1 + 0x1p-24 + 0x1p-52, false}, // just above it
		{1 + 0x1p-23, false},           // a float32
		{-(3 + 0x1p-23), true},         // halfway between 3 and 3+2^-22
		{0x1p-126 * (1 + 0x1p-24), true},
		{0x1p-127, true}, // below the normal range
		{0x1p-149, true},
		{0, false},
		{math.Copysign(0, -1), false},
		{math.Inf(1), false},
		{math.NaN(), false},
		{math.MaxFloat32, false},
		{math.Ldexp(2-0x1p-24, 127), true}, // halfway between MaxFloat32 and 2^128
	}
	for _, c := range cases {
		if got := vmathTwice(c.s); got != c.want {
			t.Errorf("vmathTwice(%g) = %v, want %v", c.s, got, c.want)
		}
	}
}
