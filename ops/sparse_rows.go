package ops

import (
	"fmt"

	"github.com/tfdgo/tfd/tensor"
)

// SparseFillEmptyRows and SparseReshape, the sparse-tensor ops that feature
// columns (tf.feature_column, tf.estimator) put between a parsed
// tf.Example and an embedding lookup. A sparse tensor is given as indices
// (int64 [N, rank]), values ([N]) and a dense shape (int64 [rank]).
//
//   - SparseFillEmptyRows(indices, values, dense_shape, default_value)
//     (tensorflow/core/kernels/sparse_fill_empty_rows_op.cc) adds the entry
//     [r, 0, ...] = default_value for every row r of the dense shape that
//     has no entry. The output groups entries by row, rows in order, the
//     entries of a row in input order; when every row has an entry and the
//     rows are already in order the input is returned unchanged. It also
//     outputs empty_row_indicator (bool [rows]) and reverse_index_map
//     (int64 [N]: where input entry i went).
//   - SparseReshape(input_indices, input_shape, new_shape)
//     (tensorflow/core/kernels/reshape_util.cc) re-indexes the entries for
//     a new dense shape of the same size, row-major; one dimension of
//     new_shape may be -1 and is inferred.

func init() {
	Default().Register(Spec{Name: "SparseFillEmptyRows", Doc: "fills the empty rows of a sparse tensor with a default value at column 0",
		Infer: sprowInferFill, Build: sprowBuildFill})
	Default().Register(Spec{Name: "SparseReshape", Doc: "re-indexes a sparse tensor for a new dense shape (one dimension may be -1)",
		Infer: sprowInferReshape, Build: sprowBuildReshape})
}

func sprowInferFill(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 4); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 1, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	rank := -1
	if s := n.Inputs[0].Shape; !s.UnknownRank && len(s.Dims) == 2 {
		rank = s.Dims[1]
	}
	vec := tensor.PartialShape{Dims: []int{-1}}
	return []Value{
		{DType: tensor.Int64, Shape: tensor.PartialShape{Dims: []int{-1, rank}}},
		{DType: dt, Shape: vec},
		{DType: tensor.Bool, Shape: vec},
		{DType: tensor.Int64, Shape: vec},
	}, nil
}

// sprowSparse checks indices [N, rank], values [N] and dense_shape
// [rank] and returns N and rank.
func sprowSparse(op string, indices, values, shape *tensor.Tensor) (int, int, error) {
	if indices.DType() != tensor.Int64 || shape.DType() != tensor.Int64 {
		return 0, 0, fmt.Errorf("%w: op %s: indices and dense_shape must be int64, got %s and %s", ErrDType, op, indices.DType(), shape.DType())
	}
	if indices.Rank() != 2 || shape.Rank() != 1 || (values != nil && values.Rank() != 1) {
		return 0, 0, fmt.Errorf("%w: op %s: expected indices [N, rank], values [N] and dense_shape [rank], got %v, %v and %v", ErrShape, op, indices.Shape(), values.Shape(), shape.Shape())
	}
	n, rank := indices.Shape()[0], indices.Shape()[1]
	if values != nil && values.Shape()[0] != n {
		return 0, 0, fmt.Errorf("%w: op %s: %d values for %d indices", ErrShape, op, values.Shape()[0], n)
	}
	if shape.Len() != rank {
		return 0, 0, fmt.Errorf("%w: op %s: indices have rank %d, dense_shape %v has %d dimensions", ErrShape, op, rank, tensor.As[int64](shape), shape.Len())
	}
	return n, rank, nil
}

func sprowBuildFill(n *Node) (Kernel, error) {
	dt, err := InputDType(n, 1, "T")
	if err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	mv, err := arrMoverFor(n.Op, dt)
	if err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		const op = "SparseFillEmptyRows"
		indices, values, shape, def := in[0], in[1], in[2], in[3]
		nnz, rank, err := sprowSparse(op, indices, values, shape)
		if err != nil {
			return nil, err
		}
		if values.DType() != dt || def.DType() != dt {
			return nil, fmt.Errorf("%w: op %s: values are %s and the default %s, expected %s", ErrDType, op, values.DType(), def.DType(), dt)
		}
		if def.Rank() != 0 {
			return nil, fmt.Errorf("%w: op %s: default_value must be a scalar, got %v", ErrShape, op, def.Shape())
		}
		if rank == 0 {
			return nil, fmt.Errorf("%w: op %s: the dense shape cannot be empty", ErrShape, op)
		}
		rows64 := tensor.As[int64](shape)[0]
		if rows64 < 0 || (ctx.MaxElements > 0 && rows64 > int64(ctx.MaxElements)) || rows64 > int64(tensor.HardMaxElements) {
			return nil, fmt.Errorf("%w: op %s: dense_shape[0] = %d is out of range", ErrShape, op, rows64)
		}
		rows := int(rows64)
		idx := tensor.As[int64](indices)
		count := make([]int, rows)
		ordered := true
		for i := 0; i < nnz; i++ {
			r := idx[i*rank]
			if r < 0 || r >= rows64 {
				return nil, fmt.Errorf("%w: op %s: indices[%d, 0] = %d is out of range [0, %d)", ErrShape, op, i, r, rows)
			}
			count[r]++
			if i > 0 && r < idx[(i-1)*rank] {
				ordered = false
			}
		}
		empty, err := ctx.Alloc(tensor.Bool, tensor.Shape{rows})
		if err != nil {
			return nil, err
		}
		reverse, err := ctx.Alloc(tensor.Int64, tensor.Shape{nnz})
		if err != nil {
			return nil, err
		}
		emp, rev := tensor.As[bool](empty), tensor.As[int64](reverse)
		// start[r] is where row r begins in the output.
		start := make([]int, rows+1)
		full := true
		for r := 0; r < rows; r++ {
			emp[r] = count[r] == 0
			full = full && count[r] > 0
			start[r+1] = start[r] + max(count[r], 1)
		}
		if full && ordered {
			for i := range rev {
				rev[i] = int64(i)
			}
			oi, err := indices.View(indices.Shape())
			if err != nil {
				return nil, err
			}
			ov, err := values.View(values.Shape())
			if err != nil {
				return nil, err
			}
			return []*tensor.Tensor{oi, ov, empty, reverse}, nil
		}
		total := start[rows]
		outIdx, err := ctx.Zeros(tensor.Int64, tensor.Shape{total, rank})
		if err != nil {
			return nil, err
		}
		outVal, err := ctx.Alloc(dt, tensor.Shape{total})
		if err != nil {
			return nil, err
		}
		oi := tensor.As[int64](outIdx)
		filled := make([]int, rows)
		for i := 0; i < nnz; i++ {
			r := idx[i*rank]
			pos := start[r] + filled[r]
			filled[r]++
			copy(oi[pos*rank:(pos+1)*rank], idx[i*rank:(i+1)*rank])
			mv.copyND(nil, outVal, pos, values, i, []arrDim{{n: 1, ds: 1, ss: 1}})
			rev[i] = int64(pos)
		}
		for r := 0; r < rows; r++ {
			if count[r] == 0 {
				pos := start[r]
				oi[pos*rank] = int64(r) // the other coordinates are zero
				mv.copyND(nil, outVal, pos, def, 0, []arrDim{{n: 1, ds: 1, ss: 1}})
			}
		}
		return []*tensor.Tensor{outIdx, outVal, empty, reverse}, nil
	}), nil
}

