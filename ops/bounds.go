package ops

import (
	"fmt"
	"sort"

	"github.com/tfdgo/tfd/tensor"
)

// UpperBound and LowerBound (tensorflow/core/kernels/searchsorted_op.cc):
// for each row b of sorted_inputs [B, N] (each row sorted ascending) and
// each value v of row b of values [B, M], the index of the first element
// of the row greater than v (UpperBound) or not less than v (LowerBound),
// as out_type (int32 or int64). tf.searchsorted and bucketizing feature
// transforms use them.

func init() {
	for _, upper := range []bool{true, false} {
		name, doc := "UpperBound", "per row, the index of the first sorted element greater than each value"
		if !upper {
			name, doc = "LowerBound", "per row, the index of the first sorted element not less than each value"
		}
		Default().Register(Spec{Name: name, Doc: doc, Infer: boundInfer, Build: boundBuild(upper)})
	}
}

func boundInfer(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, fmt.Errorf("op %s: %w", n.Op, err)
	}
	out, err := AttrType(n, "out_type")
	if err != nil {
		out = tensor.Int32
	}
	return []Value{{DType: out, Shape: n.Inputs[1].Shape}}, nil
}

func boundBuild(upper bool) BuildFunc {
	return func(n *Node) (Kernel, error) {
		dt, err := InputDType(n, 0, "T")
		if err != nil {
			return nil, fmt.Errorf("op %s: %w", n.Op, err)
		}
		out := tensor.Int32
		if t, ok, err := n.Attrs.Type("out_type"); err != nil {
			return nil, fmt.Errorf("%w: op %s: %v", ErrAttr, n.Op, err)
		} else if ok {
			out = t
		}
		if out != tensor.Int32 && out != tensor.Int64 {
			return nil, fmt.Errorf("%w: op %s: out_type %s not supported (supported: int32, int64)", ErrDType, n.Op, out)
		}
		var search func(sorted, values, dst *tensor.Tensor, b, nn, m int)
		switch dt {
		case tensor.Float32:
			search = boundSearch[float32](upper)
		case tensor.Float64:
			search = boundSearch[float64](upper)
		case tensor.Int32:
			search = boundSearch[int32](upper)
		case tensor.Int64:
			search = boundSearch[int64](upper)
		default:
			return nil, fmt.Errorf("%w: op %s: dtype %s not supported (supported: float32, float64, int32, int64)", ErrDType, n.Op, dt)
		}
		op := n.Op
		return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			sorted, values := in[0], in[1]
			if sorted.DType() != dt || values.DType() != dt {
				return nil, fmt.Errorf("%w: op %s: inputs are %s and %s, expected %s", ErrDType, op, sorted.DType(), values.DType(), dt)
			}
			if sorted.Rank() != 2 || values.Rank() != 2 || sorted.Shape()[0] != values.Shape()[0] {
				return nil, fmt.Errorf("%w: op %s: expected sorted_inputs [B, N] and values [B, M], got %v and %v", ErrShape, op, sorted.Shape(), values.Shape())
			}
			b, nn, m := sorted.Shape()[0], sorted.Shape()[1], values.Shape()[1]
			if out == tensor.Int32 && nn > 1<<31-1 {
				return nil, fmt.Errorf("%w: op %s: %d sorted elements do not fit int32 indices", ErrShape, op, nn)
			}
			dst, err := ctx.Alloc(tensor.Int64, values.Shape())
			if err != nil {
				return nil, err
			}
			search(sorted, values, dst, b, nn, m)
			if out == tensor.Int64 {
				return []*tensor.Tensor{dst}, nil
			}
			res, err := ctx.Alloc(tensor.Int32, values.Shape())
			if err != nil {
				return nil, err
			}
			r := tensor.As[int32](res)
			for i, v := range tensor.As[int64](dst) {
				r[i] = int32(v)
			}
			dst.Release()
			return []*tensor.Tensor{res}, nil
		}), nil
	}
}

func boundSearch[T float32 | float64 | int32 | int64](upper bool) func(sorted, values, dst *tensor.Tensor, b, nn, m int) {
	return func(sorted, values, dst *tensor.Tensor, b, nn, m int) {
		s, v, d := tensor.As[T](sorted), tensor.As[T](values), tensor.As[int64](dst)
		for r := 0; r < b; r++ {
			row := s[r*nn : (r+1)*nn]
			for j := 0; j < m; j++ {
				x := v[r*m+j]
				if upper {
					d[r*m+j] = int64(sort.Search(nn, func(k int) bool { return x < row[k] }))
				} else {
					// std::lower_bound: the first element e with !(e < x).
					d[r*m+j] = int64(sort.Search(nn, func(k int) bool { return !(row[k] < x) }))
				}
			}
		}
	}
}
