package ops

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/tfdgo/tfd/tensor"
)

// Dense linear algebra on batches of matrices [..., M, N]
// (tensorflow/core/kernels/linalg/): MatrixInverse, MatrixDeterminant,
// LogMatrixDeterminant, Cholesky, MatrixSolve, Svd and SelfAdjointEigV2,
// computed in float64 with gonum's mat package (LU with partial pivoting,
// Cholesky, LAPACK's SVD and symmetric eigensolver) and rounded once,
// except Svd of narrow matrices (see below).
//
//   - MatrixInverse fails on a singular matrix ("not invertible"); with
//     adjoint it inverts the transpose.
//   - MatrixDeterminant is 1 for 0×0 matrices; LogMatrixDeterminant
//     returns the sign and log|det| (sign 0 and -Inf when singular).
//   - Cholesky reads the lower triangle and returns L with zeros above the
//     diagonal; a matrix that is not positive definite is an error.
//   - MatrixSolve solves A·X = B (Aᵀ with adjoint).
//   - Svd returns the singular values in decreasing order and, with
//     compute_uv, U and V (full_matrices: square); without, U and V are
//     empty [0] tensors. Matrices with fewer than 16 columns follow
//     Eigen's JacobiSVD as TensorFlow runs it, signs of the singular
//     vectors included (linalg_svd.go); wider ones use LAPACK's
//     algorithm, whose vectors may differ from TensorFlow's in sign.
//   - SelfAdjointEigV2 returns the eigenvalues in increasing order and,
//     with compute_v, the eigenvectors as columns. Eigenvectors are unique
//     only up to sign (and within repeated values); they may differ from
//     TensorFlow's (Eigen's) by those.

func init() {
	for _, l := range []struct {
		name, doc string
		op        laOp
	}{
		{"MatrixInverse", "inverses of batched square matrices (adjoint attr)", laInverse},
		{"MatrixDeterminant", "determinants of batched square matrices", laDet},
		{"LogMatrixDeterminant", "sign and log of the absolute determinant of batched square matrices", laLogDet},
		{"Cholesky", "lower Cholesky factors of batched symmetric positive definite matrices", laCholesky},
		{"MatrixSolve", "solutions X of A·X = B (or adjoint(A)·X = B) for batched square A", laSolve},
		{"Svd", "singular values (and vectors with compute_uv) of batched matrices", laSvd},
		{"SelfAdjointEigV2", "eigenvalues (and eigenvectors with compute_v) of batched symmetric matrices", laEig},
	} {
		op := l.op
		Default().Register(Spec{
			Name:  l.name,
			Doc:   l.doc,
			Infer: func(n *Node) ([]Value, error) { return laInfer(n, op) },
			Build: func(n *Node) (Kernel, error) { return laBuild(n, op) },
		})
	}
}

type laOp int

const (
	laInverse laOp = iota
	laDet
	laLogDet
	laCholesky
	laSolve
	laSvd
	laEig
)

func laDType(n *Node, op laOp) (tensor.DType, error) {
	k := 1
	if op == laSolve {
		k = 2
	}
	if err := NeedInputs(n, k); err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	if !mathHasType(mathFloatTypes, dt) {
		return tensor.Invalid, mathUnsupported(n.Op, dt, mathFloatTypes)
	}
	return dt, nil
}

