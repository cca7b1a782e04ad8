package ops

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/tfdgo/tfd/tensor"
)

// More dense linear algebra on batches of matrices
// (tensorflow/core/kernels/linalg/), computed in float64 and rounded once:
//
//   - MatrixTriangularSolve(matrix, rhs; lower, adjoint) solves A·X = B
//     (Aᵀ·X = B with adjoint) by substitution, reading only the lower (or
//     upper) triangle of A; the batch dimensions of A and B broadcast. A
//     zero on the diagonal gives Inf or NaN, not an error, as in
//     TensorFlow.
//   - MatrixSolveLs(matrix, rhs, l2_regularizer; fast) returns the least
//     squares solution X of A·X ≈ B. With fast (the default) it solves the
//     regularized normal equations by Cholesky: (AᵀA + λI)·X = AᵀB when A
//     has at least as many rows as columns, X = Aᵀ·(AAᵀ + λI)⁻¹·B
//     otherwise; a matrix the factorization rejects is an error, as in
//     TensorFlow. Without fast it returns the minimum-norm solution (the
//     pseudo-inverse, singular values below ε·max(M, N)·σ₁ dropped) and
//     ignores λ.
//   - SelfAdjointEig (the deprecated first version) returns [..., M+1, M]:
//     row 0 holds the eigenvalues in increasing order and rows 1.. the
//     eigenvectors as columns (unique only up to sign).

func init() {
	Default().Register(Spec{
		Name:  "MatrixTriangularSolve",
		Doc:   "solutions X of A·X = B (or Aᵀ·X = B) for batched triangular A (attrs lower, adjoint)",
		Infer: laInferTriSolve,
		Build: laBuildTriSolve,
	})
	Default().Register(Spec{
		Name:  "MatrixSolveLs",
		Doc:   "least-squares solutions of A·X ≈ B for batched A, with l2 regularization (attr fast)",
		Infer: laInferSolveLs,
		Build: laBuildSolveLs,
	})
	Default().Register(Spec{
		Name:  "SelfAdjointEig",
		Doc:   "eigenvalues (row 0) and eigenvectors (rows 1..) of batched symmetric matrices, as [..., M+1, M]",
		Infer: laInferEigV1,
		Build: laBuildEigV1,
	})
}

// laFloatDType reads input 0's dtype, which must be a float type, and
// checks that the other inputs listed in same share it.
func laFloatDType(n *Node, k int, same ...int) (tensor.DType, error) {
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
	for _, i := range same {
		if b := n.Inputs[i].DType.Base(); b != tensor.Invalid && b != dt {
			return tensor.Invalid, fmt.Errorf("%w: op %s: input %d is %s but matrix is %s", ErrDType, n.Op, i, b, dt)
		}
	}
	return dt, nil
}

// laTriSolveShape returns the output shape of MatrixTriangularSolve.
func laTriSolveShape(op string, a, b tensor.Shape) (tensor.Shape, error) {
	if len(a) < 2 || len(b) < 2 {
		return nil, fmt.Errorf("%w: op %s: inputs must have rank ≥ 2, got %v and %v", ErrShape, op, a, b)
	}
	m := a[len(a)-1]
	if a[len(a)-2] != m {
		return nil, fmt.Errorf("%w: op %s: matrices must be square, got %v", ErrShape, op, a)
	}
	if b[len(b)-2] != m {
		return nil, fmt.Errorf("%w: op %s: rhs %v does not fit matrix %v", ErrShape, op, b, a)
	}
	batch, err := BroadcastShapes(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, fmt.Errorf("op %s: batch dimensions: %w", op, err)
	}
	return append(batch, m, b[len(b)-1]), nil
}

