package ops

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// nnTestPar is a Ctx.Par for tests: it cuts [0, n) into uneven chunks of at
// least grain items and runs them on goroutines.
func nnTestPar(n, grain int, fn func(lo, hi int)) {
	var wg sync.WaitGroup
	for lo, i := 0, 0; lo < n; i++ {
		hi := min(n, lo+grain*(1+i%3))
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, hi)
		lo = hi
	}
	wg.Wait()
}

// nnParCtx returns a Ctx that splits work on goroutines.
func nnParCtx() *Ctx { return &Ctx{Par: nnTestPar} }

// nnBenchPar returns a Ctx.Par that cuts [0, n) into at most workers
// equal chunks (of at least grain items) run on goroutines.
func nnBenchPar(workers int) func(n, grain int, fn func(lo, hi int)) {
	return func(n, grain int, fn func(lo, hi int)) {
		chunks := max(1, min(workers, n/max(grain, 1)))
		var wg sync.WaitGroup
		for i := 0; i < chunks; i++ {
			lo, hi := n*i/chunks, n*(i+1)/chunks
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn(lo, hi)
			}()
		}
		wg.Wait()
	}
}

func nnRandF32(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// nnGemmAt returns op(X)[i, j] for a row-major X with leading dimension ld.
func nnGemmAt[T any](x []T, ld int, trans bool, i, j int) T {
	if trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

// nnRefMatMul is the naive float64 reference: C = op(A)·op(B), with the
// sum of |products| of each element as an error scale.
func nnRefMatMul(m, n, k int, a []float64, lda int, transA bool, b []float64, ldb int, transB bool) (c, scale []float64) {
	c = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			for p := 0; p < k; p++ {
				v := nnGemmAt(a, lda, transA, i, p) * nnGemmAt(b, ldb, transB, p, j)
				s += v
				abs += math.Abs(v)
			}
			c[i*n+j] = s
			scale[i*n+j] = abs
		}
	}
	return c, scale
}

// nnFMA32 is the float32 fused multiply-add a*b+c with one rounding. The
// product is exact in float64; the sum is rounded to odd in float64
// (TwoSum gives the exact error), which then rounds to float32 correctly.
func nnFMA32(a, b, c float32) float32 {
	p, q := float64(a)*float64(b), float64(c)
	s := p + q
	bb := s - p
	e := (p - (s - bb)) + (q - bb)
	if e != 0 && math.Float64bits(s)&1 == 0 {
		s = math.Nextafter(s, math.Inf(int(math.Copysign(1, e))))
	}
	return float32(s)
}

// nnSeqGemmF32 is C = act(op(A)·op(B) + bias) summed in float32 in the order
// the GEMM promises, fused or not.
func nnSeqGemmF32(fused bool, m, n, k int, a []float32, lda int, transA bool, b []float32, ldb int, transB bool, ep nnEpilogue[float32]) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var acc float32
			for p := 0; p < k; p++ {
				av, bv := nnGemmAt(a, lda, transA, i, p), nnGemmAt(b, ldb, transB, p, j)
				if fused {
					acc = nnFMA32(av, bv, acc)
				} else {
					acc += float32(av * bv)
				}
			}
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

func nnF64s[T nnGemmNum](s []T) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

