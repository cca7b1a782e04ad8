package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// Sparse segment reductions (tensorflow/core/kernels/segment_reduction_ops_impl.h,
// SparseSegmentReductionOpBase): SparseSegmentSum, SparseSegmentMean,
// SparseSegmentSqrtN and their WithNumSegments variants.
//
// Output row s reduces the rows data[indices[i]] of every i with
// segment_ids[i] == s: their sum, their sum divided by their count
// (Mean), or by the square root of their count (SqrtN). segment_ids must
// be sorted ("segment ids are not increasing" otherwise) and indices in
// range. The output has last id + 1 rows, or num_segments (which must
// exceed every id); rows no id names are 0. Float sums are accumulated in
// float64 and rounded once; integer sums wrap.

func init() {
	for _, s := range []struct {
		name   string
		op     sparseSegOp
		numSeg bool
		doc    string
	}{
		{"SparseSegmentSum", sparseSegSum, false, "sums of the rows data[indices] in each segment of sorted segment_ids"},
		{"SparseSegmentMean", sparseSegMean, false, "means of the rows data[indices] in each segment of sorted segment_ids"},
		{"SparseSegmentSqrtN", sparseSegSqrtN, false, "sums of the rows data[indices] in each segment, divided by the square root of their count"},
		{"SparseSegmentSumWithNumSegments", sparseSegSum, true, "SparseSegmentSum with num_segments output rows"},
		{"SparseSegmentMeanWithNumSegments", sparseSegMean, true, "SparseSegmentMean with num_segments output rows"},
		{"SparseSegmentSqrtNWithNumSegments", sparseSegSqrtN, true, "SparseSegmentSqrtN with num_segments output rows"},
	} {
		op, numSeg := s.op, s.numSeg
		Default().Register(Spec{
			Name:  s.name,
			Doc:   s.doc,
			Infer: func(n *Node) ([]Value, error) { return sparseSegInfer(n, op, numSeg) },
			Build: func(n *Node) (Kernel, error) { return sparseSegBuild(n, op, numSeg) },
		})
	}
}

type sparseSegOp int

const (
	sparseSegSum sparseSegOp = iota
	sparseSegMean
	sparseSegSqrtN
)

func sparseSegDType(n *Node, op sparseSegOp, numSeg bool) (tensor.DType, error) {
	k := 3
	if numSeg {
		k = 4
	}
	if err := NeedInputs(n, k); err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	dt, err := InputDType(n, 0, "T")
	if err != nil {
		return tensor.Invalid, fmt.Errorf("op %s: %w", n.Op, err)
	}
	set := mathFloatTypes
	if op == sparseSegSum {
		set = mathNumTypes
	}
	if !mathHasType(set, dt) {
		return tensor.Invalid, mathUnsupported(n.Op, dt, set)
	}
	return dt, nil
}

func sparseSegInfer(n *Node, op sparseSegOp, numSeg bool) ([]Value, error) {
	dt, err := sparseSegDType(n, op, numSeg)
	if err != nil {
		return nil, err
	}
	s := n.Inputs[0].Shape
	if s.UnknownRank {
		return []Value{{DType: dt, Shape: tensor.UnknownShape()}}, nil
	}
	if len(s.Dims) == 0 {
		return nil, fmt.Errorf("%w: op %s: data must have rank ≥ 1", ErrShape, n.Op)
	}
	dims := append([]int(nil), s.Dims...)
	dims[0] = -1
	if numSeg {
		if v, ok := arrConstInts(n, 3); ok && len(v) == 1 && v[0] >= 0 && v[0] <= math.MaxInt32 {
			dims[0] = int(v[0])
		}
	}
	return []Value{{DType: dt, Shape: tensor.PartialShape{Dims: dims}}}, nil
}

func sparseSegBuild(n *Node, op sparseSegOp, numSeg bool) (Kernel, error) {
	dt, err := sparseSegDType(n, op, numSeg)
	if err != nil {
		return nil, err
	}
	if _, err := sparseSegInfer(n, op, numSeg); err != nil {
		return nil, err
	}
	switch dt {
	case tensor.Float32, tensor.Half, tensor.BFloat16:
		return &sparseSeg[float32, float64]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Float64:
		return &sparseSeg[float64, float64]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Int32:
		return &sparseSeg[int32, int32]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Int64:
		return &sparseSeg[int64, int64]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Uint8:
		return &sparseSeg[uint8, uint8]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Int8:
		return &sparseSeg[int8, int8]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Int16:
		return &sparseSeg[int16, int16]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	case tensor.Uint16:
		return &sparseSeg[uint16, uint16]{name: n.Op, dt: dt, op: op, numSeg: numSeg}, nil
	}
	return nil, mathUnsupported(n.Op, dt, mathNumTypes)
}