// laOutShapes returns the output shapes for input shapes (batch dims
// then the matrix), checking square inputs where needed.
func laOutShapes(name string, op laOp, uv, full bool, shapes ...tensor.Shape) ([]tensor.Shape, error) {
	a := shapes[0]
	if len(a) < 2 {
		return nil, fmt.Errorf("%w: op %s: input must have rank ≥ 2, got %v", ErrShape, name, a)
	}
	batch := a[:len(a)-2]
	m, n := a[len(a)-2], a[len(a)-1]
	with := func(d ...int) tensor.Shape { return append(batch.Clone(), d...) }
	if op != laSvd && m != n {
		return nil, fmt.Errorf("%w: op %s: input matrices must be square, got %v", ErrShape, name, a)
	}
	switch op {
	case laDet:
		return []tensor.Shape{with()}, nil
	case laLogDet:
		return []tensor.Shape{with(), with()}, nil
	case laSolve:
		b := shapes[1]
		if len(b) != len(a) || !b[:len(b)-2].Equal(batch) || b[len(b)-2] != m {
			return nil, fmt.Errorf("%w: op %s: rhs %v does not fit matrix %v", ErrShape, name, b, a)
		}
		return []tensor.Shape{b.Clone()}, nil
	case laSvd:
		p := min(m, n)
		if !uv {
			return []tensor.Shape{with(p), {0}, {0}}, nil
		}
		if full {
			return []tensor.Shape{with(p), with(m, m), with(n, n)}, nil
		}
		return []tensor.Shape{with(p), with(m, p), with(n, p)}, nil
	case laEig:
		if !uv {
			return []tensor.Shape{with(m), {0}}, nil
		}
		return []tensor.Shape{with(m), with(m, m)}, nil
	}
	return []tensor.Shape{a.Clone()}, nil
}

func laAttrs(n *Node, op laOp) (adjoint, uv, full bool, err error) {
	switch op {
	case laInverse, laSolve:
		adjoint, err = AttrBool(n, "adjoint", false)
	case laSvd:
		if uv, err = AttrBool(n, "compute_uv", true); err == nil {
			full, err = AttrBool(n, "full_matrices", false)
		}
	case laEig:
		uv, err = AttrBool(n, "compute_v", true)
	}
	if err != nil {
		err = fmt.Errorf("op %s: %w", n.Op, err)
	}
	return
}

func laInfer(n *Node, op laOp) ([]Value, error) {
	dt, err := laDType(n, op)
	if err != nil {
		return nil, err
	}
	_, uv, full, err := laAttrs(n, op)
	if err != nil {
		return nil, err
	}
	count := map[laOp]int{laLogDet: 2, laSvd: 3, laEig: 2}[op]
	if count == 0 {
		count = 1
	}
	var shapes []tensor.Shape
	for _, v := range n.Inputs {
		s, ok := v.Shape.Shape()
		if !ok {
			out := make([]Value, count)
			for i := range out {
				out[i] = Value{DType: dt, Shape: tensor.UnknownShape()}
			}
			return out, nil
		}
		shapes = append(shapes, s)
	}
	os, err := laOutShapes(n.Op, op, uv, full, shapes...)
	if err != nil {
		return nil, err
	}
	out := make([]Value, len(os))
	for i, s := range os {
		out[i] = Value{DType: dt, Shape: tensor.Known(s)}
	}
	return out, nil
}

type laKernel struct {
	name              string
	op                laOp
	dt                tensor.DType
	adjoint, uv, full bool
}

func laBuild(n *Node, op laOp) (Kernel, error) {
	if _, err := laInfer(n, op); err != nil {
		return nil, err
	}
	dt, _ := laDType(n, op)
	adj, uv, full, _ := laAttrs(n, op)
	if op == laSolve {
		if b := n.Inputs[1].DType.Base(); b != tensor.Invalid && b != dt {
			return nil, fmt.Errorf("%w: op %s: rhs is %s but matrix is %s", ErrDType, n.Op, b, dt)
		}
	}
	return &laKernel{n.Op, op, dt, adj, uv, full}, nil
}

// laMatrix returns matrix b of t ([..., m, n]) as a gonum matrix.
func laMatrix(v []float64, b, m, n int) *mat.Dense {
	return mat.NewDense(m, n, append([]float64(nil), v[b*m*n:(b+1)*m*n]...))
}

