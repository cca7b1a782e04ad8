package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestSvdMatchesTensorFlowSigns checks U and V, signs included, against
// TensorFlow: the input and expected values are those of the dl4j case
// svd/rank2_3,3_full_uv (../shared/tfmodels/dl4j_tf_graphs), whose graph
// computes s + U + V (s broadcast over rows) with full_matrices, and
// which TensorFlow 1.x wrote with "%10.8f". The input is the case's
// float32 constant, given here by its bits.
func TestSvdMatchesTensorFlowSigns(t *testing.T) {
	bits := []uint32{0x3f475e7e, 0x3f4d1b4c, 0x3f39709e, 0x3e6c6f90, 0x3f3a25ee, 0x3e38b858, 0x3f01713c, 0x3f647c62, 0x3f0bce94}
	a := make([]float64, len(bits))
	for i, b := range bits {
		a[i] = float64(math.Float32frombits(b))
	}
	want := []float64{3.08258271, 1.48855162, -1.04376578, 3.00815797, -1.09050179, -0.43948403, 2.98463106, 0.68951625, 1.53701150}
	outs := moreMust(t, "Svd", tensor.Attrs{"compute_uv": true, "full_matrices": true}, moreT(tensor.Float32, moreS(3, 3), a...))
	s, u, v := outs[0].Float64s(), outs[1].Float64s(), outs[2].Float64s()
	got := make([]float64, 9)
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			got[i*3+j] = s[j] + u[i*3+j] + v[i*3+j]
		}
	}
	moreClose(t, "s + U + V", moreT(tensor.Float64, moreS(3, 3), got...), moreS(3, 3), want, 1e-6, 1e-5)
}

// TestSvdJacobiHandTraced checks cases traced by hand through Eigen's
// JacobiSVD steps (see linalg_svd.go).
func TestSvdJacobiHandTraced(t *testing.T) {
	n := 1 / math.Sqrt2
	for _, tt := range []struct {
		name    string
		a       []float64 // 2×2
		s, u, v []float64
	}{
		// Already diagonal: no sweep; the negative entry flips U's column.
		{name: "diag with negative", a: []float64{3, 0, 0, -2}, s: []float64{3, 2}, u: []float64{1, 0, 0, -1}, v: []float64{1, 0, 0, 1}},
		// Already diagonal, increasing: the sort swaps both columns.
		{name: "diag increasing", a: []float64{1, 0, 0, 5}, s: []float64{5, 1}, u: []float64{0, 1, 1, 0}, v: []float64{0, 1, 1, 0}},
		// [[0, 1], [1, 0]]: the symmetric 2×2 step needs no first rotation;
		// makeJacobi(0, 1, 0) gives (c, s) = (n, n), left = (n, -n);
		// after one sweep W = diag(1, -1), which flips U's second column.
		{name: "swap", a: []float64{0, 1, 1, 0}, s: []float64{1, 1}, u: []float64{n, n, n, -n}, v: []float64{n, -n, n, n}},
		// Zero matrix: scale 1, no sweep, s = 0 stops the sort.
		{name: "zero", a: []float64{0, 0, 0, 0}, s: []float64{0, 0}, u: []float64{1, 0, 0, 1}, v: []float64{1, 0, 0, 1}},
	} {
		outs := moreMust(t, "Svd", tensor.Attrs{"compute_uv": true}, moreT(tensor.Float64, moreS(2, 2), tt.a...))
		moreClose(t, tt.name+" s", outs[0], moreS(2), tt.s, 1e-15, 1e-15)
		moreClose(t, tt.name+" u", outs[1], moreS(2, 2), tt.u, 1e-15, 1e-15)
		moreClose(t, tt.name+" v", outs[2], moreS(2, 2), tt.v, 1e-15, 1e-15)
	}
}

// TestSvdJacobiProperties checks the Jacobi path on random float32 and
// float64 matrices of every shape class (square, tall, wide; thin and
// full): A = U·diag(s)·Vᵀ, orthonormal columns, s ≥ 0 decreasing and
// Σs² = ‖A‖²_F; together these determine the singular values.
func TestSvdJacobiProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, sh := range [][2]int{{1, 1}, {1, 4}, {4, 1}, {3, 3}, {5, 3}, {3, 5}, {6, 6}, {15, 15}, {20, 7}, {7, 15}} {
		m, n := sh[0], sh[1]
		p := min(m, n)
		for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 2e-5
			}
			a := make([]float64, m*n)
			var fro float64
			for i := range a {
				a[i] = r.NormFloat64()
				if dt == tensor.Float32 {
					a[i] = float64(float32(a[i]))
				}
				fro += a[i] * a[i]
			}
			for _, full := range []bool{false, true} {
				outs := moreMust(t, "Svd", tensor.Attrs{"compute_uv": true, "full_matrices": full}, moreT(dt, moreS(m, n), a...))
				s, u, v := outs[0].Float64s(), outs[1].Float64s(), outs[2].Float64s()
				uc, vc := p, p
				if full {
					uc, vc = m, n
				}
				var ss float64
				for i, x := range s {
					if x < 0 || i > 0 && x > s[i-1] {
						t.Fatalf("%dx%d %s: singular values %v not ≥ 0 and decreasing", m, n, dt, s)
					}
					ss += x * x
				}
				if math.Abs(ss-fro) > tol*fro*10 {
					t.Errorf("%dx%d %s: Σs² = %v, ‖A‖² = %v", m, n, dt, ss, fro)
				}
				laCheckOrthonormal(t, "U", u, m, uc, tol)
				laCheckOrthonormal(t, "V", v, n, vc, tol)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var x float64
						for k := 0; k < p; k++ {
							x += u[i*uc+k] * s[k] * v[j*vc+k]
						}
						if math.Abs(x-a[i*n+j]) > tol*10*math.Sqrt(fro) {
							t.Fatalf("%dx%d %s full=%v: (U·S·Vᵀ)[%d,%d] = %v, A = %v", m, n, dt, full, i, j, x, a[i*n+j])
						}
					}
				}
			}
		}
	}
}

// laCheckOrthonormal checks that the c columns of the r×c matrix q are
// orthonormal.
func laCheckOrthonormal(t *testing.T, name string, q []float64, r, c int, tol float64) {
	t.Helper()
	for i := 0; i < c; i++ {
		for j := 0; j < c; j++ {
			var d float64
			for k := 0; k < r; k++ {
				d += q[k*c+i] * q[k*c+j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(d-want) > tol*10 {
				t.Fatalf("%s: column %d·%d = %v, want %v", name, i, j, d, want)
			}
		}
	}
}

// TestSvdJacobiNaNTerminates checks that NaN input ends (Eigen's
// comparisons are false on NaN, so no rotation is attempted).
func TestSvdJacobiNaNTerminates(t *testing.T) {
	outs := moreMust(t, "Svd", tensor.Attrs{"compute_uv": true}, moreT(tensor.Float32, moreS(3, 2), 1, float64(float32(math.NaN())), 2, 3, 4, 5))
	if !outs[1].Shape().Equal(moreS(3, 2)) {
		t.Fatalf("U shape %v", outs[1].Shape())
	}
}
