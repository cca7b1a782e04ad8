package ops

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestAvgPoolWideWindowsSumInFloat64: float32 AvgPool over windows of at
// least nnAvgPoolWide64 values equals the naive float64 mean (nnRefPool)
// rounded once to float32, bit for bit: padding excluded from the count,
// strides, SAME and VALID, global pools, and with values whose float32 sum
// loses digits (a large offset plus small noise).
func TestAvgPoolWideWindowsSumInFloat64(t *testing.T) {
	r := rand.New(rand.NewSource(64))
	tests := []struct {
		n, h, w, c, kh, kw, sh, sw int
		padding                    string
	}{
		{n: 1, h: 16, w: 16, c: 3, kh: 16, kw: 16, sh: 1, sw: 1, padding: "VALID"}, // global pool
		{n: 2, h: 20, w: 17, c: 5, kh: 8, kw: 8, sh: 3, sw: 2, padding: "SAME"},    // padded borders
		{n: 1, h: 9, w: 30, c: 1, kh: 4, kw: 16, sh: 4, sw: 5, padding: "VALID"},
		{n: 1, h: 128, w: 128, c: 2, kh: 128, kw: 128, sh: 128, sw: 128, padding: "VALID"},
		{n: 0, h: 8, w: 8, c: 2, kh: 8, kw: 8, sh: 1, sw: 1, padding: "VALID"}, // empty batch
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%dx%dx%d/k%dx%d/s%dx%d/%s", tt.n, tt.h, tt.w, tt.c, tt.kh, tt.kw, tt.sh, tt.sw, tt.padding), func(t *testing.T) {
			if tt.kh*tt.kw < nnAvgPoolWide64 {
				t.Fatalf("window %dx%d is below the float64 threshold", tt.kh, tt.kw)
			}
			xs := make([]float32, tt.n*tt.h*tt.w*tt.c)
			for i := range xs {
				xs[i] = 1000 + float32(r.NormFloat64())*1e-3
			}
			x := tensor.FromSlice(tensor.Shape{tt.n, tt.h, tt.w, tt.c}, xs)
			attrs := tensor.Attrs{"T": tensor.Float32, "ksize": []int64{1, int64(tt.kh), int64(tt.kw), 1},
				"strides": []int64{1, int64(tt.sh), int64(tt.sw), 1}, "padding": tt.padding}
			shape, want, ok := nnRefPool(false, 0, x.Float64s(), tt.n, tt.h, tt.w, tt.c, tt.kh, tt.kw, tt.sh, tt.sw, tt.padding, 0, 0, 0, 0)
			if !ok {
				t.Fatal("reference: bad geometry")
			}
			// nnMust also runs the op split across goroutines and checks
			// that every variant is bit-identical.
			out := nnMust(t, "AvgPool", attrs, x)
			if !out[0].Shape().Equal(shape) {
				t.Fatalf("shape %v, want %v", out[0].Shape(), shape)
			}
			got := tensor.As[float32](out[0])
			for i, w := range want {
				if got[i] != float32(w) {
					t.Fatalf("element %d = %v, want %v (float64 mean rounded once)", i, got[i], float32(w))
				}
			}
		})
	}
}