func TestFMA32(t *testing.T) {
	// (1+2^-12)^2 = 1 + 2^-11 + 2^-24 lies halfway between two float32s;
	// a tiny c decides the rounding, which the float64 sum would lose
	// (rounding twice gives 1 + 2^-11 for all three).
	a := float32(1 + 1.0/(1<<12))
	tiny := float32(math.Ldexp(1, -60))
	cases := []struct {
		a, b, c, want float32
	}{
		{a, a, 0, 1 + 1.0/(1<<11)}, // tie, to even
		{a, a, tiny, 1 + 1.0/(1<<11) + 1.0/(1<<23)},
		{a, a, -tiny, 1 + 1.0/(1<<11)},
		{2, 3, 1, 7},
		{0, 5, float32(math.Inf(1)), float32(math.Inf(1))},
	}
	for _, tc := range cases {
		if got := nnFMA32(tc.a, tc.b, tc.c); got != tc.want {
			t.Errorf("fma(%g, %g, %g) = %g, want %g", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
}

// nnGemmLayout describes the operands of one product, with leading
// dimensions larger than needed to catch stride bugs.
type nnGemmLayout struct {
	m, n, k        int
	transA, transB bool
	lda, ldb, ldc  int
}

func nnNewLayout(m, n, k int, transA, transB bool) nnGemmLayout {
	l := nnGemmLayout{m: m, n: n, k: k, transA: transA, transB: transB, lda: k + 3, ldb: n + 2, ldc: n + 1}
	if transA {
		l.lda = m + 3
	}
	if transB {
		l.ldb = k + 2
	}
	return l
}

func (l nnGemmLayout) sizes() (na, nb int) {
	arows, brows := l.m, l.k
	if l.transA {
		arows = l.k
	}
	if l.transB {
		brows = l.n
	}
	return arows * l.lda, brows * l.ldb
}

// nnRunGemm runs the product with ar into a C full of NaN with guard
// bands, checks that nothing outside C was written and returns C packed
// (m×n).
func nnRunGemm(t *testing.T, ar *nnGemmArch[float32], ctx *Ctx, l nnGemmLayout, a, b []float32, prepack bool, ep nnEpilogue[float32]) []float32 {
	t.Helper()
	const guard = 7
	c := make([]float32, guard+l.m*l.ldc+guard)
	nan := float32(math.NaN())
	for i := range c {
		c[i] = nan
	}
	var pb []float32
	if prepack {
		pb = make([]float32, nnPackBLen(l.k, l.n))
		nnPackBWith(ar, ctx, l.k, l.n, b, l.ldb, l.transB, pb)
		b = nil
	}
	nnGemmWith(ar, ctx, l.m, l.n, l.k, a, l.lda, l.transA, b, l.ldb, l.transB, pb, c[guard:guard+l.m*l.ldc], l.ldc, ep)
	out := make([]float32, l.m*l.n)
	for i := range c {
		r, col := (i-guard)/l.ldc, (i-guard)%l.ldc
		inside := i >= guard && r < l.m && col < l.n
		if inside {
			out[r*l.n+col] = c[i]
		} else if !math.IsNaN(float64(c[i])) {
			t.Fatalf("wrote %g outside C at index %d", c[i], i-guard)
		}
	}
	return out
}

// nnSameBits reports the first element where got and want differ in bits.
func nnSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d is %g (%#x), want %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

func TestGemmF32(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	type dims struct{ m, n, k int }
	cases := []dims{
		{1, 1, 1}, {1, 100, 784}, {2, 33, 5}, {3, 5, 7}, {4, 130, 300}, {5, 9, 3},
		{6, 16, 16}, {7, 3, 300}, {8, 8, 8}, {9, 13, 257}, {14, 32, 256}, {15, 17, 31},
		{17, 1, 33}, {28, 64, 512}, {29, 48, 513}, {33, 65, 513}, {64, 4, 1}, {65, 7, 260},
		{130, 37, 40}, {200, 400, 20}, {3, 40, 1000}, {23, 50, 1000},
		{0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {1, 0, 0}, {1, 3, 0},
	}
	for i := 0; i < 8; i++ {
		cases = append(cases, dims{1 + r.Intn(90), 1 + r.Intn(70), 1 + r.Intn(600)})
	}
	for _, ar := range nnArchesF32() {
		for _, d := range cases {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				l := nnNewLayout(d.m, d.n, d.k, tr[0], tr[1])
				name := fmt.Sprintf("%s/m=%d/n=%d/k=%d/ta=%v/tb=%v", ar.name, d.m, d.n, d.k, l.transA, l.transB)
				t.Run(name, func(t *testing.T) {
					na, nb := l.sizes()
					a, b := nnRandF32(r, na), nnRandF32(r, nb)
					ref, scale := nnRefMatMul(d.m, d.n, d.k, nnF64s(a), l.lda, l.transA, nnF64s(b), l.ldb, l.transB)
					seq := nnSeqGemmF32(ar.fused, d.m, d.n, d.k, a, l.lda, l.transA, b, l.ldb, l.transB, nnEpilogue[float32]{})
					got := nnRunGemm(t, ar, &Ctx{}, l, a, b, false, nnEpilogue[float32]{})
					for i := range got {
						tol := float64(d.k+2)*6e-8*scale[i] + 1e-30
						if math.Abs(float64(got[i])-ref[i]) > tol {
							t.Fatalf("element %d: got %g, reference %g (tol %g)", i, got[i], ref[i], tol)
						}
					}
					nnSameBits(t, "in-order float32 sum", got, seq)
					nnSameBits(t, "parallel", nnRunGemm(t, ar, nnParCtx(), l, a, b, false, nnEpilogue[float32]{}), seq)
					nnSameBits(t, "packed B", nnRunGemm(t, ar, nnParCtx(), l, a, b, true, nnEpilogue[float32]{}), seq)
				})
			}
		}
	}
}

// TestGemmDeterminism checks the contract the scheduler relies on: a row
// of C has the same bits whatever rows are computed with it, however the
// work is split between workers, and whether B was packed ahead of time.
func TestGemmDeterminism(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	const m, n, k = 37, 45, 800 // k spans three K blocks
	a := nnRandF32(r, m*k)
	b := nnRandF32(r, k*n)
	bias := nnRandF32(r, n)
	for _, ar := range nnArchesF32() {
		for _, ep := range []nnEpilogue[float32]{{}, {Bias: bias, Act: nnActRelu}} {
			t.Run(fmt.Sprintf("%s/bias=%v", ar.name, ep.Bias != nil), func(t *testing.T) {
				nnCheckRowBits(t, ar, m, n, k, a, b, ep, 1)
			})
		}
	}
}

// nnCheckRowBits computes the m×n product of a and b with ep on one
// worker and checks that the same bits come out on 1 to 4 workers, with B
// packed ahead of time or not, and for every row range [r0, r1) computed
// alone (r0 stepping by rowStep), on one worker or several, with B packed
// or not. It returns the product.
func nnCheckRowBits(t *testing.T, ar *nnGemmArch[float32], m, n, k int, a, b []float32, ep nnEpilogue[float32], rowStep int) []float32 {
	t.Helper()
	full := make([]float32, m*n)
	nnGemmWith(ar, &Ctx{}, m, n, k, a, k, false, b, n, false, nil, full, n, ep)
	pb := make([]float32, nnPackBLen(k, n))
	nnPackBWith(ar, &Ctx{}, k, n, b, n, false, pb)
	for workers := 1; workers <= 4; workers++ {
		ctx := &Ctx{Par: nnBenchPar(workers)}
		got := make([]float32, m*n)
		nnGemmWith(ar, ctx, m, n, k, a, k, false, b, n, false, nil, got, n, ep)
		nnSameBits(t, fmt.Sprintf("workers=%d", workers), got, full)
		nnGemmWith(ar, ctx, m, n, k, a, k, false, nil, 0, false, pb, got, n, ep)
		nnSameBits(t, fmt.Sprintf("workers=%d packed", workers), got, full)
	}
	for r0 := 0; r0 < m; r0 += rowStep {
		for r1 := r0 + 1; r1 <= m; r1++ {
			rows := r1 - r0
			part := make([]float32, rows*n)
			ctx := &Ctx{}
			if (r0+r1)%2 == 1 {
				ctx = nnParCtx()
			}
			var packed []float32
			if r1%3 == 0 {
				packed = pb
			}
			nnGemmWith(ar, ctx, rows, n, k, a[r0*k:], k, false, b, n, false, packed, part, n, ep)
			nnSameBits(t, fmt.Sprintf("rows [%d, %d)", r0, r1), part, full[r0*n:r1*n])
		}
	}
	return full
}

func TestGemmEpilogue(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, ar := range nnArchesF32() {
		for _, d := range [][3]int{{1, 5, 3}, {3, 100, 40}, {20, 33, 300}, {15, 47, 9}, {4, 7, 0}, {16, 130, 1}} {
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
						}
						ep := nnEpilogue[float32]{Act: act}
						if withBias {
							ep.Bias = nnRandF32(r, n)
							ep.Bias[n-1] = nan
							ep.Bias[0] = -inf
						}
						want := nnSeqGemmF32(ar.fused, m, n, k, a, l.lda, false, b, l.ldb, false, ep)
						nnSameBits(t, "serial", nnRunGemm(t, ar, &Ctx{}, l, a, b, false, ep), want)
						nnSameBits(t, "packed", nnRunGemm(t, ar, nnParCtx(), l, a, b, true, ep), want)
					})
				}
			}
		}
	}
}

