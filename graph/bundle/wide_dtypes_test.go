package bundle

import (
	"path/filepath"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestWideDTypesRoundTrip writes and reads back uint32, uint64,
// complex64 and complex128 variables in both byte orders.
func TestWideDTypesRoundTrip(t *testing.T) {
	want := map[string]*tensor.Tensor{
		"u32":  tensor.FromSlice(tensor.Shape{2}, []uint32{1, 0xfffffffe}),
		"u64":  tensor.FromSlice(tensor.Shape{1}, []uint64{1<<63 + 5}),
		"c64":  tensor.FromSlice(tensor.Shape{2, 1}, []complex64{1 - 2i, 0.5i}),
		"c128": tensor.FromSlice(tensor.Shape{}, []complex128{-3 + 1e-300i}),
	}
	for _, big := range []bool{false, true} {
		prefix := filepath.Join(t.TempDir(), "variables")
		if err := Write(prefix, want, WriteOptions{BigEndian: big}); err != nil {
			t.Fatal(err)
		}
		r, err := Open(prefix, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for k, w := range want {
			got, err := r.Tensor(k)
			if err != nil {
				t.Fatalf("big endian %v: Tensor(%q): %v", big, k, err)
			}
			if !tensor.Equal(got, w) {
				t.Errorf("big endian %v: Tensor(%q) = %v, want %v", big, k, got, w)
			}
		}
		r.Close()
	}
}
