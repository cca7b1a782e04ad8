package ops

import (
	"math"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

func TestSparseSegmentReductions(t *testing.T) {
	s := moreS
	data := moreT(tensor.Float32, s(3, 2), 1, 2, 3, 4, 5, 6)
	idx := moreT(tensor.Int32, s(4), 0, 2, 1, 1)
	seg := moreT(tensor.Int32, s(4), 0, 0, 2, 2)
	// Segment 0 takes rows 0 and 2: [6, 8]; segment 1 is empty; segment 2
	// takes row 1 twice: [6, 8]. Mean halves, SqrtN divides by √2.
	r2 := math.Sqrt2
	for _, tt := range []struct {
		op, withNum string
		want        []float64
	}{
		{"SparseSegmentSum", "SparseSegmentSumWithNumSegments", []float64{6, 8, 0, 0, 6, 8}},
		{"SparseSegmentMean", "SparseSegmentMeanWithNumSegments", []float64{3, 4, 0, 0, 3, 4}},
		{"SparseSegmentSqrtN", "SparseSegmentSqrtNWithNumSegments", []float64{6 / r2, 8 / r2, 0, 0, 6 / r2, 8 / r2}},
	} {
		got := moreMust(t, tt.op, nil, data, idx, seg)[0]
		moreClose(t, tt.op, got, s(3, 2), tt.want, 1e-6, 1e-6)
		got = moreMust(t, tt.withNum, nil, data, idx, seg, moreT(tensor.Int64, s(), 4))[0]
		moreClose(t, tt.op+" num_segments", got, s(4, 2), append(tt.want, 0, 0), 1e-6, 1e-6)
		// No indices: zero rows, or num_segments rows of 0.
		got = moreMust(t, tt.op, nil, data, moreT(tensor.Int32, s(0)), moreT(tensor.Int32, s(0)))[0]
		if !got.Shape().Equal(s(0, 2)) {
			t.Errorf("%s empty: %v", tt.op, got.Shape())
		}
		moreWantErr(t, ErrShape, tt.op, nil, data, idx, moreT(tensor.Int32, s(4), 1, 0, 2, 2))
		moreWantErr(t, ErrShape, tt.op, nil, data, moreT(tensor.Int32, s(4), 0, 3, 1, 1), seg)
		moreWantErr(t, ErrShape, tt.op, nil, data, moreT(tensor.Int32, s(3), 0, 1, 1), seg)
		moreWantErr(t, ErrShape, tt.op, nil, data, idx, moreT(tensor.Int32, s(4), -1, 0, 2, 2))
		moreWantErr(t, ErrShape, tt.withNum, nil, data, idx, seg, moreT(tensor.Int32, s(), 2))
	}
	// Integer sums wrap; float64 and int64 indices.
	got := moreMust(t, "SparseSegmentSum", nil, moreT(tensor.Int32, s(2), math.MaxInt32, 1), moreT(tensor.Int64, s(2), 0, 1), moreT(tensor.Int64, s(2), 0, 0))[0]
	moreExact(t, "int wrap", got, tensor.Int32, s(1), []float64{math.MinInt32})
	got = moreMust(t, "SparseSegmentMean", nil, moreT(tensor.Float64, s(2), 1, 2), moreT(tensor.Int32, s(3), 0, 1, 1), moreT(tensor.Int32, s(3), 1, 1, 1))[0]
	moreClose(t, "float64 mean", got, s(2), []float64{0, 5.0 / 3}, 1e-15, 1e-15)
	moreWantErr(t, ErrDType, "SparseSegmentMean", nil, moreT(tensor.Int32, s(1), 1), moreT(tensor.Int32, s(1), 0), moreT(tensor.Int32, s(1), 0))
}
