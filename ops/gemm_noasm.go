//go:build !amd64 || noasm

package ops

// nnSelectArchF32 returns the float32 kernel set of builds without
// assembly: the portable one (nnGoArch). Its tile kernel (vmathGoTile) is
// the reference loop that the assembly tiles of gemm_amd64.s implement,
// each multiply-add rounded once (fma), here as there:
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < cols; j++ {
//			var acc float32
//			if flags&nnGemmAccum != 0 {
//				acc = c[i*ldc+j]
//			}
//			for p := 0; p < kc; p++ {
//				acc = fma(a[i*aRow+p*aStep], b[p*nr+j], acc)
//			}
//			if flags&nnGemmBias != 0 {
//				acc += bias[j]
//			}
//			if flags&nnGemmRelu != 0 && acc < 0 {
//				acc = 0
//			}
//			if flags&nnGemmClip6 != 0 && acc > 6 {
//				acc = 6
//			}
//			c[i*ldc+j] = acc
//		}
//	}
func nnSelectArchF32() *nnGemmArch[float32] { return nnGoArch[float32]() }

// nnArchesF32 lists every float32 kernel set this build can run.
func nnArchesF32() []*nnGemmArch[float32] { return []*nnGemmArch[float32]{nnArchF32} }
