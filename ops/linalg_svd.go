package ops

import "math"

// Svd on matrices with fewer than 16 columns, computed as TensorFlow's CPU
// kernel computes it (tensorflow/core/kernels/linalg/svd_op_impl.h): that
// kernel runs Eigen's BDCSVD, which hands matrices with fewer than 16
// columns to Eigen's JacobiSVD (Eigen/src/SVD/BDCSVD.h, "step -1"). The
// algorithm below follows JacobiSVD step by step, in the input's own
// precision, so that the singular vectors come out with the same signs
// and order as TensorFlow's (singular vectors are unique only up to sign,
// and within repeated singular values):
//
//  1. R-SVD: a matrix with more rows than columns is reduced to the upper
//     triangle R of its column-pivoting Householder QR (A·P = Q·R, U starts
//     as Q and V as P); one with more columns than rows works on Aᵀ
//     (Eigen/src/QR/ColPivHouseholderQR.h, with LAPACK's norm downdating).
//  2. The square work matrix is scaled by its largest magnitude and swept
//     over pairs (p, q), q < p, until every off-diagonal pair is below
//     2·ε·max(|w_pp|, |w_qq|): each 2×2 block is first made symmetric by a
//     rotation, then diagonalized by a Jacobi rotation, and the rotations
//     are accumulated into U and V (Eigen/src/Jacobi/Jacobi.h).
//  3. Negative diagonal entries flip the sign of their column of U.
//  4. Singular values are sorted in decreasing order by selection (the
//     first maximum is taken), swapping the columns of U and V alongside.
//
// Matrices with 16 or more columns go through BDCSVD's divide and conquer
// in TensorFlow; tfd uses LAPACK's algorithm (gonum) for them, whose
// singular values agree but whose singular vectors may differ in sign.

// laEigenSwitch is the column count from which Eigen's BDCSVD stops
// delegating to JacobiSVD (BDCSVD's m_algoswap).
const laEigenSwitch = 16

// laDense is a small row-major matrix for the SVD helpers.
type laDense[T float32 | float64] struct {
	r, c int
	d    []T
}

func laNewDense[T float32 | float64](r, c int) *laDense[T] {
	return &laDense[T]{r: r, c: c, d: make([]T, r*c)}
}

func (a *laDense[T]) at(i, j int) T     { return a.d[i*a.c+j] }
func (a *laDense[T]) set(i, j int, v T) { a.d[i*a.c+j] = v }

// eye sets a to the identity (ones on the leading diagonal).
func (a *laDense[T]) eye() {
	clear(a.d)
	for i := 0; i < min(a.r, a.c); i++ {
		a.set(i, i, 1)
	}
}

// laRot is a plane rotation (c, s) as Eigen's JacobiRotation holds it.
type laRot[T float32 | float64] struct{ c, s T }

// transpose returns the transposed rotation (c, -s).
func (r laRot[T]) transpose() laRot[T] { return laRot[T]{r.c, -r.s} }

// mul concatenates two rotations (Eigen's JacobiRotation::operator*).
func (r laRot[T]) mul(o laRot[T]) laRot[T] {
	return laRot[T]{r.c*o.c - r.s*o.s, r.c*o.s + r.s*o.c}
}

// rotRows applies r to rows p and q: p' = c·p + s·q, q' = -s·p + c·q.
func (a *laDense[T]) rotRows(p, q int, r laRot[T]) {
	if r.c == 1 && r.s == 0 {
		return
	}
	x, y := a.d[p*a.c:][:a.c], a.d[q*a.c:][:a.c]
	for i := range x {
		xi, yi := x[i], y[i]
		x[i] = r.c*xi + r.s*yi
		y[i] = -r.s*xi + r.c*yi
	}
}