func TestGemmFloat64(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, d := range [][3]int{{1, 5, 7}, {9, 11, 300}, {20, 3, 2}, {37, 29, 513}} {
		m, n, k := d[0], d[1], d[2]
		a, b := make([]float64, m*k), make([]float64, k*n)
		for i := range a {
			a[i] = r.NormFloat64()
		}
		for i := range b {
			b[i] = r.NormFloat64()
		}
		bias := []float64{0.5, -1, 2, 1e10, -1e10}
		c := make([]float64, m*n)
		nnGemmEp(nnParCtx(), m, n, k, a, k, false, b, n, false, nil, c, n, nnEpilogue[float64]{Bias: append(bias, make([]float64, n)...)[:n], Act: nnActRelu6})
		ref, scale := nnRefMatMul(m, n, k, a, k, false, b, n, false)
		for i := range ref {
			want := ref[i]
			if j := i % n; j < len(bias) {
				want += bias[j]
			}
			want = min(max(want, 0), 6)
			if math.Abs(c[i]-want) > float64(k+2)*1.2e-16*scale[i]+1e-300 {
				t.Fatalf("%v element %d: got %g, want %g", d, i, c[i], want)
			}
		}
	}
}

func TestGemmInt(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, d := range [][3]int{{1, 5, 7}, {9, 11, 300}, {20, 3, 2}} {
		m, n, k := d[0], d[1], d[2]
		a := make([]int32, m*k)
		b := make([]int32, k*n)
		for i := range a {
			a[i] = int32(r.Uint32())
		}
		for i := range b {
			b[i] = int32(r.Uint32())
		}
		c := make([]int32, m*n)
		nnGemm(nnParCtx(), m, n, k, a, k, false, b, n, false, nil, c, n)
		c64 := make([]int64, m*n)
		a64, b64 := make([]int64, len(a)), make([]int64, len(b))
		for i, v := range a {
			a64[i] = int64(v) >> 20
		}
		for i, v := range b {
			b64[i] = int64(v) >> 20
		}
		nnGemmEp(&Ctx{}, m, n, k, a64, k, false, b64, n, false, nil, c64, n, nnEpilogue[int64]{Act: nnActRelu6})
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var want int32 // wraps like TensorFlow's int32 matmul
				var want64 int64
				for p := 0; p < k; p++ {
					want += a[i*k+p] * b[p*n+j]
					want64 += a64[i*k+p] * b64[p*n+j]
				}
				if c[i*n+j] != want {
					t.Fatalf("%v (%d,%d): got %d want %d", d, i, j, c[i*n+j], want)
				}
				want64 = min(max(want64, 0), 6)
				if c64[i*n+j] != want64 {
					t.Fatalf("%v (%d,%d) int64: got %d want %d", d, i, j, c64[i*n+j], want64)
				}
			}
		}
	}
}

