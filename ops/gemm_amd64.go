//go:build amd64 && !noasm

package ops

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// Float32 GEMM kernels in assembly (gemm_amd64.s). Both sets fuse the
// multiply-add (VFMADD231PS) and give identical results; they differ in
// their tile, which sets the layout of packed B.
//
//   - AVX-512 (AVX512F and AVX512VL): a 14×32 tile, 28 zmm accumulators;
//     narrow edge tiles use one zmm (≤ 16 columns) or one ymm (≤ 8) per
//     row, and column edges use mask registers.
//   - AVX2 with FMA: a 6×16 tile, 12 ymm accumulators; column edges use
//     VMASKMOVPS.
//
// Rows past the edge are computed from padding and not stored.

// gemmTileAVX512 is the tile kernel of nnGemmArch (14×32) with pointers
// for slices and sizes in elements; a nil bias is allowed without
// nnGemmBias.
//
//go:noescape
func gemmTileAVX512(kc int, a *float32, aRow, aStep int, b, c *float32, ldc, rows, cols, flags int, bias *float32)

// gemmRowAVX512 is the row kernel of nnGemmArch (panels of 32).
//
//go:noescape
func gemmRowAVX512(kc int, a *float32, aStep int, b *float32, bRow, bPanel, np int, c *float32, cols, flags int, bias *float32)

// gemmTileAVX2 is the tile kernel of nnGemmArch (6×16).
//
//go:noescape
func gemmTileAVX2(kc int, a *float32, aRow, aStep int, b, c *float32, ldc, rows, cols, flags int, bias *float32)

// gemmRowAVX2 is the row kernel of nnGemmArch (panels of 16).
//
//go:noescape
func gemmRowAVX2(kc int, a *float32, aStep int, b *float32, bRow, bPanel, np int, c *float32, cols, flags int, bias *float32)

var (
	nnArchAVX512 = gtailWith(nnAsmArch("avx512", 14, 32, 9, gemmTileAVX512, gemmRowAVX512), gtailDotAVX512)
	nnArchAVX2   = gtailWith(nnAsmArch("avx2", 6, 16, 4, gemmTileAVX2, gemmRowAVX2), gtailDotAVX2)
)

func nnHasAVX512() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL }
func nnHasAVX2() bool   { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// nnSelectArchF32 returns the float32 kernel set for this CPU: AVX-512,
// else AVX2 with FMA, else the portable one.
func nnSelectArchF32() *nnGemmArch[float32] {
	switch {
	case nnHasAVX512():
		return nnArchAVX512
	case nnHasAVX2():
		return nnArchAVX2
	}
	return nnGoArch[float32]()
}

// nnArchesF32 lists every float32 kernel set this CPU can run, for tests
// and benchmarks.
func nnArchesF32() []*nnGemmArch[float32] {
	var all []*nnGemmArch[float32]
	if nnHasAVX512() {
		all = append(all, nnArchAVX512)
	}
	if nnHasAVX2() {
		all = append(all, nnArchAVX2)
	}
	return append(all, nnGoArch[float32]())
}

// nnAsmArch wraps a pair of assembly kernels with an mr×nr tile; up to
// rowMax rows go to the row kernel (measured: below that many rows, a
// partly empty tile is slower than streaming B once per row). The
// wrappers check that every access stays inside the slices, since the
// assembly cannot.
func nnAsmArch(name string, mr, nr, rowMax int,
	tile func(kc int, a *float32, aRow, aStep int, b, c *float32, ldc, rows, cols, flags int, bias *float32),
	row func(kc int, a *float32, aStep int, b *float32, bRow, bPanel, np int, c *float32, cols, flags int, bias *float32),
) *nnGemmArch[float32] {
	return &nnGemmArch[float32]{
		name: name, mr: mr, nr: nr, rowMax: rowMax, fused: true, direct: true,
		tile: func(kc int, a []float32, aRow, aStep int, b, c []float32, ldc, rows, cols, flags int, bias []float32) {
			bw := nr
			if cols <= nr/2 {
				bw = nr / 2
			}
			if kc < 1 || rows < 1 || rows > mr || cols < 1 || cols > nr || aRow < 0 || aStep < 0 ||
				(mr-1)*aRow+(kc-1)*aStep >= len(a) || (kc-1)*nr+bw > len(b) ||
				(rows-1)*ldc+cols > len(c) || (flags&nnGemmBias != 0 && cols > len(bias)) {
				panic(fmt.Sprintf("ops: gemm %s tile out of bounds: kc=%d rows=%d cols=%d aRow=%d aStep=%d ldc=%d len(a)=%d len(b)=%d len(c)=%d len(bias)=%d",
					name, kc, rows, cols, aRow, aStep, ldc, len(a), len(b), len(c), len(bias)))
			}
			tile(kc, &a[0], aRow, aStep, &b[0], &c[0], ldc, rows, cols, flags, nnBiasPtr(flags, bias))
		},
		row: func(kc int, a []float32, aStep int, b []float32, bRow, bPanel, np int, c []float32, cols, flags int, bias []float32) {
			if kc < 1 || np < 1 || np > nnRowPanels || cols < 1 || cols > nr || aStep < 0 || bRow < 0 || bPanel < 0 ||
				(kc-1)*aStep >= len(a) || (np-1)*bPanel+(kc-1)*bRow+nr > len(b) ||
				(np-1)*nr+cols > len(c) || (flags&nnGemmBias != 0 && (np-1)*nr+cols > len(bias)) {
				panic(fmt.Sprintf("ops: gemm %s row out of bounds: kc=%d np=%d cols=%d aStep=%d bRow=%d bPanel=%d len(a)=%d len(b)=%d len(c)=%d len(bias)=%d",
					name, kc, np, cols, aStep, bRow, bPanel, len(a), len(b), len(c), len(bias)))
			}
			row(kc, &a[0], aStep, &b[0], bRow, bPanel, np, &c[0], cols, flags, nnBiasPtr(flags, bias))
		},
	}
}

func nnBiasPtr(flags int, bias []float32) *float32 {
	if flags&nnGemmBias == 0 {
		return nil
	}
	return &bias[0]
}
