package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/tfdgo/tfd/tensor"
)

// Reshape, Squeeze and ExpandDims: zero-copy views with a new shape.
// Semantics: tensorflow/core/ops/array_ops.cc, tensorflow/core/kernels/
// reshape_op.h, squeeze_op.h, shape_ops.h (ExpandDims).

func init() {
	Default().Register(Spec{
		Name:  "Reshape",
		Doc:   "its input with a new shape (one -1 dimension is inferred)",
		Infer: arrFold(inferReshape, buildReshape),
		Build: buildReshape,
		Batch: batchReshape,
	})
	Default().Register(Spec{
		Name:  "Squeeze",
		Doc:   "its input without the given (or all) size-1 dimensions",
		Infer: arrFold(inferSqueeze, buildSqueeze),
		Build: buildSqueeze,
		Batch: batchSqueeze,
	})
	Default().Register(Spec{
		Name:  "ExpandDims",
		Doc:   "its input with a size-1 dimension inserted at dim",
		Infer: arrFold(inferExpandDims, buildExpandDims),
		Build: buildExpandDims,
		Batch: batchExpandDims,
	})
}

// arrReshapeShape computes Reshape's output shape for an input of shape in
// and requested sizes, as TensorFlow's ReshapeOp does: one -1 is inferred
// from the other sizes; zero sizes are left out of the product so that the
// -1 stays inferable for empty tensors.
func arrReshapeShape(in tensor.Shape, sizes []int64) (tensor.Shape, error) {
	return arrReshapeShapeTo(make(tensor.Shape, len(sizes)), in, sizes)
}

// arrReshapeShapeTo is arrReshapeShape writing the shape into out, which
// has len(sizes) elements (whatever they hold).
func arrReshapeShapeTo(out tensor.Shape, in tensor.Shape, sizes []int64) (tensor.Shape, error) {
	clear(out)
	product := int64(1)
	unknown := -1
	hasZero := false
	for d, s := range sizes {
		switch {
		case s == -1:
			if unknown >= 0 {
				return nil, fmt.Errorf("%w: op Reshape: only one size may be -1, not both %d and %d (requested shape %v)", ErrShape, unknown, d, sizes)
			}
			unknown = d
			out[d] = 1
		case s < 0:
			return nil, fmt.Errorf("%w: op Reshape: size %d must be non-negative, not %d (requested shape %v)", ErrShape, d, s, sizes)
		case s == 0:
			hasZero = true
		default:
			if s > math.MaxInt || product > math.MaxInt/s {
				return nil, fmt.Errorf("%w: op Reshape: requested shape %v has too many elements", ErrLimit, sizes)
			}
			product *= s
			out[d] = int(s)
		}
	}
	inN, err := in.NumElements()
	if err != nil {
		return nil, err
	}
	if unknown >= 0 {
		num := int64(1)
		inHasZero := false
		for _, d := range in {
			if d > 0 || !hasZero {
				num *= int64(d)
			} else {
				inHasZero = true
			}
		}
		missing := num / product
		if !inHasZero && missing*product != num {
			return nil, fmt.Errorf("%w: op Reshape: input has %d values (shape %v), which the requested shape %v cannot hold: not a multiple of %d", ErrShape, num, in, sizes, product)
		}
		out[unknown] = int(missing)
	}
	outN, err := out.NumElements()
	if err != nil {
		return nil, fmt.Errorf("%w: op Reshape: requested shape %v has too many elements", ErrLimit, sizes)
	}
	if outN != inN {
		return nil, fmt.Errorf("%w: op Reshape: input has %d values (shape %v), but the requested shape %v has %d", ErrShape, inN, in, sizes, outN)
	}
	return out, nil
}

func inferReshape(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, fmt.Errorf("op Reshape: %w", err)
	}
	dt, err := arrInDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	in := n.Inputs[0].Shape
	sizes, ok := arrConstInts(n, 1)
	if !ok {
		s := n.Inputs[1].Shape
		if !s.UnknownRank && len(s.Dims) == 1 && s.Dims[0] >= 0 {
			dims := make([]int, s.Dims[0])
			for i := range dims {
				dims[i] = -1
			}
			return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: dims}}}, nil
		}
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	if s, ok := in.Shape(); ok {
		out, err := arrReshapeShape(s, sizes)
		if err != nil {
			return nil, err
		}
		return []Value{{DType: dt, Shape: tensor.Known(out)}}, nil
	}
	dims := make([]int, len(sizes))
	unknown := -1
	for i, s := range sizes {
		if s < -1 {
			return nil, fmt.Errorf("%w: op Reshape: size %d must be non-negative, not %d (requested shape %v)", ErrShape, i, s, sizes)
		}
		if s == -1 {
			if unknown >= 0 {
				return nil, fmt.Errorf("%w: op Reshape: only one size may be -1, not both %d and %d (requested shape %v)", ErrShape, unknown, i, sizes)
			}
			unknown = i
		}
		dims[i] = int(s)
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: dims}}}, nil
}