func laInferTriSolve(n *Node) ([]Value, error) {
	dt, err := laFloatDType(n, 2, 1)
	if err != nil {
		return nil, err
	}
	a, okA := n.Inputs[0].Shape.Shape()
	b, okB := n.Inputs[1].Shape.Shape()
	if !okA || !okB {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	s, err := laTriSolveShape(n.Op, a, b)
	if err != nil {
		return nil, err
	}
	return []Value{{DType: dt, Shape: tensor.Known(s)}}, nil
}

type laTriSolve struct {
	name           string
	dt             tensor.DType
	lower, adjoint bool
}

func laBuildTriSolve(n *Node) (Kernel, error) {
	if _, err := laInferTriSolve(n); err != nil {
		return nil, err
	}
	dt, _ := laFloatDType(n, 2)
	lower, err := AttrBool(n, "lower", true)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	adjoint, err := AttrBool(n, "adjoint", false)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return &laTriSolve{name: n.Op, dt: dt, lower: lower, adjoint: adjoint}, nil
}

// laBatchIndex maps output batch index i (over shape out) to the flat
// batch index of an input with batch shape in (broadcast against out).
func laBatchIndex(i int, out, in tensor.Shape) int {
	idx, stride := 0, 1
	for d := len(out) - 1; d >= 0; d-- {
		c := i % out[d]
		i /= out[d]
		j := d - (len(out) - len(in))
		if j < 0 {
			continue
		}
		if in[j] != 1 {
			idx += c * stride
		}
		stride *= in[j]
	}
	return idx
}

func (k *laTriSolve) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%w: op %s: expected 2 inputs, got %d", ErrShape, k.name, len(in))
	}
	for i, t := range in {
		if t.DType() != k.dt {
			return nil, fmt.Errorf("%w: op %s: input %d is %s, expected %s", ErrDType, k.name, i, t.DType(), k.dt)
		}
	}
	as, bs := in[0].Shape(), in[1].Shape()
	os, err := laTriSolveShape(k.name, as, bs)
	if err != nil {
		return nil, err
	}
	m, cols := os[len(os)-2], os[len(os)-1]
	outBatch := os[:len(os)-2]
	a, b := in[0].Float64s(), in[1].Float64s()
	res := make([]float64, os.Size())
	for bi := 0; bi < outBatch.Size(); bi++ {
		if bi%256 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		am := a[laBatchIndex(bi, outBatch, as[:len(as)-2])*m*m:]
		bm := b[laBatchIndex(bi, outBatch, bs[:len(bs)-2])*m*cols:]
		x := res[bi*m*cols : (bi+1)*m*cols]
		copy(x, bm[:m*cols])
		// at(i, j) is the coefficient of the system actually solved.
		at := func(i, j int) float64 { return am[i*m+j] }
		if k.adjoint {
			at = func(i, j int) float64 { return am[j*m+i] }
		}
		// Lower without adjoint, or upper with it, is a lower system.
		if k.lower != k.adjoint {
			for i := 0; i < m; i++ {
				for c := 0; c < cols; c++ {
					s := x[i*cols+c]
					for j := 0; j < i; j++ {
						s -= at(i, j) * x[j*cols+c]
					}
					x[i*cols+c] = s / at(i, i)
				}
			}
		} else {
			for i := m - 1; i >= 0; i-- {
				for c := 0; c < cols; c++ {
					s := x[i*cols+c]
					for j := i + 1; j < m; j++ {
						s -= at(i, j) * x[j*cols+c]
					}
					x[i*cols+c] = s / at(i, i)
				}
			}
		}
	}
	return laStore(ctx, k.dt, os, res)
}

// laStore allocates a dt tensor of shape s holding v, rounded once.
func laStore(ctx *Ctx, dt tensor.DType, s tensor.Shape, v []float64) ([]*tensor.Tensor, error) {
	t, err := ctx.Alloc(dt, s)
	if err != nil {
		return nil, err
	}
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
		if r := mathRounder(dt); r != nil {
			r(d)
		}
	}
	return []*tensor.Tensor{t}, nil
}

// laSolveLsShape returns the output shape of MatrixSolveLs.
func laSolveLsShape(op string, a, b tensor.Shape) (tensor.Shape, error) {
	if len(a) < 2 || len(b) != len(a) || !a[:len(a)-2].Equal(b[:len(b)-2]) || a[len(a)-2] != b[len(b)-2] {
		return nil, fmt.Errorf("%w: op %s: rhs %v does not fit matrix %v (same batch dimensions and rows expected)", ErrShape, op, b, a)
	}
	return append(a[:len(a)-2].Clone(), a[len(a)-1], b[len(b)-1]), nil
}

