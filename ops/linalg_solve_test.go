package ops

import (
	"math"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

func TestMatrixTriangularSolve(t *testing.T) {
	s := moreS
	// L = [[2, 0], [1, 4]] (the 9 above the diagonal is ignored):
	// L·x = [2, 9] gives x = [1, 2]; Lᵀ·x = [2, 9] ([[2, 1], [0, 4]]) gives
	// x2 = 9/4, x1 = (2 - 9/4)/2 = -1/8. Read as upper, [[2, 9], [0, 4]]:
	// x2 = 9/4, x1 = (2 - 81/4)/2 = -73/8; its transpose [[2, 0], [9, 4]]:
	// x1 = 1, x2 = 0.
	a := moreT(tensor.Float64, s(2, 2), 2, 9, 1, 4)
	b := moreT(tensor.Float64, s(2, 1), 2, 9)
	for _, tt := range []struct {
		lower, adjoint bool
		want           []float64
	}{
		{true, false, []float64{1, 2}},
		{true, true, []float64{-1.0 / 8, 9.0 / 4}},
		{false, false, []float64{-73.0 / 8, 9.0 / 4}},
		{false, true, []float64{1, 0}},
	} {
		got := moreMust(t, "MatrixTriangularSolve", tensor.Attrs{"lower": tt.lower, "adjoint": tt.adjoint}, a, b)[0]
		moreClose(t, "triangular solve", got, s(2, 1), tt.want, 1e-15, 1e-15)
	}
	// Batch broadcasting: one matrix, a batch of 3 right-hand sides with
	// two columns, float32.
	got := moreMust(t, "MatrixTriangularSolve", nil, moreT(tensor.Float32, s(1, 2, 2), 2, 0, 1, 4),
		moreT(tensor.Float32, s(3, 2, 2), 2, 4, 9, 2, 0, 0, 0, 4, 2, 2, 1, 1))[0]
	// Column by column: [2,9]→[1,2]; [4,2]→[2,0]; [0,0]→0; [0,4]→[0,1];
	// [2,1]→[1,0]; [2,1]→[1,0].
	moreClose(t, "broadcast", got, s(3, 2, 2), []float64{1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 0}, 1e-7, 1e-7)
	// A zero pivot gives Inf/NaN, not an error.
	got = moreMust(t, "MatrixTriangularSolve", nil, moreT(tensor.Float64, s(1, 1), 0), moreT(tensor.Float64, s(1, 1), 1))[0]
	if v := got.Float64s()[0]; !math.IsInf(v, 1) {
		t.Errorf("1/0 solve = %v", v)
	}
	got = moreMust(t, "MatrixTriangularSolve", nil, moreT(tensor.Float64, s(0, 0)), moreT(tensor.Float64, s(0, 3)))[0]
	if !got.Shape().Equal(s(0, 3)) {
		t.Errorf("empty: %v", got.Shape())
	}
	moreWantErr(t, ErrShape, "MatrixTriangularSolve", nil, moreT(tensor.Float64, s(2, 3), 1, 2, 3, 4, 5, 6), b)
	moreWantErr(t, ErrShape, "MatrixTriangularSolve", nil, a, moreT(tensor.Float64, s(3, 1), 1, 2, 3))
	moreWantErr(t, ErrDType, "MatrixTriangularSolve", nil, moreT(tensor.Int32, s(1, 1), 1), moreT(tensor.Int32, s(1, 1), 1))
}

func TestMatrixSolveLs(t *testing.T) {
	s := moreS
	f64 := func(v float64) *tensor.Tensor { return moreT(tensor.Float64, s(), v) }
	// Fit y = c0 + c1·x through (0, 1), (1, 2), (2, 4): AᵀA = [[3, 3], [3, 5]],
	// Aᵀy = [7, 10], so c = [5/6, 3/2] (hand-solved normal equations).
	a := moreT(tensor.Float64, s(3, 2), 1, 0, 1, 1, 1, 2)
	y := moreT(tensor.Float64, s(3, 1), 1, 2, 4)
	for _, fast := range []bool{true, false} {
		got := moreMust(t, "MatrixSolveLs", tensor.Attrs{"fast": fast}, a, y, f64(0))[0]
		moreClose(t, "overdetermined", got, s(2, 1), []float64{5.0 / 6, 1.5}, 1e-14, 1e-14)
	}
	// With λ = 1: (AᵀA + I) = [[4, 3], [3, 6]], det 15, solution
	// [(6·7 − 3·10)/15, (4·10 − 3·7)/15] = [0.8, 19/15].
	got := moreMust(t, "MatrixSolveLs", nil, a, y, f64(1))[0]
	moreClose(t, "regularized", got, s(2, 1), []float64{0.8, 19.0 / 15}, 1e-14, 1e-14)
	// Underdetermined x1 + x2 = 2: the minimum-norm solution is [1, 1].
	for _, fast := range []bool{true, false} {
		got = moreMust(t, "MatrixSolveLs", tensor.Attrs{"fast": fast}, moreT(tensor.Float32, s(1, 1, 2), 1, 1), moreT(tensor.Float32, s(1, 1, 1), 2), f64(0))[0]
		moreClose(t, "underdetermined", got, s(1, 2, 1), []float64{1, 1}, 1e-6, 1e-6)
	}
	// A rank-deficient matrix fails on the fast path (the Gram matrix
	// diag(1, 0) has a zero pivot) and gets the minimum-norm solution
	// otherwise: [[1, 0], [0, 0]]·x ≈ [2, 3] → [2, 0].
	rd := moreT(tensor.Float64, s(2, 2), 1, 0, 0, 0)
	rb := moreT(tensor.Float64, s(2, 1), 2, 3)
	moreWantErr(t, ErrShape, "MatrixSolveLs", nil, rd, rb, f64(0))
	got = moreMust(t, "MatrixSolveLs", tensor.Attrs{"fast": false}, rd, rb, f64(0))[0]
	moreClose(t, "min norm", got, s(2, 1), []float64{2, 0}, 1e-14, 1e-14)
	// [[1, 1], [1, 1]]·x ≈ [2, 2] → [1, 1] by the pseudo-inverse.
	got = moreMust(t, "MatrixSolveLs", tensor.Attrs{"fast": false}, moreT(tensor.Float64, s(2, 2), 1, 1, 1, 1), moreT(tensor.Float64, s(2, 1), 2, 2), f64(0))[0]
	moreClose(t, "min norm rank 1", got, s(2, 1), []float64{1, 1}, 1e-14, 1e-14)
	got = moreMust(t, "MatrixSolveLs", nil, moreT(tensor.Float64, s(0, 2)), moreT(tensor.Float64, s(0, 3)), f64(0))[0]
	moreExact(t, "empty system", got, tensor.Float64, s(2, 3), []float64{0, 0, 0, 0, 0, 0})
	moreWantErr(t, ErrShape, "MatrixSolveLs", nil, a, y, f64(-1))
	moreWantErr(t, ErrShape, "MatrixSolveLs", nil, a, moreT(tensor.Float64, s(2, 1), 1, 2), f64(0))
}

func TestSelfAdjointEigV1(t *testing.T) {
	// [[2, 1], [1, 2]] has eigenvalues 1 and 3 with eigenvectors
	// ±[1, -1]/√2 and ±[1, 1]/√2; the upper triangle (99) is not read.
	got := moreMust(t, "SelfAdjointEig", nil, moreT(tensor.Float64, moreS(1, 2, 2), 2, 99, 1, 2))[0]
	if !got.Shape().Equal(moreS(1, 3, 2)) {
		t.Fatalf("shape %v", got.Shape())
	}
	v := got.Float64s()
	moreClose(t, "eigenvalues", moreT(tensor.Float64, moreS(2), v[:2]...), moreS(2), []float64{1, 3}, 1e-14, 1e-14)
	r := 1 / math.Sqrt2
	for j, want := range [][2]float64{{r, -r}, {r, r}} {
		x, y := v[2+j], v[4+j]
		if math.Abs(math.Abs(x)-math.Abs(want[0])) > 1e-14 || math.Abs(x*want[1]-y*want[0]) > 1e-14 {
			t.Errorf("eigenvector %d = [%v, %v], want ±%v", j, x, y, want)
		}
	}
	got = moreMust(t, "SelfAdjointEig", nil, moreT(tensor.Float32, moreS(0, 0)))[0]
	if !got.Shape().Equal(moreS(1, 0)) {
		t.Errorf("empty: %v", got.Shape())
	}
	moreWantErr(t, ErrShape, "SelfAdjointEig", nil, moreT(tensor.Float64, moreS(2, 3), 1, 2, 3, 4, 5, 6))
}
