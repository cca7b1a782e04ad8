package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestReduceRowBlocks covers the reductions of few outputs over long sums
// (global pooling shapes), which fold blocks of rows on their own and then
// the blocks in order: against the float64 reference, and identical with
// and without workers (nnMust runs both and compares them bit for bit).
func TestReduceRowBlocks(t *testing.T) {
	r := rand.New(rand.NewSource(51))
	cases := []struct {
		name  string
		shape tensor.Shape
		axes  []int32
	}{
		{name: "global pool", shape: tensor.Shape{1, 300, 300, 4}, axes: []int32{1, 2}},
		{name: "two images, ragged last block", shape: tensor.Shape{2, 70001, 3}, axes: []int32{1}},
		{name: "rows of one column", shape: tensor.Shape{300000, 1}, axes: []int32{0}},
		{name: "many columns", shape: tensor.Shape{1, 2000, 512}, axes: []int32{1}},
	}
	dtypes := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Int32}
	for _, c := range cases {
		for _, op := range []string{"Sum", "Mean", "Max", "Min", "Prod"} {
			for _, dt := range dtypes {
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, op, dt), func(t *testing.T) {
					x := nnRandTensor(r, c.shape...)
					xd := tensor.As[float32](x)
					switch {
					case op == "Prod":
						// Factors near 1 (exactly ±1 for integers) keep the
						// product finite.
						for i := range xd {
							xd[i] = 1 + xd[i]/float32(len(xd))
							if dt.IsInteger() {
								xd[i] = float32(1 - 2*(i%7/6))
							}
						}
					case dt.IsInteger():
						for i := range xd {
							xd[i] = float32(math.Round(float64(xd[i]) * 1000))
						}
					}
					x = nnConvert(x, dt)
					red := make([]bool, len(c.shape))
					for _, a := range c.axes {
						red[a] = true
					}
					axisT := tensor.FromSlice(tensor.Shape{len(c.axes)}, c.axes)
					attrs := tensor.Attrs{"T": dt, "Tidx": tensor.Int32, "keep_dims": false}
					out := nnMust(t, op, attrs, x, axisT)
					wantShape, want := nnRefReduce(op, dt, x.Float64s(), c.shape, red, false)
					tol := 0.0
					switch dt {
					case tensor.Float32:
						tol = 1e-6
					case tensor.Float64:
						tol = 1e-12
					}
					if op == "Prod" && dt == tensor.Float32 {
						// A float32 product accumulates in float32: its
						// rounding error grows with the 2^16 and more factors.
						tol = 1e-3
					}
					nnClose(t, op, out[0], wantShape, want, tol, tol)
				})
			}
		}
	}
}