func laInferSolveLs(n *Node) ([]Value, error) {
	dt, err := laFloatDType(n, 3, 1)
	if err != nil {
		return nil, err
	}
	a, okA := n.Inputs[0].Shape.Shape()
	b, okB := n.Inputs[1].Shape.Shape()
	if !okA || !okB {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	s, err := laSolveLsShape(n.Op, a, b)
	if err != nil {
		return nil, err
	}
	return []Value{{DType: dt, Shape: tensor.Known(s)}}, nil
}

type laSolveLs struct {
	name string
	dt   tensor.DType
	fast bool
}

func laBuildSolveLs(n *Node) (Kernel, error) {
	if _, err := laInferSolveLs(n); err != nil {
		return nil, err
	}
	dt, _ := laFloatDType(n, 3)
	fast, err := AttrBool(n, "fast", true)
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	return &laSolveLs{name: n.Op, dt: dt, fast: fast}, nil
}

func (k *laSolveLs) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%w: op %s: expected 3 inputs, got %d", ErrShape, k.name, len(in))
	}
	for i, t := range in[:2] {
		if t.DType() != k.dt {
			return nil, fmt.Errorf("%w: op %s: input %d is %s, expected %s", ErrDType, k.name, i, t.DType(), k.dt)
		}
	}
	if in[2].Len() != 1 || !in[2].DType().IsFloat() {
		return nil, fmt.Errorf("%w: op %s: l2_regularizer must be a float scalar, got %s%v", ErrShape, k.name, in[2].DType(), in[2].Shape())
	}
	lambda := in[2].Float64s()[0]
	if !(lambda >= 0) {
		return nil, fmt.Errorf("%w: op %s: l2_regularizer must be >= 0, got %v", ErrShape, k.name, lambda)
	}
	as, bs := in[0].Shape(), in[1].Shape()
	os, err := laSolveLsShape(k.name, as, bs)
	if err != nil {
		return nil, err
	}
	m, n, cols := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	a, b := in[0].Float64s(), in[1].Float64s()
	res := make([]float64, os.Size())
	for bi := 0; bi < as[:len(as)-2].Size(); bi++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if m == 0 || n == 0 || cols == 0 {
			continue // the empty system's solution is 0
		}
		A := mat.NewDense(m, n, append([]float64(nil), a[bi*m*n:(bi+1)*m*n]...))
		B := mat.NewDense(m, cols, append([]float64(nil), b[bi*m*cols:(bi+1)*m*cols]...))
		var X mat.Dense
		if k.fast {
			if err := laNormalEquations(&X, A, B, lambda); err != nil {
				return nil, fmt.Errorf("%w: op %s: %v", ErrShape, k.name, err)
			}
		} else if err := laMinNorm(&X, A, B); err != nil {
			return nil, fmt.Errorf("%w: op %s: %v", ErrShape, k.name, err)
		}
		dst := res[bi*n*cols : (bi+1)*n*cols]
		for i := 0; i < n; i++ {
			for j := 0; j < cols; j++ {
				dst[i*cols+j] = X.At(i, j)
			}
		}
	}
	return laStore(ctx, k.dt, os, res)
}