func buildReshape(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, fmt.Errorf("op Reshape: %w", err)
	}
	if _, err := arrInDType(n, 0, "T"); err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		kp := Keep[arrReshapeKeep](ctx)
		sizes, err := arrVectorTo(&kp.sizes, "Reshape", "shape", in[1], true)
		if err != nil {
			return nil, err
		}
		kp.shape = slices.Grow(kp.shape[:0], len(sizes))[:len(sizes)]
		out, err := arrReshapeShapeTo(kp.shape, in[0].Shape(), sizes)
		if err != nil {
			return nil, err
		}
		v, err := ctx.View(in[0], out)
		if err != nil {
			return nil, fmt.Errorf("%w: op Reshape: %v", ErrShape, err)
		}
		return ctx.Out(v), nil
	}), nil
}

// arrReshapeKeep is what a Reshape node keeps from call to call (Keep):
// room for the sizes (when int32) and for the output shape.
type arrReshapeKeep struct {
	sizes []int64
	shape tensor.Shape
}

// batchReshape keeps the batch on axis 0 only when the requested shape is a
// constant [-1, d1, ..., dk] whose trailing product equals the (known,
// non-zero) product of the input's trailing dimensions: then every slice of
// rows maps to the same rows of the output.
func batchReshape(n *Node, batched []bool) ([]bool, bool) {
	if arrIndexBatched(batched, 1) {
		return nil, false
	}
	if len(batched) == 0 || !batched[0] {
		return []bool{false}, true
	}
	in := n.Inputs[0].Shape
	if in.UnknownRank || len(in.Dims) == 0 {
		return nil, false
	}
	inTrail, ok := arrProd(in.Dims[1:])
	if !ok || inTrail == 0 {
		return nil, false
	}
	sizes, ok := arrConstInts(n, 1)
	if !ok || len(sizes) == 0 || sizes[0] != -1 {
		return nil, false
	}
	trail := make([]int, len(sizes)-1)
	for i, s := range sizes[1:] {
		if s <= 0 || s > math.MaxInt32 {
			return nil, false
		}
		trail[i] = int(s)
	}
	outTrail, ok := arrProd(trail)
	if !ok {
		return nil, false
	}
	if outTrail != inTrail {
		return nil, false
	}
	return []bool{true}, true
}

// arrSqueezeDims returns the squeeze_dims attr (or its newer name axis).
func arrSqueezeDims(n *Node) ([]int64, error) {
	dims, err := AttrInts(n, "squeeze_dims", nil)
	if err != nil {
		return nil, fmt.Errorf("op Squeeze: %w", err)
	}
	if dims == nil {
		if dims, err = AttrInts(n, "axis", nil); err != nil {
			return nil, fmt.Errorf("op Squeeze: %w", err)
		}
	}
	return dims, nil
}

// arrSqueezeShape returns the dimensions of in kept by Squeeze; unknown
// dimensions (-1) are kept unless listed.
func arrSqueezeShape(in []int, axes []int64) ([]int, error) {
	return arrSqueezeShapeTo(&arrShapeKeep{}, in, axes)
}

// arrSqueezeShapeTo is arrSqueezeShape using the storage of kp.
func arrSqueezeShapeTo(kp *arrShapeKeep, in []int, axes []int64) ([]int, error) {
	r := len(in)
	kp.drop = slices.Grow(kp.drop[:0], r)[:r]
	drop := kp.drop
	clear(drop)
	for _, a := range axes {
		ax, err := arrNormAxis("Squeeze", a, r)
		if err != nil {
			return nil, err
		}
		if in[ax] >= 0 && in[ax] != 1 {
			return nil, fmt.Errorf("%w: op Squeeze: cannot squeeze dim[%d] of shape %v: expected a dimension of 1, got %d", ErrShape, ax, tensor.PartialShape{Dims: slices.Clone(in)}, in[ax])
		}
		drop[ax] = true
	}
	out := slices.Grow(kp.shape[:0], r)
	for i, d := range in {
		if len(axes) == 0 {
			if d == 1 {
				continue
			}
			if d < 0 {
				return nil, nil // unknown whether it is squeezed
			}
		}
		if drop[i] {
			continue
		}
		out = append(out, d)
	}
	kp.shape = out
	return out, nil
}

// arrShapeKeep is what a Squeeze or ExpandDims node keeps from call to
// call (Keep): room for the output shape and the squeezed axes.
type arrShapeKeep struct {
	shape []int
	drop  []bool
}