// nnBenchSizes are the GEMM shapes of the benchmarks: a dense layer of an
// MNIST MLP at batch 1, 100 and 10000, and two square products.
var nnBenchSizes = []struct{ m, n, k int }{
	{1, 100, 784}, {100, 100, 784}, {10000, 100, 784}, {512, 512, 512}, {1024, 1024, 1024},
}

// nnCPUSeconds, when set, returns the CPU time of the process: the
// benchmarks then also report GFLOP per CPU second, which other processes
// on a shared machine disturb much less than wall time.
var nnCPUSeconds func() float64

func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, sz := range nnBenchSizes {
		a := nnRandF32(r, sz.m*sz.k)
		bb := nnRandF32(r, sz.k*sz.n)
		c := make([]float32, sz.m*sz.n)
		at := tensor.FromSlice(tensor.Shape{sz.m, sz.k}, a)
		bt := tensor.FromSlice(tensor.Shape{sz.k, sz.n}, bb)
		flops := 2 * float64(sz.m) * float64(sz.n) * float64(sz.k)
		bytes := int64(4 * (len(a) + len(bb) + len(c)))
		for _, workers := range []int{1, 2} {
			ctx := &Ctx{Pool: pool.New()}
			if workers > 1 {
				ctx.Par = nnBenchPar(workers)
			}
			run := func(impl string, fn func()) {
				b.Run(fmt.Sprintf("impl=%s/workers=%d/m=%d/k=%d/n=%d", impl, workers, sz.m, sz.k, sz.n), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(bytes)
					var cpu0 float64
					if nnCPUSeconds != nil {
						cpu0 = nnCPUSeconds()
					}
					for b.Loop() {
						fn()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if nnCPUSeconds != nil {
						b.ReportMetric(flops*float64(b.N)/(nnCPUSeconds()-cpu0)/1e9, "GFLOP/cpu-s")
					}
				})
			}
			// As MatMul runs it: the column tail as dot products.
			for _, ar := range nnArchesF32() {
				run(ar.name, func() {
					nnGemmWith(ar, ctx, sz.m, sz.n, sz.k, a, sz.k, false, bb, sz.n, false, nil, c, sz.n, nnEpilogue[float32]{DotTail: true})
				})
				pb := make([]float32, nnPackBLen(sz.k, sz.n))
				nnPackBWith(ar, ctx, sz.k, sz.n, bb, sz.n, false, pb)
				run(ar.name+"-prepacked", func() {
					nnGemmWith(ar, ctx, sz.m, sz.n, sz.k, a, sz.k, false, nil, 0, false, pb, c, sz.n, nnEpilogue[float32]{DotTail: true})
				})
			}
			// The registered gonum MatMul: gonum's Sgemm on blocks that
			// the kernel spreads with ctx.Parallel.
			kern, err := nnBuildMatMulGonum(nnNode("MatMul", tensor.Attrs{"T": tensor.Float32}, []*tensor.Tensor{at, bt}, false))
			if err != nil {
				b.Fatal(err)
			}
			run("gonum", func() {
				out, err := kern.Run(ctx, []*tensor.Tensor{at, bt})
				if err != nil {
					b.Fatal(err)
				}
				out[0].Release()
			})
		}
	}
}