func sprowInferReshape(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 3); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	rank := -1
	if s := n.Inputs[2].Shape; !s.UnknownRank && len(s.Dims) == 1 {
		rank = s.Dims[0]
	}
	return []Value{
		{DType: tensor.Int64, Shape: tensor.PartialShape{Dims: []int{-1, rank}}},
		{DType: tensor.Int64, Shape: tensor.PartialShape{Dims: []int{rank}}},
	}, nil
}

func sprowBuildReshape(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		const op = "SparseReshape"
		indices, shape, want := in[0], in[1], in[2]
		nnz, rank, err := sprowSparse(op, indices, nil, shape)
		if err != nil {
			return nil, err
		}
		if want.DType() != tensor.Int64 || want.Rank() != 1 {
			return nil, fmt.Errorf("%w: op %s: new_shape must be an int64 vector, got %s%v", ErrShape, op, want.DType(), want.Shape())
		}
		inDims := tensor.As[int64](shape)
		dense := int64(1)
		for _, d := range inDims {
			if d < 0 {
				return nil, fmt.Errorf("%w: op %s: input_shape %v has a negative dimension", ErrShape, op, inDims)
			}
			if d != 0 && dense > (1<<62)/d {
				return nil, fmt.Errorf("%w: op %s: input_shape %v has too many elements", ErrShape, op, inDims)
			}
			dense *= d
		}
		newDims := append([]int64(nil), tensor.As[int64](want)...)
		unknown := -1
		product := int64(1)
		for i, d := range newDims {
			switch {
			case d == -1:
				if unknown >= 0 {
					return nil, fmt.Errorf("%w: op %s: only one dimension of new_shape %v may be -1", ErrShape, op, newDims)
				}
				unknown = i
			case d < 0:
				return nil, fmt.Errorf("%w: op %s: dimension %d of new_shape is %d, must be -1 or non-negative", ErrShape, op, i, d)
			default:
				if d != 0 && product > (1<<62)/d {
					return nil, fmt.Errorf("%w: op %s: new_shape %v has too many elements", ErrShape, op, newDims)
				}
				product *= d
			}
		}
		if unknown >= 0 {
			if product == 0 {
				return nil, fmt.Errorf("%w: op %s: cannot infer the -1 dimension of %v when another dimension is 0", ErrShape, op, newDims)
			}
			if dense%product != 0 {
				return nil, fmt.Errorf("%w: op %s: %d dense values (shape %v) do not fill shape %v", ErrShape, op, dense, inDims, newDims)
			}
			newDims[unknown] = dense / product
			product = dense
		}
		if product != dense {
			return nil, fmt.Errorf("%w: op %s: input has %d dense values (shape %v), new_shape %v has %d", ErrShape, op, dense, inDims, newDims, product)
		}
		outRank := len(newDims)
		outIdx, err := ctx.Alloc(tensor.Int64, tensor.Shape{nnz, outRank})
		if err != nil {
			return nil, err
		}
		outShape, err := ctx.Alloc(tensor.Int64, tensor.Shape{outRank})
		if err != nil {
			return nil, err
		}
		copy(tensor.As[int64](outShape), newDims)
		idx, oi := tensor.As[int64](indices), tensor.As[int64](outIdx)
		for i := 0; i < nnz; i++ {
			var flat int64
			for j := 0; j < rank; j++ {
				c := idx[i*rank+j]
				if c < 0 || c >= inDims[j] {
					outIdx.Release()
					outShape.Release()
					return nil, fmt.Errorf("%w: op %s: index %v of entry %d is out of the shape %v", ErrShape, op, idx[i*rank:(i+1)*rank], i, inDims)
				}
				flat = flat*inDims[j] + c
			}
			for j := outRank - 1; j >= 0; j-- {
				d := newDims[j]
				if d == 0 {
					break // no entry can exist in an empty shape
				}
				oi[i*outRank+j] = flat % d
				flat /= d
			}
		}
		return []*tensor.Tensor{outIdx, outShape}, nil
	}), nil
}
