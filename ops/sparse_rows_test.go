package ops

import (
	"strings"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// Expected values are hand-computed from the semantics described in
// sparse_rows.go (sparse_fill_empty_rows_op.cc, reshape_util.cc); the first
// fill case is sparse_ops_test.py's testFillNumber.

func sprowIdx(rows ...[]int64) *tensor.Tensor {
	rank := 0
	if len(rows) > 0 {
		rank = len(rows[0])
	}
	var flat []int64
	for _, r := range rows {
		flat = append(flat, r...)
	}
	if flat == nil {
		flat = []int64{}
	}
	return tensor.FromSlice(tensor.Shape{len(rows), rank}, flat)
}

func sprowF(v ...float64) []float64 { return v }

func TestSparseFillEmptyRows(t *testing.T) {
	for _, c := range []struct {
		name       string
		indices    *tensor.Tensor
		values     *tensor.Tensor
		shape      []int64
		def        *tensor.Tensor
		wantIdx    []float64
		wantRows   int
		wantVals   []float64
		wantEmpty  []float64
		wantRevIdx []float64
	}{
		{
			name:    "empty rows 2 and 4",
			indices: sprowIdx([]int64{0, 0}, []int64{1, 0}, []int64{1, 3}, []int64{1, 4}, []int64{3, 2}, []int64{3, 3}),
			values:  seqI64s(0, 10, 13, 14, 32, 33), shape: []int64{5, 6}, def: tensor.Scalar(int64(-1)),
			wantIdx: sprowF(0, 0, 1, 0, 1, 3, 1, 4, 2, 0, 3, 2, 3, 3, 4, 0), wantRows: 8,
			wantVals: sprowF(0, 10, 13, 14, -1, 32, 33, -1), wantEmpty: sprowF(0, 0, 1, 0, 1), wantRevIdx: sprowF(0, 1, 2, 3, 5, 6),
		},
		{
			name:    "rows out of order, entries kept in input order within a row",
			indices: sprowIdx([]int64{2, 1}, []int64{0, 5}, []int64{2, 0}),
			values:  seqT(tensor.Float32, tensor.Shape{3}, 21, 5, 20), shape: []int64{3, 6}, def: tensor.Scalar(float32(0.5)),
			wantIdx: sprowF(0, 5, 1, 0, 2, 1, 2, 0), wantRows: 4,
			wantVals: sprowF(5, 0.5, 21, 20), wantEmpty: sprowF(0, 1, 0), wantRevIdx: sprowF(2, 0, 3),
		},
		{
			name:    "every row full and ordered: unchanged",
			indices: sprowIdx([]int64{0, 1}, []int64{1, 0}),
			values:  seqI64s(7, 8), shape: []int64{2, 3}, def: tensor.Scalar(int64(0)),
			wantIdx: sprowF(0, 1, 1, 0), wantRows: 2, wantVals: sprowF(7, 8), wantEmpty: sprowF(0, 0), wantRevIdx: sprowF(0, 1),
		},
		{
			name:    "no entries",
			indices: tensor.FromSlice(tensor.Shape{0, 2}, []int64{}),
			values:  seqI64s(), shape: []int64{2, 4}, def: tensor.Scalar(int64(9)),
			wantIdx: sprowF(0, 0, 1, 0), wantRows: 2, wantVals: sprowF(9, 9), wantEmpty: sprowF(1, 1), wantRevIdx: sprowF(),
		},
		{
			name:    "zero dense rows",
			indices: tensor.FromSlice(tensor.Shape{0, 2}, []int64{}),
			values:  seqI64s(), shape: []int64{0, 4}, def: tensor.Scalar(int64(9)),
			wantIdx: sprowF(), wantRows: 0, wantVals: sprowF(), wantEmpty: sprowF(), wantRevIdx: sprowF(),
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := moreMust(t, "SparseFillEmptyRows", tensor.Attrs{"T": c.values.DType()}, c.indices, c.values, seqI64s(c.shape...), c.def)
			seqWant(t, "indices", out[0], tensor.Int64, tensor.Shape{c.wantRows, 2}, c.wantIdx)
			seqWant(t, "values", out[1], c.values.DType(), tensor.Shape{c.wantRows}, c.wantVals)
			seqWant(t, "empty_row_indicator", out[2], tensor.Bool, tensor.Shape{int(c.shape[0])}, c.wantEmpty)
			seqWant(t, "reverse_index_map", out[3], tensor.Int64, tensor.Shape{len(c.wantRevIdx)}, c.wantRevIdx)
		})
	}
	// Strings move like any dtype.
	out := moreMust(t, "SparseFillEmptyRows", tensor.Attrs{"T": tensor.String}, sprowIdx([]int64{1, 0}),
		tensor.FromSlice(tensor.Shape{1}, []string{"b"}), seqI64s(2, 1), tensor.Scalar(""))
	if s := tensor.As[string](out[1]); strings.Join(s, ",") != ",b" {
		t.Errorf("string values %q", s)
	}
	idx := sprowIdx([]int64{0, 0})
	moreWantErr(t, ErrShape, "SparseFillEmptyRows", tensor.Attrs{"T": tensor.Int64}, sprowIdx([]int64{3, 0}), seqI64s(1), seqI64s(2, 2), tensor.Scalar(int64(0)))
	moreWantErr(t, ErrShape, "SparseFillEmptyRows", tensor.Attrs{"T": tensor.Int64}, idx, seqI64s(1, 2), seqI64s(2, 2), tensor.Scalar(int64(0)))
	moreWantErr(t, ErrShape, "SparseFillEmptyRows", tensor.Attrs{"T": tensor.Int64}, idx, seqI64s(1), seqI64s(2, 2), seqI64s(0))
	moreWantErr(t, ErrShape, "SparseFillEmptyRows", tensor.Attrs{"T": tensor.Int64}, idx, seqI64s(1), seqI64s(-1, 2), tensor.Scalar(int64(0)))
	moreWantErr(t, ErrDType, "SparseFillEmptyRows", tensor.Attrs{"T": tensor.Int64}, idx, seqI64s(1), seqI64s(2, 2), tensor.Scalar(int32(0)))
}