// rotCols applies r on the right of columns p and q (Eigen's
// applyOnTheRight, which rotates the columns by rᵀ).
func (a *laDense[T]) rotCols(p, q int, r laRot[T]) {
	t := r.transpose()
	if t.c == 1 && t.s == 0 {
		return
	}
	for i := 0; i < a.r; i++ {
		row := a.d[i*a.c:][:a.c]
		xi, yi := row[p], row[q]
		row[p] = t.c*xi + t.s*yi
		row[q] = -t.s*xi + t.c*yi
	}
}

func laSqrt[T float32 | float64](x T) T { return T(math.Sqrt(float64(x))) }

func laAbs[T float32 | float64](x T) T {
	if x < 0 {
		return -x
	}
	return x
}

// laEps returns the machine epsilon, the smallest normal and the smallest
// denormal of T.
func laEps[T float32 | float64]() (eps, minNormal, denormMin T) {
	var z T
	if _, ok := any(z).(float32); ok {
		return T(math.Nextafter32(1, 2) - 1), T(math.Float32frombits(0x00800000)), T(math.SmallestNonzeroFloat32)
	}
	return T(math.Nextafter(1, 2) - 1), T(0x1p-1022), T(math.SmallestNonzeroFloat64)
}

// laMakeJacobi returns the rotation J for which Jᵀ·[[x, y], [y, z]]·J is
// diagonal (JacobiRotation::makeJacobi for real scalars).
func laMakeJacobi[T float32 | float64](x, y, z T) laRot[T] {
	if y == 0 {
		return laRot[T]{1, 0}
	}
	tau := (x - z) / (2 * laAbs(y))
	w := laSqrt(tau*tau + 1)
	var t T
	if tau > 0 {
		t = 1 / (tau + w)
	} else {
		t = 1 / (tau - w)
	}
	signT := T(-1)
	if t > 0 {
		signT = 1
	}
	n := 1 / laSqrt(t*t+1)
	return laRot[T]{c: n, s: -signT * (y / laAbs(y)) * laAbs(t) * n}
}

// laJacobi2x2 returns the left and right rotations that diagonalize the
// 2×2 block (p, q) of w (Eigen's real_2x2_jacobi_svd).
func laJacobi2x2[T float32 | float64](w *laDense[T], p, q int) (left, right laRot[T]) {
	m00, m01, m10, m11 := w.at(p, p), w.at(p, q), w.at(q, p), w.at(q, q)
	rot1 := laRot[T]{1, 0}
	if d := m10 - m01; d != 0 {
		u := (m00 + m11) / d
		s := 1 / laSqrt(1+u*u)
		rot1 = laRot[T]{c: s * u, s: s}
	}
	if !(rot1.c == 1 && rot1.s == 0) {
		m00, m10 = rot1.c*m00+rot1.s*m10, -rot1.s*m00+rot1.c*m10
		m01, m11 = rot1.c*m01+rot1.s*m11, -rot1.s*m01+rot1.c*m11
	}
	right = laMakeJacobi(m00, m01, m11)
	return rot1.mul(right.transpose()), right
}

// laHouseholder turns column k of a (rows k..) into a Householder vector
// in place as Eigen's makeHouseholderInPlace does: a[k][k] becomes beta,
// the rows below hold the essential part, and tau is returned.
func laHouseholder[T float32 | float64](a *laDense[T], k int) (tau T) {
	_, minNormal, _ := laEps[T]()
	c0 := a.at(k, k)
	var tail T
	for i := k + 1; i < a.r; i++ {
		v := a.at(i, k)
		tail += v * v
	}
	if tail <= minNormal {
		for i := k + 1; i < a.r; i++ {
			a.set(i, k, 0)
		}
		return 0
	}
	beta := laSqrt(c0*c0 + tail)
	if c0 >= 0 {
		beta = -beta
	}
	for i := k + 1; i < a.r; i++ {
		a.set(i, k, a.at(i, k)/(c0-beta))
	}
	a.set(k, k, beta)
	return (beta - c0) / beta
}