// sparseSeg is a built sparse segment reduction of T accumulated in A.
type sparseSeg[T, A tensor.Number] struct {
	name   string
	dt     tensor.DType
	op     sparseSegOp
	numSeg bool
}

func (k *sparseSeg[T, A]) Run(ctx *Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	want := 3
	if k.numSeg {
		want = 4
	}
	d, err := mathInputs[T](k.name, in[:1], 1)
	if err != nil {
		return nil, err
	}
	if len(in) != want {
		return nil, fmt.Errorf("%w: op %s: expected %d inputs, got %d", ErrShape, k.name, want, len(in))
	}
	data, xs := d[0], in[0].Shape()
	if len(xs) == 0 {
		return nil, fmt.Errorf("%w: op %s: data must have rank ≥ 1", ErrShape, k.name)
	}
	idx, err := arrVector(k.name, "indices", in[1], false)
	if err != nil {
		return nil, err
	}
	seg, err := arrVector(k.name, "segment_ids", in[2], false)
	if err != nil {
		return nil, err
	}
	if len(idx) != len(seg) {
		return nil, fmt.Errorf("%w: op %s: segment_ids and indices should have same size, got %d and %d", ErrShape, k.name, len(seg), len(idx))
	}
	rows := int64(0)
	if len(seg) > 0 {
		rows = seg[len(seg)-1] + 1
	}
	if k.numSeg {
		ns, err := arrScalar(k.name, "num_segments", in[3])
		if err != nil {
			return nil, err
		}
		if ns < rows {
			return nil, fmt.Errorf("%w: op %s: segment ids must be < num_segments (%d), got %d", ErrShape, k.name, ns, rows-1)
		}
		rows = ns
	}
	if rows < 0 || rows > math.MaxInt32 {
		return nil, fmt.Errorf("%w: op %s: segment ids must be >= 0, got %d", ErrShape, k.name, rows-1)
	}
	for i, s := range seg {
		if s < 0 || s >= rows {
			return nil, fmt.Errorf("%w: op %s: segment id %d out of range [0, %d)", ErrShape, k.name, s, rows)
		}
		if i > 0 && s < seg[i-1] {
			return nil, fmt.Errorf("%w: op %s: segment ids are not increasing", ErrShape, k.name)
		}
	}
	for i, x := range idx {
		if x < 0 || x >= int64(xs[0]) {
			return nil, fmt.Errorf("%w: op %s: indices[%d] = %d is out of range [0, %d)", ErrShape, k.name, i, x, xs[0])
		}
	}
	os := append(tensor.Shape{int(rows)}, xs[1:]...)
	out, err := ctx.Zeros(k.dt, os)
	if err != nil {
		return nil, err
	}
	od := tensor.As[T](out)
	row := xs[1:].Size()
	acc := make([]A, row)
	for start, done := 0, 0; start < len(seg); done++ {
		if done%1024 == 1023 && ctx.Err() != nil {
			out.Release()
			return nil, ctx.Err()
		}
		end := start + 1
		for end < len(seg) && seg[end] == seg[start] {
			end++
		}
		clear(acc)
		for i := start; i < end; i++ {
			src := data[int(idx[i])*row:][:row]
			for j, v := range src {
				acc[j] += A(v)
			}
		}
		dst := od[int(seg[start])*row:][:row]
		cnt := float64(end - start)
		for j, v := range acc {
			switch k.op {
			case sparseSegMean:
				dst[j] = T(float64(v) / cnt)
			case sparseSegSqrtN:
				dst[j] = T(float64(v) / math.Sqrt(cnt))
			default:
				dst[j] = T(v)
			}
		}
		start = end
	}
	if r := mathRounder(k.dt); r != nil {
		r(any(od).([]float32))
	}
	return []*tensor.Tensor{out}, nil
}