func (k *laKernel) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	shapes := make([]tensor.Shape, len(in))
	vals := make([][]float64, len(in))
	for i, t := range in {
		if t.DType() != k.dt {
			return nil, fmt.Errorf("%w: op %s: input %d is %s, expected %s", ErrDType, k.name, i, t.DType(), k.dt)
		}
		shapes[i] = t.Shape()
		vals[i] = t.Float64s()
	}
	os, err := laOutShapes(k.name, k.op, k.uv, k.full, shapes...)
	if err != nil {
		return nil, err
	}
	outs := make([][]float64, len(os))
	for i, s := range os {
		outs[i] = make([]float64, s.Size())
	}
	a := shapes[0]
	m, n := a[len(a)-2], a[len(a)-1]
	rhsCols := 0
	if k.op == laSolve {
		rhsCols = shapes[1][len(shapes[1])-1]
	}
	batch := 1
	for _, d := range a[:len(a)-2] {
		batch *= d
	}
	for b := 0; b < batch; b++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := k.one(b, m, n, rhsCols, vals, outs); err != nil {
			return nil, err
		}
	}
	res := make([]*tensor.Tensor, len(os))
	for i, s := range os {
		t, err := ctx.Alloc(k.dt, s)
		if err != nil {
			for _, r := range res[:i] {
				r.Release()
			}
			return nil, err
		}
		switch d := t.Data().(type) {
		case []float64:
			copy(d, outs[i])
		case []float32:
			for j, v := range outs[i] {
				d[j] = float32(v)
			}
			if r := mathRounder(k.dt); r != nil {
				r(d)
			}
		}
		res[i] = t
	}
	return res, nil
}

