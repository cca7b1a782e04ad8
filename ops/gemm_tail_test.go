package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// gtailSeqGemm is C = act(op(A)·op(B) + bias) in the order the GEMM
// promises with nnEpilogue.DotTail: the first n - tail columns as one
// chain of multiply-adds over p (fused or not), the last tail columns
// as sixteen fused chains, lane l over p ≡ l (mod 16), added pairwise
// (lane l + lane l+w for w = 8, 4, 2, 1). Written from the contract in
// gemm_tail.go, independently of the kernels.
func gtailSeqGemm(fused bool, tail, m, n, k int, a []float32, lda int, transA bool, b []float32, ldb int, transB bool, ep nnEpilogue[float32]) []float32 {
	c := nnSeqGemmF32(fused, m, n, k, a, lda, transA, b, ldb, transB, ep)
	for i := 0; i < m; i++ {
		for j := n - tail; j < n; j++ {
			ai, bj := make([]float32, k), make([]float32, k)
			for p := range k {
				ai[p], bj[p] = nnGemmAt(a, lda, transA, i, p), nnGemmAt(b, ldb, transB, p, j)
			}
			acc := gtailRefDot(ai, bj, k)
			if ep.Bias != nil {
				acc += ep.Bias[j]
			}
			if ep.Act != nnActNone && acc < 0 {
				acc = 0
			}
			if ep.Act == nnActRelu6 && acc > 6 {
				acc = 6
			}
			c[i*n+j] = acc
		}
	}
	return c
}

// gtailArches returns the float32 kernel sets with a dot kernel.
func gtailArches(t *testing.T) []*nnGemmArch[float32] {
	var out []*nnGemmArch[float32]
	for _, ar := range nnArchesF32() {
		if ar.dot != nil {
			out = append(out, ar)
		}
	}
	if len(out) == 0 {
		t.Skip("no float32 kernel set with a dot kernel")
	}
	return out
}

func TestGemmTailWidth(t *testing.T) {
	for _, ar := range gtailArches(t) {
		for _, tc := range []struct{ n, want int }{
			{n: 1, want: 1}, {n: 15, want: 15}, {n: 16, want: 0}, {n: 17, want: 1},
			{n: 32, want: 0}, {n: 100, want: 4}, {n: 1000, want: 8},
		} {
			if got := gtailWidth(ar, tc.n); got != tc.want {
				t.Errorf("%s: gtailWidth(%d) = %d, want %d", ar.name, tc.n, got, tc.want)
			}
		}
	}
	if got := gtailWidth(nnArchF64, 100); got != 0 {
		t.Errorf("float64 set: gtailWidth(100) = %d, want 0 (no dot kernel)", got)
	}
}

// gtailRefDot is one tail element in the order of the contract: sixteen
// fused chains, lane l over p ≡ l (mod 16), added pairwise.
func gtailRefDot(a, b []float32, k int) float32 {
	var lanes [16]float32
	for p := 0; p < k; p++ {
		lanes[p%16] = nnFMA32(a[p], b[p], lanes[p%16])
	}
	for w := 8; w > 0; w /= 2 {
		for l := 0; l < w; l++ {
			lanes[l] = lanes[l] + lanes[l+w]
		}
	}
	return lanes[0]
}

