package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestPreluSpecialValues checks Prelu's select on x < 0 bit for bit:
// -0 and NaN are not negative and pass through, -Inf is scaled.
func TestPreluSpecialValues(t *testing.T) {
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	cases := []struct {
		name  string
		x     float32
		alpha float32
		want  float32 // x < 0 ? alpha*x : x, by hand
	}{
		{name: "negative", x: -2, alpha: 0.25, want: -0.5},
		{name: "negative, negative alpha", x: -2, alpha: -3, want: 6},
		{name: "positive", x: 3, alpha: 0.25, want: 3},
		{name: "+0", x: 0, alpha: -1, want: 0},
		{name: "-0 stays -0", x: negZero, alpha: -1, want: negZero},
		{name: "NaN", x: nan, alpha: 2, want: nan},
		{name: "-Inf scaled", x: -inf, alpha: 0.5, want: -inf},
		{name: "-Inf times 0 is NaN", x: -inf, alpha: 0, want: nan},
		{name: "+Inf", x: inf, alpha: 0.5, want: inf},
		{name: "smallest negative subnormal", x: -math.SmallestNonzeroFloat32, alpha: 1, want: -math.SmallestNonzeroFloat32},
	}
	for _, c := range cases {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%s/%s", c.name, dt), func(t *testing.T) {
				x := nnConvert(tensor.FromSlice(tensor.Shape{1, 1}, []float32{c.x}), dt)
				a := nnConvert(tensor.FromSlice(tensor.Shape{1}, []float32{c.alpha}), dt)
				got := nnMust(t, "Prelu", tensor.Attrs{"T": dt}, x, a)[0].Float64s()[0]
				want := float64(c.want)
				if math.IsNaN(want) {
					if !math.IsNaN(got) {
						t.Fatalf("got %v, want NaN", got)
					}
					return
				}
				if math.Float64bits(got) != math.Float64bits(want) {
					t.Fatalf("got %v (bits %x), want %v (bits %x)", got, math.Float64bits(got), want, math.Float64bits(want))
				}
			})
		}
	}
}

// TestPreluLarge runs shapes that split between workers against a naive
// float64 reference (nnMust also checks that the split gives the same
// bits as the inline run).
func TestPreluLarge(t *testing.T) {
	r := rand.New(rand.NewSource(52))
	for _, c := range []struct {
		shape, alpha tensor.Shape
	}{
		{shape: tensor.Shape{1, 96, 96, 16}, alpha: tensor.Shape{1, 1, 16}},
		{shape: tensor.Shape{2, 50, 77, 3}, alpha: tensor.Shape{77, 3}},
		{shape: tensor.Shape{40000}, alpha: tensor.Shape{1}},
	} {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%v/%v/%s", c.shape, c.alpha, dt), func(t *testing.T) {
				x := nnConvert(nnRandTensor(r, c.shape...), dt)
				a := nnConvert(nnRandTensor(r, c.alpha...), dt)
				got := nnMust(t, "Prelu", tensor.Attrs{"T": dt}, x, a)[0]
				xs, as := x.Float64s(), a.Float64s()
				want := make([]float64, len(xs))
				for i, v := range xs {
					want[i] = v
					if v < 0 {
						want[i] = v * as[i%len(as)]
					}
				}
				tol := 0.0
				if dt == tensor.Float32 {
					tol = 1e-7 // the product rounds to float32
				}
				nnClose(t, "Prelu", got, c.shape, want, tol, tol)
			})
		}
	}
}