// one computes matrix b of the batch into outs.
func (k *laKernel) one(b, m, n, rhsCols int, vals, outs [][]float64) error {
	var A *mat.Dense
	if m > 0 && n > 0 {
		A = laMatrix(vals[0], b, m, n)
	}
	put := func(o int, x mat.Matrix) {
		r, c := x.Dims()
		dst := outs[o][b*r*c : (b+1)*r*c]
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				dst[i*c+j] = x.At(i, j)
			}
		}
	}
	switch k.op {
	case laInverse:
		if m == 0 {
			return nil
		}
		var src mat.Matrix = A
		if k.adjoint {
			src = A.T()
		}
		var lu mat.LU
		lu.Factorize(src)
		if laSingular(&lu, m) {
			return fmt.Errorf("%w: op %s: input is not invertible", ErrShape, k.name)
		}
		var inv mat.Dense
		if err := lu.SolveTo(&inv, false, laEye(m)); err != nil && !laConditionOnly(err) {
			return fmt.Errorf("%w: op %s: input is not invertible: %v", ErrShape, k.name, err)
		}
		put(0, &inv)
	case laDet, laLogDet:
		sign, logAbs := 1.0, 0.0
		if m > 0 {
			var lu mat.LU
			lu.Factorize(A)
			if laSingular(&lu, m) {
				sign, logAbs = 0, math.Inf(-1)
			} else {
				logAbs, sign = lu.LogDet()
			}
		}
		if k.op == laDet {
			outs[0][b] = sign * math.Exp(logAbs)
		} else {
			outs[0][b], outs[1][b] = sign, logAbs
		}
	case laCholesky:
		if m == 0 {
			return nil
		}
		sym := mat.NewSymDense(m, nil)
		for i := 0; i < m; i++ {
			for j := 0; j <= i; j++ {
				sym.SetSym(i, j, A.At(i, j))
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(sym) {
			return fmt.Errorf("%w: op %s: Cholesky decomposition was not successful: the input might not be valid (not symmetric positive definite)", ErrShape, k.name)
		}
		var L mat.TriDense
		ch.LTo(&L)
		put(0, &L)
	case laSolve:
		if m == 0 {
			return nil
		}
		var src mat.Matrix = A
		if k.adjoint {
			src = A.T()
		}
		var lu mat.LU
		lu.Factorize(src)
		if laSingular(&lu, m) {
			return fmt.Errorf("%w: op %s: input matrix is not invertible", ErrShape, k.name)
		}
		cols := rhsCols
		if cols == 0 {
			return nil
		}
		B := laMatrix(vals[1], b, m, cols)
		var X mat.Dense
		if err := lu.SolveTo(&X, false, B); err != nil && !laConditionOnly(err) {
			return fmt.Errorf("%w: op %s: %v", ErrShape, k.name, err)
		}
		put(0, &X)
	case laSvd:
		if m > 0 && n > 0 && n < laEigenSwitch {
			if k.dt == tensor.Float64 {
				laSvdJacobi[float64](b, m, n, k.uv, k.full, vals[0], outs)
			} else {
				laSvdJacobi[float32](b, m, n, k.uv, k.full, vals[0], outs)
			}
			return nil
		}
		var svd mat.SVD
		kind := mat.SVDNone
		if k.uv {
			kind = mat.SVDThin
			if k.full {
				kind = mat.SVDFull
			}
		}
		if m > 0 && n > 0 {
			if !svd.Factorize(A, kind) {
				return fmt.Errorf("%w: op %s: SVD did not converge", ErrShape, k.name)
			}
			p := min(m, n)
			copy(outs[0][b*p:(b+1)*p], svd.Values(nil))
			if k.uv {
				var U, V mat.Dense
				svd.UTo(&U)
				svd.VTo(&V)
				put(1, &U)
				put(2, &V)
			}
		} else if k.uv && k.full {
			put(1, laEye(m))
			put(2, laEye(n))
		}
	case laEig:
		if m == 0 {
			return nil
		}
		sym := mat.NewSymDense(m, nil)
		for i := 0; i < m; i++ {
			for j := 0; j <= i; j++ {
				sym.SetSym(i, j, A.At(i, j))
			}
		}
		var es mat.EigenSym
		if !es.Factorize(sym, k.uv) {
			return fmt.Errorf("%w: op %s: eigendecomposition did not converge", ErrShape, k.name)
		}
		copy(outs[0][b*m:(b+1)*m], es.Values(nil))
		if k.uv {
			var V mat.Dense
			es.VectorsTo(&V)
			put(1, &V)
		}
	}
	return nil
}

// laSvdJacobi computes matrix b of the batch with laJacobiSVD in T's
// precision and stores s, U and V (when uv) into outs.
func laSvdJacobi[T float32 | float64](b, m, n int, uv, full bool, vals []float64, outs [][]float64) {
	a := make([]T, m*n)
	for i, x := range vals[b*m*n : (b+1)*m*n] {
		a[i] = T(x)
	}
	s, u, v := laJacobiSVD(a, m, n, uv, full)
	p := len(s)
	for i, x := range s {
		outs[0][b*p+i] = float64(x)
	}
	if !uv {
		return
	}
	for o, x := range []*laDense[T]{u, v} {
		dst := outs[o+1][b*len(x.d) : (b+1)*len(x.d)]
		for i, e := range x.d {
			dst[i] = float64(e)
		}
	}
}

// laSingular reports whether a factorized m×m matrix is exactly singular
// (a zero pivot).
func laSingular(lu *mat.LU, m int) bool {
	if m == 0 {
		return false
	}
	logAbs, _ := lu.LogDet()
	return math.IsInf(logAbs, -1) || math.IsNaN(logAbs)
}

// laConditionOnly reports whether err only warns of ill-conditioning
// (the result is still computed, as TensorFlow computes it).
func laConditionOnly(err error) bool {
	_, ok := err.(mat.Condition)
	return ok
}

func laEye(n int) *mat.Dense {
	d := mat.NewDense(max(n, 1), max(n, 1), nil)
	for i := 0; i < n; i++ {
		d.Set(i, i, 1)
	}
	if n == 0 {
		return &mat.Dense{}
	}
	return d
}