func TestSparseReshape(t *testing.T) {
	// Shape [2 3 6] (36 values) to [9 -1] = [9 4]: the row-major offsets
	// 0, 1, 6, 18, 33 become (0,0) (0,1) (1,2) (4,2) (8,1).
	in := sprowIdx([]int64{0, 0, 0}, []int64{0, 0, 1}, []int64{0, 1, 0}, []int64{1, 0, 0}, []int64{1, 2, 3})
	out := moreMust(t, "SparseReshape", nil, in, seqI64s(2, 3, 6), seqI64s(9, -1))
	seqWant(t, "indices", out[0], tensor.Int64, tensor.Shape{5, 2}, sprowF(0, 0, 0, 1, 1, 2, 4, 2, 8, 1))
	seqWant(t, "shape", out[1], tensor.Int64, tensor.Shape{2}, sprowF(9, 4))
	// To rank 1 and back up to rank 4.
	out = moreMust(t, "SparseReshape", nil, sprowIdx([]int64{1, 5}), seqI64s(2, 6), seqI64s(-1))
	seqWant(t, "flat", out[0], tensor.Int64, tensor.Shape{1, 1}, sprowF(11))
	out = moreMust(t, "SparseReshape", nil, sprowIdx([]int64{11}), seqI64s(12), seqI64s(1, 2, 2, 3))
	seqWant(t, "rank 4", out[0], tensor.Int64, tensor.Shape{1, 4}, sprowF(0, 1, 1, 2))
	// Empty sparse tensors.
	out = moreMust(t, "SparseReshape", nil, tensor.FromSlice(tensor.Shape{0, 2}, []int64{}), seqI64s(0, 3), seqI64s(3, 0))
	seqWant(t, "empty", out[1], tensor.Int64, tensor.Shape{2}, sprowF(3, 0))
	for _, c := range []struct {
		shape, want []int64
		msg         string
	}{
		{[]int64{2, 3}, []int64{-1, -1}, "only one"},
		{[]int64{2, 3}, []int64{4, -1}, "do not fill"},
		{[]int64{2, 3}, []int64{7}, "has 7"},
		{[]int64{2, 3}, []int64{-2, 3}, "non-negative"},
		{[]int64{0, 3}, []int64{0, -1}, "cannot infer"},
	} {
		_, err := moreRun(t, "SparseReshape", nil, tensor.FromSlice(tensor.Shape{0, 2}, []int64{}), seqI64s(c.shape...), seqI64s(c.want...))
		lookupWantErr(t, err, ErrShape, c.msg)
	}
	moreWantErr(t, ErrShape, "SparseReshape", nil, sprowIdx([]int64{2, 0}), seqI64s(2, 3), seqI64s(6))
	moreWantErr(t, ErrShape, "SparseReshape", nil, sprowIdx([]int64{0, 0}), seqI64s(2, 3, 1), seqI64s(6))
}

