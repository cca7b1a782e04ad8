package ops

import "math"

// Fused multiply-adds in portable Go: the tile and row kernels of the
// portable float32 GEMM (nnGoArch[float32]; the loops of nnGoTile and
// nnGoRow) here, and the portable convolution tile and depthwise kernel
// (cvConvTileGo, cvDwGo) in conv_arch.go. Each multiply-add rounds once,
// as VFMADD231PS does, so that these loops give the bits of the AVX-512
// and AVX2 kernels (same order of summation, same rounding) on every
// architecture and with -tags noasm.
//
// The product of two float32s is exact in float64, so a·b + c rounded to
// float64 and then to float32 differs from a·b + c rounded once only when
// the float64 sum is exactly halfway between two float32s (vmathTwice);
// those sums, about one in 2^29, take vmathFMA.

// vmathTwiceBits is the bit pattern of 2^-126, the smallest normal
// float32, shifted left once (without the sign bit).
const vmathTwiceBits = 0x3810000000000000 << 1

// vmathTwice reports whether float32(s) may differ from the exact sum s
// approximates rounded once: s is halfway between two normal float32s
// (bit 28 of the float64 fraction set, bits 0 to 27 clear), or s is not
// zero and below the float32 normal range, where the halfway points lie
// elsewhere.
func vmathTwice(s float64) bool {
	u := math.Float64bits(s)
	return u&(1<<29-1) == 1<<28 || u<<1-1 < vmathTwiceBits-1
}

// vmathGoTile is the tile kernel of the portable float32 GEMM: nnGoTile
// with fused multiply-adds.
func vmathGoTile(kc int, a []float32, aRow, aStep int, b, c []float32, ldc, rows, cols, flags int, bias []float32) {
	if aRow != 1 || aStep != nnGoMR {
		panic("ops: portable gemm tile needs packed A")
	}
	var acc [nnGoMR * nnGoNR]float32
	if flags&nnGemmAccum != 0 {
		for i := 0; i < rows; i++ {
			copy(acc[i*nnGoNR:i*nnGoNR+cols], c[i*ldc:i*ldc+cols])
		}
	}
	vmathGoTile4x2(kc, a, b, 0, acc[:])
	vmathGoTile4x2(kc, a, b, 2, acc[2:])
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+cols]
		for j := range row {
			row[j] = nnEpilogueOne(acc[i*nnGoNR+j], j, flags, bias)
		}
	}
}

// vmathGoTile4x2 adds the products of columns j0 and j0+1 into the 4×4
// tile acc (row stride nnGoNR), as nnGoTile4x2 does, each multiply-add
// rounded once: the eight sums of a step are formed in float64, and the
// step is redone with vmathFMA when one of them needs it.
func vmathGoTile4x2(kc int, ap, bp []float32, j0 int, acc []float32) {
	r0 := acc[:2]
	r1 := acc[nnGoNR : nnGoNR+2]
	r2 := acc[2*nnGoNR : 2*nnGoNR+2]
	r3 := acc[3*nnGoNR : 3*nnGoNR+2]
	c00, c01 := r0[0], r0[1]
	c10, c11 := r1[0], r1[1]
	c20, c21 := r2[0], r2[1]
	c30, c31 := r3[0], r3[1]
	ap = ap[:kc*nnGoMR]
	bp = bp[:kc*nnGoNR]
	for p := 0; p < kc; p++ {
		a := ap[p*nnGoMR : p*nnGoMR+nnGoMR : p*nnGoMR+nnGoMR]
		b := bp[p*nnGoNR+j0 : p*nnGoNR+j0+2 : p*nnGoNR+j0+2]
		b0, b1 := float64(b[0]), float64(b[1])
		a0, a1, a2, a3 := float64(a[0]), float64(a[1]), float64(a[2]), float64(a[3])
		s00 := a0*b0 + float64(c00)
		s01 := a0*b1 + float64(c01)
		s10 := a1*b0 + float64(c10)
		s11 := a1*b1 + float64(c11)
		s20 := a2*b0 + float64(c20)
		s21 := a2*b1 + float64(c21)
		s30 := a3*b0 + float64(c30)
		s31 := a3*b1 + float64(c31)
		if vmathTwice(s00) || vmathTwice(s01) || vmathTwice(s10) || vmathTwice(s11) ||
			vmathTwice(s20) || vmathTwice(s21) || vmathTwice(s30) || vmathTwice(s31) {
			c00 = vmathFMA(a[0], b[0], c00)
			c01 = vmathFMA(a[0], b[1], c01)
			c10 = vmathFMA(a[1], b[0], c10)
			c11 = vmathFMA(a[1], b[1], c11)
			c20 = vmathFMA(a[2], b[0], c20)
			c21 = vmathFMA(a[2], b[1], c21)
			c30 = vmathFMA(a[3], b[0], c30)
			c31 = vmathFMA(a[3], b[1], c31)
			continue
		}
		c00, c01, c10, c11 = float32(s00), float32(s01), float32(s10), float32(s11)
		c20, c21, c30, c31 = float32(s20), float32(s21), float32(s30), float32(s31)
	}
	r0[0], r0[1] = c00, c01
	r1[0], r1[1] = c10, c11
	r2[0], r2[1] = c20, c21
	r3[0], r3[1] = c30, c31
}

// vmathGoRow is the row kernel of the portable float32 GEMM: nnGoRow
// with fused multiply-adds.
func vmathGoRow(kc int, a []float32, aStep int, b []float32, bRow, bPanel, np int, c []float32, cols, flags int, bias []float32) {
	for t := 0; t < np; t++ {
		w := nnGoNR
		if t == np-1 {
			w = cols
		}
		cc := c[t*nnGoNR : t*nnGoNR+w]
		var acc [nnGoNR]float32
		if flags&nnGemmAccum != 0 {
			copy(acc[:], cc)
		}
		c0, c1, c2, c3 := acc[0], acc[1], acc[2], acc[3]
		bp := b[t*bPanel:]
		a := a[:(kc-1)*aStep+1]
		for p := 0; p < kc; p++ {
			av := a[p*aStep]
			r := bp[p*bRow : p*bRow+nnGoNR : p*bRow+nnGoNR]
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
		acc = [nnGoNR]float32{c0, c1, c2, c3}
		for j := range cc {
			cc[j] = nnEpilogueOne(acc[j], t*nnGoNR+j, flags, bias)
		}
	}
}