func inferSqueeze(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op Squeeze: %w", err)
	}
	dt, err := arrInDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	axes, err := arrSqueezeDims(n)
	if err != nil {
		return nil, err
	}
	in := n.Inputs[0].Shape
	if in.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	out, err := arrSqueezeShape(in.Dims, axes)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: out}}}, nil
}

func buildSqueeze(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 1); err != nil {
		return nil, fmt.Errorf("op Squeeze: %w", err)
	}
	if _, err := arrInDType(n, 0, "T"); err != nil {
		return nil, err
	}
	axes, err := arrSqueezeDims(n)
	if err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		out, err := arrSqueezeShapeTo(Keep[arrShapeKeep](ctx), in[0].Shape(), axes)
		if err != nil {
			return nil, err
		}
		v, err := arrCtxView(ctx, "Squeeze", in[0], out)
		if err != nil {
			return nil, err
		}
		return ctx.Out(v), nil
	}), nil
}

// batchSqueeze requires explicit axes none of which is axis 0 (squeezing
// "all size-1 dims" would drop the batch axis of a one-row slice).
func batchSqueeze(n *Node, batched []bool) ([]bool, bool) {
	if len(batched) == 0 || !batched[0] {
		return []bool{false}, true
	}
	axes, err := arrSqueezeDims(n)
	if err != nil || len(axes) == 0 {
		return nil, false
	}
	r := arrKnownRank(n, 0)
	if r < 1 {
		return nil, false
	}
	for _, a := range axes {
		ax, err := arrNormAxis("Squeeze", a, r)
		if err != nil || ax == 0 {
			return nil, false
		}
	}
	return []bool{true}, true
}

// arrExpandAxis resolves ExpandDims' dim against rank r: [-r-1, r].
func arrExpandAxis(dim int64, r int) (int, error) {
	if dim < -int64(r)-1 || dim > int64(r) {
		return 0, fmt.Errorf("%w: op ExpandDims: dim %d out of range for an input of rank %d (expected [%d, %d])", ErrShape, dim, r, -r-1, r)
	}
	if dim < 0 {
		dim += int64(r) + 1
	}
	return int(dim), nil
}

func arrInsertDim(dims []int, ax, size int) []int {
	out := make([]int, 0, len(dims)+1)
	out = append(out, dims[:ax]...)
	out = append(out, size)
	return append(out, dims[ax:]...)
}

func inferExpandDims(n *Node) ([]Value, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, fmt.Errorf("op ExpandDims: %w", err)
	}
	dt, err := arrInDType(n, 0, "T")
	if err != nil {
		return nil, err
	}
	in := n.Inputs[0].Shape
	dim, ok := arrConstInts(n, 1)
	if !ok || in.UnknownRank {
		if !in.UnknownRank {
			dims := make([]int, len(in.Dims)+1)
			for i := range dims {
				dims[i] = -1
			}
			return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: dims}}}, nil
		}
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	if len(dim) != 1 {
		return nil, fmt.Errorf("%w: op ExpandDims: dim must hold a single value, got %d", ErrShape, len(dim))
	}
	ax, err := arrExpandAxis(dim[0], len(in.Dims))
	if err != nil {
		return nil, err
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: arrInsertDim(in.Dims, ax, 1)}}}, nil
}

func buildExpandDims(n *Node) (Kernel, error) {
	if err := NeedInputs(n, 2); err != nil {
		return nil, fmt.Errorf("op ExpandDims: %w", err)
	}
	if _, err := arrInDType(n, 0, "T"); err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		dim, err := arrScalar("ExpandDims", "dim", in[1])
		if err != nil {
			return nil, err
		}
		ax, err := arrExpandAxis(dim, in[0].Rank())
		if err != nil {
			return nil, err
		}
		kp := Keep[arrShapeKeep](ctx)
		dims := in[0].Shape()
		kp.shape = append(append(append(kp.shape[:0], dims[:ax]...), 1), dims[ax:]...)
		v, err := arrCtxView(ctx, "ExpandDims", in[0], kp.shape)
		if err != nil {
			return nil, err
		}
		return ctx.Out(v), nil
	}), nil
}

// batchExpandDims keeps the batch when the new axis is not inserted at 0.
func batchExpandDims(n *Node, batched []bool) ([]bool, bool) {
	if arrIndexBatched(batched, 1) {
		return nil, false
	}
	if len(batched) == 0 || !batched[0] {
		return []bool{false}, true
	}
	dim, ok := arrConstInts(n, 1)
	r := arrKnownRank(n, 0)
	if !ok || len(dim) != 1 || r < 1 {
		return nil, false
	}
	ax, err := arrExpandAxis(dim[0], r)
	if err != nil || ax == 0 {
		return nil, false
	}
	return []bool{true}, true
}