func TestUpperAndLowerBound(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64} {
		sorted := seqT(dt, tensor.Shape{2, 5}, 0, 3, 9, 9, 10, 1, 2, 3, 4, 5)
		values := seqT(dt, tensor.Shape{2, 3}, 2, 4, 9, 0, 2, 6)
		for _, out := range []tensor.DType{tensor.Int32, tensor.Int64} {
			a := tensor.Attrs{"T": dt, "out_type": out}
			// Row 0 [0 3 9 9 10]: first > 2 is at 1, > 4 at 2, > 9 at 4;
			// row 1 [1 2 3 4 5]: > 0 at 0, > 2 at 2, > 6 at 5.
			seqWant(t, "upper", moreMust(t, "UpperBound", a, sorted, values)[0], out, tensor.Shape{2, 3}, sprowF(1, 2, 4, 0, 2, 5))
			seqWant(t, "lower", moreMust(t, "LowerBound", a, sorted, values)[0], out, tensor.Shape{2, 3}, sprowF(1, 2, 2, 0, 1, 5))
		}
	}
	empty := moreMust(t, "UpperBound", tensor.Attrs{"T": tensor.Float32}, seqT(tensor.Float32, tensor.Shape{1, 0}), seqT(tensor.Float32, tensor.Shape{1, 2}, 1, 2))[0]
	seqWant(t, "no sorted values", empty, tensor.Int32, tensor.Shape{1, 2}, sprowF(0, 0))
	moreWantErr(t, ErrShape, "UpperBound", tensor.Attrs{"T": tensor.Float32}, seqT(tensor.Float32, tensor.Shape{2}, 1, 2), seqT(tensor.Float32, tensor.Shape{1, 1}, 1))
	moreWantErr(t, ErrShape, "LowerBound", tensor.Attrs{"T": tensor.Float32}, seqT(tensor.Float32, tensor.Shape{2, 1}, 1, 2), seqT(tensor.Float32, tensor.Shape{1, 1}, 1))
	moreWantErr(t, ErrDType, "UpperBound", tensor.Attrs{"T": tensor.Float32, "out_type": tensor.Float32}, seqT(tensor.Float32, tensor.Shape{1, 1}, 1), seqT(tensor.Float32, tensor.Shape{1, 1}, 1))
	moreWantErr(t, ErrDType, "UpperBound", tensor.Attrs{"T": tensor.String}, tensor.FromSlice(tensor.Shape{1, 1}, []string{"a"}), tensor.FromSlice(tensor.Shape{1, 1}, []string{"a"}))
}
