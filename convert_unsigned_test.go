package tfd

import (
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestConvertFeedUnsigned checks integer feeds converted to uint32 and
// uint64 placeholders: values that fit are kept, others refused.
func TestConvertFeedUnsigned(t *testing.T) {
	in := tensor.FromSlice(tensor.Shape{3}, []int64{0, 7, 4294967295})
	got, err := ConvertFeed(in, tensor.Uint32)
	if err != nil {
		t.Fatal(err)
	}
	if u := tensor.As[uint32](got); u[0] != 0 || u[1] != 7 || u[2] != 4294967295 {
		t.Errorf("uint32: %v", u)
	}
	got, err = ConvertFeed(in, tensor.Uint64)
	if err != nil {
		t.Fatal(err)
	}
	if u := tensor.As[uint64](got); u[2] != 4294967295 {
		t.Errorf("uint64: %v", u)
	}
	// Exact beyond float64's integers.
	got, err = ConvertFeed(tensor.FromSlice(tensor.Shape{1}, []int64{1<<53 + 1}), tensor.Uint64)
	if err != nil || tensor.As[uint64](got)[0] != 1<<53+1 {
		t.Errorf("2^53+1 as uint64: %v, %v", got, err)
	}
	for _, bad := range []struct {
		v  int64
		dt tensor.DType
	}{{-1, tensor.Uint32}, {1 << 32, tensor.Uint32}, {-1, tensor.Uint64}} {
		if _, err := ConvertFeed(tensor.FromSlice(tensor.Shape{1}, []int64{bad.v}), bad.dt); err == nil {
			t.Errorf("%d fed as %s: no error", bad.v, bad.dt)
		}
	}
}