// TestGemmTailDotKernels checks the dot kernels alone, bit for bit, on
// every block shape of the assembly (1 to 17 rows, 1 to 15 columns),
// with k around multiples of 16, strides past the rows and every
// epilogue.
func TestGemmTailDotKernels(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	for _, ar := range gtailArches(t) {
		for _, k := range []int{1, 5, 15, 16, 17, 32, 33, 100} {
			for rows := 1; rows <= 17; rows++ {
				for cols := 1; cols <= 15; cols++ {
					for _, flags := range []int{0, nnGemmBias, nnGemmBias | nnGemmRelu, nnGemmRelu | nnGemmClip6} {
						lda, ldb, ldc := k+3, k+1, cols+2
						a := nnRandF32(r, (rows-1)*lda+k)
						b := nnRandF32(r, (cols-1)*ldb+k)
						for i := range a {
							a[i] *= 3
						}
						bias := nnRandF32(r, cols)
						c := make([]float32, (rows-1)*ldc+cols)
						ar.dot(k, a, lda, b, ldb, c, ldc, rows, cols, flags, bias)
						for i := 0; i < rows; i++ {
							for j := 0; j < cols; j++ {
								want := gtailRefDot(a[i*lda:], b[j*ldb:], k)
								if flags&nnGemmBias != 0 {
									want += bias[j]
								}
								if flags&nnGemmRelu != 0 && want < 0 {
									want = 0
								}
								if flags&nnGemmClip6 != 0 && want > 6 {
									want = 6
								}
								if got := c[i*ldc+j]; math.Float32bits(got) != math.Float32bits(want) {
									t.Fatalf("%s k=%d rows=%d cols=%d flags=%d: element (%d, %d) is %g, want %g", ar.name, k, rows, cols, flags, i, j, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestGemmTail checks products whose last n mod 16 columns are dot
// products against the float64 reference (within the rounding of k
// float32 additions) and, bit for bit, against the order of the
// contract, for every kernel set, serial and split between workers,
// with B packed ahead of time or not.
func TestGemmTail(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	type dims struct{ m, n, k int }
	cases := []dims{
		// n mod 16 from 1 to 15, with and without whole panels before.
		{1, 1, 1}, {1, 2, 16}, {3, 3, 17}, {5, 4, 31}, {9, 5, 33}, {10, 6, 64},
		{14, 7, 65}, {15, 8, 100}, {16, 9, 15}, {28, 10, 1}, {29, 11, 7},
		{2, 12, 784}, {40, 13, 200}, {7, 14, 9}, {20, 15, 48},
		{1, 17, 20}, {13, 20, 47}, {30, 33, 129}, {23, 36, 5}, {6, 47, 250},
		{1, 100, 784}, {10, 100, 784}, {130, 100, 300}, {17, 116, 33},
		// K blocks: k > nnKC.
		{15, 45, 800}, {2, 3, 800},
		// Whole panels only: no tail.
		{20, 32, 40}, {3, 16, 10},
		// Empty.
		{0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {1, 3, 0}, {0, 0, 0},
	}
	for i := 0; i < 6; i++ {
		cases = append(cases, dims{1 + r.Intn(60), 1 + r.Intn(70), 1 + r.Intn(500)})
	}
	for _, ar := range gtailArches(t) {
		for _, d := range cases {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				l := nnNewLayout(d.m, d.n, d.k, tr[0], tr[1])
				name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/ta=%v/tb=%v", ar.name, d.m, d.n, d.k, l.transA, l.transB)
				t.Run(name, func(t *testing.T) {
					na, nb := l.sizes()
					a, b := nnRandF32(r, na), nnRandF32(r, nb)
					ep := nnEpilogue[float32]{DotTail: true}
					ref, scale := nnRefMatMul(d.m, d.n, d.k, nnF64s(a), l.lda, l.transA, nnF64s(b), l.ldb, l.transB)
					want := gtailSeqGemm(ar.fused, d.n%16, d.m, d.n, d.k, a, l.lda, l.transA, b, l.ldb, l.transB, ep)
					got := nnRunGemm(t, ar, &Ctx{}, l, a, b, false, ep)
					for i := range got {
						tol := float64(d.k+2)*6e-8*scale[i] + 1e-30
						if math.Abs(float64(got[i])-ref[i]) > tol {
							t.Fatalf("element %d: got %g, reference %g (tol %g)", i, got[i], ref[i], tol)
						}
					}
					nnSameBits(t, "order of the contract", got, want)
					nnSameBits(t, "parallel", nnRunGemm(t, ar, nnParCtx(), l, a, b, false, ep), want)
					nnSameBits(t, "packed B", nnRunGemm(t, ar, nnParCtx(), l, a, b, true, ep), want)
				})
			}
		}
	}
}

// TestGemmTailEpilogue checks bias, Relu and Relu6 on the tail columns,
// with NaN, infinities, values above 6 and negative zeros.
func TestGemmTailEpilogue(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, ar := range gtailArches(t) {
		for _, d := range [][3]int{{1, 5, 3}, {3, 100, 40}, {20, 33, 300}, {15, 47, 9}, {4, 7, 0}, {16, 130, 1}, {9, 13, 16}} {
			m, n, k := d[0], d[1], d[2]
			for _, act := range []nnAct{nnActNone, nnActRelu, nnActRelu6} {
				for _, withBias := range []bool{false, true} {
					name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/act=%d/bias=%v", ar.name, m, n, k, act, withBias)
					t.Run(name, func(t *testing.T) {
						l := nnNewLayout(m, n, k, false, false)
						na, nb := l.sizes()
						a, b := nnRandF32(r, na), nnRandF32(r, nb)
						for i := range a {
							a[i] *= 4 // plenty of values above 6
						}
						if k > 0 {
							a[0] = nan // row 0 is NaN throughout
							a[min(1, m-1)*l.lda] = inf
							if m > 2 {
								// Row 2 is all zeros, some negative: its sums are +0.
								for p := 0; p < k; p++ {
									a[2*l.lda+p] = float32(math.Copysign(0, float64(1-2*(p%2))))
								}
							}
						}
						ep := nnEpilogue[float32]{Act: act, DotTail: true}
						if withBias {
							ep.Bias = nnRandF32(r, n)
							ep.Bias[n-1] = nan
							ep.Bias[0] = -inf
							if n > 2 {
								ep.Bias[n-2] = float32(math.Copysign(0, -1))
							}
						}
						want := gtailSeqGemm(ar.fused, n%16, m, n, k, a, l.lda, false, b, l.ldb, false, ep)
						nnSameBits(t, "serial", nnRunGemm(t, ar, &Ctx{}, l, a, b, false, ep), want)
						nnSameBits(t, "packed", nnRunGemm(t, ar, nnParCtx(), l, a, b, true, ep), want)
					})
				}
			}
		}
	}
}

// TestGemmTailDeterminism checks that the bits of a row do not depend
// on the rows computed with it, on the split between workers, on the
// packing of B or on the kernel set.
func TestGemmTailDeterminism(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	const m, n, k = 37, 45, 800 // 13 tail columns; k spans three K blocks
	a := nnRandF32(r, m*k)
	b := nnRandF32(r, k*n)
	bias := nnRandF32(r, n)
	var first []float32
	for _, ar := range gtailArches(t) {
		for _, ep := range []nnEpilogue[float32]{{DotTail: true}, {Bias: bias, Act: nnActRelu, DotTail: true}} {
			t.Run(fmt.Sprintf("%s/bias=%v", ar.name, ep.Bias != nil), func(t *testing.T) {
				full := nnCheckRowBits(t, ar, m, n, k, a, b, ep, 3)
				if ep.Bias == nil {
					if first == nil {
						first = full
					} else if ar.fused {
						nnSameBits(t, "kernel sets", full, first)
					}
				}
			})
		}
	}
}

// TestGemmTailOps checks that MatMul, BatchMatMulV2 and _FusedMatMul
// (BiasAdd, Relu) agree bit for bit on products with a tail, sliced
// into batches or not: they all take the dot products.
func TestGemmTailOps(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	const m, n, k = 23, 100, 300
	x := tensor.FromSlice(tensor.Shape{m, k}, nnRandF32(r, m*k))
	w := tensor.FromSlice(tensor.Shape{k, n}, nnRandF32(r, k*n))
	bias := nnRandF32(r, n)
	attrs := tensor.Attrs{"T": tensor.Float32}
	mm, err := nnBuildMatMul(nnNode("MatMul", attrs, []*tensor.Tensor{x, w}, true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := &Ctx{}
	out, err := mm.Run(ctx, []*tensor.Tensor{x, w})
	if err != nil {
		t.Fatal(err)
	}
	got := tensor.As[float32](out[0])
	ar := nnArchF32
	want := gtailSeqGemm(ar.fused, gtailWidth(ar, n), m, n, k, tensor.As[float32](x), k, false, tensor.As[float32](w), n, false, nnEpilogue[float32]{})
	nnSameBits(t, "MatMul", got, want)
	// Rows one at a time (the batch slices of the scheduler).
	for i := 0; i < m; i += 7 {
		xi := tensor.FromSlice(tensor.Shape{1, k}, tensor.As[float32](x)[i*k:(i+1)*k])
		oi, err := mm.Run(ctx, []*tensor.Tensor{xi, w})
		if err != nil {
			t.Fatal(err)
		}
		nnSameBits(t, fmt.Sprintf("MatMul row %d", i), tensor.As[float32](oi[0]), want[i*n:(i+1)*n])
	}
	// The fused epilogue: BiasAdd then Relu on the same sums.
	c := make([]float32, m*n)
	nnGemmEp(ctx, m, n, k, tensor.As[float32](x), k, false, tensor.As[float32](w), n, false, nil, c, n, nnEpilogue[float32]{Bias: bias, Act: nnActRelu, DotTail: true})
	for i := range c {
		v := want[i] + bias[i%n]
		if v < 0 {
			v = 0
		}
		if math.Float32bits(c[i]) != math.Float32bits(v) {
			t.Fatalf("fused epilogue, element %d: got %g, want %g", i, c[i], v)
		}
	}
}