// laNormalEquations solves min ‖A·X − B‖² + λ‖X‖² through the Cholesky
// factor of the Gram matrix (AᵀA or AAᵀ, whichever is smaller).
func laNormalEquations(X *mat.Dense, A, B *mat.Dense, lambda float64) error {
	m, n := A.Dims()
	size := min(m, n)
	var g mat.Dense
	if m >= n {
		g.Mul(A.T(), A)
	} else {
		g.Mul(A, A.T())
	}
	sym := mat.NewSymDense(size, nil)
	for i := 0; i < size; i++ {
		for j := 0; j <= i; j++ {
			v := g.At(i, j)
			if i == j {
				v += lambda
			}
			sym.SetSym(i, j, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return fmt.Errorf("input matrix was rank deficient or ill-conditioned; try fast=false or a larger l2_regularizer")
	}
	if m >= n {
		var atb mat.Dense
		atb.Mul(A.T(), B)
		return laIgnoreCondition(ch.SolveTo(X, &atb))
	}
	var y mat.Dense
	if err := laIgnoreCondition(ch.SolveTo(&y, B)); err != nil {
		return err
	}
	X.Mul(A.T(), &y)
	return nil
}

// laMinNorm returns the minimum-norm least-squares solution pinv(A)·B.
func laMinNorm(X *mat.Dense, A, B *mat.Dense) error {
	m, n := A.Dims()
	if m == 0 || n == 0 {
		return nil
	}
	var svd mat.SVD
	if !svd.Factorize(A, mat.SVDThin) {
		return fmt.Errorf("SVD did not converge")
	}
	s := svd.Values(nil)
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	tol := 0.0
	if len(s) > 0 {
		tol = s[0] * float64(max(m, n)) * 0x1p-52
	}
	// X = V·diag(1/s)·Uᵀ·B over the singular values above tol.
	var utb mat.Dense
	utb.Mul(U.T(), B)
	r, c := utb.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if s[i] > tol {
				utb.Set(i, j, utb.At(i, j)/s[i])
			} else {
				utb.Set(i, j, 0)
			}
		}
	}
	X.Mul(&V, &utb)
	return nil
}

func laIgnoreCondition(err error) error {
	if err != nil && !laConditionOnly(err) {
		return err
	}
	return nil
}

func laInferEigV1(n *Node) ([]Value, error) {
	dt, err := laFloatDType(n, 1)
	if err != nil {
		return nil, err
	}
	s := n.Inputs[0].Shape
	if s.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	if len(s.Dims) < 2 {
		return nil, fmt.Errorf("%w: op %s: input must have rank ≥ 2, got %d", ErrShape, n.Op, len(s.Dims))
	}
	dims := append([]int(nil), s.Dims...)
	r, c := dims[len(dims)-2], dims[len(dims)-1]
	if r >= 0 && c >= 0 && r != c {
		return nil, fmt.Errorf("%w: op %s: input matrices must be square, got %v", ErrShape, n.Op, dims)
	}
	m := max(r, c)
	dims[len(dims)-2], dims[len(dims)-1] = -1, m
	if m >= 0 {
		dims[len(dims)-2] = m + 1
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: dims}}}, nil
}

type laEigV1 struct {
	name string
	dt   tensor.DType
}

func laBuildEigV1(n *Node) (Kernel, error) {
	if _, err := laInferEigV1(n); err != nil {
		return nil, err
	}
	dt, _ := laFloatDType(n, 1)
	return &laEigV1{name: n.Op, dt: dt}, nil
}

func (k *laEigV1) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 1 || in[0].DType() != k.dt {
		return nil, fmt.Errorf("%w: op %s: expected one %s input", ErrDType, k.name, k.dt)
	}
	s := in[0].Shape()
	if len(s) < 2 || s[len(s)-1] != s[len(s)-2] {
		return nil, fmt.Errorf("%w: op %s: input matrices must be square, got %v", ErrShape, k.name, s)
	}
	m := s[len(s)-1]
	os := append(s[:len(s)-2].Clone(), m+1, m)
	a := in[0].Float64s()
	res := make([]float64, os.Size())
	for bi := 0; bi < s[:len(s)-2].Size() && m > 0; bi++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sym := mat.NewSymDense(m, nil)
		for i := 0; i < m; i++ {
			for j := 0; j <= i; j++ {
				sym.SetSym(i, j, a[bi*m*m+i*m+j])
			}
		}
		var es mat.EigenSym
		if !es.Factorize(sym, true) {
			return nil, fmt.Errorf("%w: op %s: eigendecomposition did not converge", ErrShape, k.name)
		}
		dst := res[bi*(m+1)*m:]
		copy(dst, es.Values(nil))
		var V mat.Dense
		es.VectorsTo(&V)
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				dst[(i+1)*m+j] = V.At(i, j)
			}
		}
	}
	return laStore(ctx, k.dt, os, res)
}