// laApplyHouseholder applies H = I - tau·v·vᵀ, v = (1, ess...), to rows
// k.. of columns [c0, c1) of dst, where ess is column hk of h below row
// k (Eigen's applyHouseholderOnTheLeft).
func laApplyHouseholder[T float32 | float64](dst *laDense[T], k, c0, c1 int, h *laDense[T], hk int, tau T) {
	if dst.r-k == 1 {
		for j := c0; j < c1; j++ {
			dst.set(k, j, dst.at(k, j)*(1-tau))
		}
		return
	}
	if tau == 0 {
		return
	}
	for j := c0; j < c1; j++ {
		var tmp T
		for i := k + 1; i < dst.r; i++ {
			tmp += h.at(i, hk) * dst.at(i, j)
		}
		tmp += dst.at(k, j)
		dst.set(k, j, dst.at(k, j)-tau*tmp)
		for i := k + 1; i < dst.r; i++ {
			dst.set(i, j, dst.at(i, j)-(tau*h.at(i, hk))*tmp)
		}
	}
}

// laColNorm returns the 2-norm of rows from.. of column j.
func laColNorm[T float32 | float64](a *laDense[T], j, from int) T {
	var s T
	for i := from; i < a.r; i++ {
		v := a.at(i, j)
		s += v * v
	}
	return laSqrt(s)
}

// laColPivQR factorizes a (rows ≥ cols) in place as Eigen's
// ColPivHouseholderQR: on return a holds R on and above the diagonal and
// the Householder vectors below it; it returns the Householder
// coefficients and the permutation (column k of A·P is column perm[k] of
// A).
func laColPivQR[T float32 | float64](a *laDense[T]) (tau []T, perm []int) {
	rows, cols := a.r, a.c
	size := min(rows, cols)
	eps, _, _ := laEps[T]()
	direct := make([]T, cols)
	updated := make([]T, cols)
	for j := range direct {
		direct[j] = laColNorm(a, j, 0)
		updated[j] = direct[j]
	}
	downdate := laSqrt(eps)
	tau = make([]T, size)
	trans := make([]int, size)
	for k := 0; k < size; k++ {
		big := k
		for j := k + 1; j < cols; j++ {
			if updated[j] > updated[big] {
				big = j
			}
		}
		trans[k] = big
		if big != k {
			for i := 0; i < rows; i++ {
				x, y := a.at(i, k), a.at(i, big)
				a.set(i, k, y)
				a.set(i, big, x)
			}
			updated[k], updated[big] = updated[big], updated[k]
			direct[k], direct[big] = direct[big], direct[k]
		}
		tau[k] = laHouseholder(a, k)
		laApplyHouseholder(a, k, k+1, cols, a, k, tau[k])
		for j := k + 1; j < cols; j++ {
			if updated[j] == 0 {
				continue
			}
			t := laAbs(a.at(k, j)) / updated[j]
			t = (1 + t) * (1 - t)
			if t < 0 {
				t = 0
			}
			r := updated[j] / direct[j]
			if t*(r*r) <= downdate {
				direct[j] = laColNorm(a, j, k+1)
				updated[j] = direct[j]
			} else {
				updated[j] *= laSqrt(t)
			}
		}
	}
	perm = make([]int, cols)
	for i := range perm {
		perm[i] = i
	}
	for k, t := range trans {
		perm[k], perm[t] = perm[t], perm[k]
	}
	return tau, perm
}

// laHouseholderQ returns the first c columns of Q = H_0·H_1·…, applying
// the reflectors to the identity from the last one to the first.
func laHouseholderQ[T float32 | float64](qr *laDense[T], tau []T, c int) *laDense[T] {
	q := laNewDense[T](qr.r, c)
	q.eye()
	for k := len(tau) - 1; k >= 0; k-- {
		laApplyHouseholder(q, k, 0, c, qr, k, tau[k])
	}
	return q
}

// laPermMatrix returns the n×n matrix P with P[perm[i]][i] = 1.
func laPermMatrix[T float32 | float64](perm []int) *laDense[T] {
	p := laNewDense[T](len(perm), len(perm))
	for i, j := range perm {
		p.set(j, i, 1)
	}
	return p
}

// laJacobiSVD computes the SVD of the m×n row-major matrix a as Eigen's
// JacobiSVD does. s holds the min(m, n) singular values in decreasing
// order; with uv, u is m×m (full) or m×min(m, n) and v is n×n or
// n×min(m, n), row-major, and A = U·diag(s)·Vᵀ.
func laJacobiSVD[T float32 | float64](a []T, m, n int, uv, full bool) (s []T, u, v *laDense[T]) {
	diag := min(m, n)
	ucols, vcols := diag, diag
	if full {
		ucols, vcols = m, n
	}
	w := laNewDense[T](diag, diag)
	switch {
	case n > m:
		at := laNewDense[T](n, m)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				at.set(j, i, a[i*n+j])
			}
		}
		tau, perm := laColPivQR(at)
		for i := 0; i < m; i++ {
			for j := 0; j <= i; j++ {
				w.set(i, j, at.at(j, i))
			}
		}
		if uv {
			v = laHouseholderQ(at, tau, vcols)
			u = laPermMatrix[T](perm)
		}
	case m > n:
		qr := &laDense[T]{r: m, c: n, d: append([]T(nil), a...)}
		tau, perm := laColPivQR(qr)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				w.set(i, j, qr.at(i, j))
			}
		}
		if uv {
			u = laHouseholderQ(qr, tau, ucols)
			v = laPermMatrix[T](perm)
		}
	default:
		copy(w.d, a)
		if uv {
			u, v = laNewDense[T](m, ucols), laNewDense[T](n, vcols)
			u.eye()
			v.eye()
		}
	}

	var scale T
	for _, x := range w.d {
		scale = max(scale, laAbs(x))
	}
	if scale == 0 {
		scale = 1
	}
	for i := range w.d {
		w.d[i] /= scale
	}

	eps, _, denormMin := laEps[T]()
	precision, considerAsZero := 2*eps, 2*denormMin
	// Each sweep brings the off-diagonal mass down quadratically; the cap
	// only guards against inputs for which the comparisons never settle.
	for sweep, finished := 0, false; !finished && sweep < 100; sweep++ {
		finished = true
		for p := 1; p < diag; p++ {
			for q := 0; q < p; q++ {
				threshold := max(considerAsZero, precision*max(laAbs(w.at(p, p)), laAbs(w.at(q, q))))
				if !(laAbs(w.at(p, q)) > threshold || laAbs(w.at(q, p)) > threshold) {
					continue
				}
				finished = false
				left, right := laJacobi2x2(w, p, q)
				w.rotRows(p, q, left)
				if uv {
					u.rotCols(p, q, left.transpose())
				}
				w.rotCols(p, q, right)
				if uv {
					v.rotCols(p, q, right)
				}
			}
		}
	}

	s = make([]T, diag)
	for i := range s {
		d := w.at(i, i)
		s[i] = laAbs(d)
		if uv && s[i] != 0 {
			sign := d / s[i]
			for r := 0; r < u.r; r++ {
				u.set(r, i, u.at(r, i)*sign)
			}
		}
	}
	for i := range s {
		s[i] *= scale
	}
	for i := 0; i < diag; i++ {
		pos := i
		for j := i + 1; j < diag; j++ {
			if s[j] > s[pos] {
				pos = j
			}
		}
		if s[pos] == 0 {
			break
		}
		if pos != i {
			s[i], s[pos] = s[pos], s[i]
			if uv {
				laSwapCols(u, i, pos)
				laSwapCols(v, i, pos)
			}
		}
	}
	return s, u, v
}

func laSwapCols[T float32 | float64](a *laDense[T], i, j int) {
	for r := 0; r < a.r; r++ {
		x, y := a.at(r, i), a.at(r, j)
		a.set(r, i, y)
		a.set(r, j, x)
	}
}
