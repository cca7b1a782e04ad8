package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// vmathBenchBefore are the float32 loops the ops ran before vmath.go:
// float64 math functions rounded once.
var vmathBenchBefore = map[string]func(d, s []float32){
	"exp": func(d, s []float32) {
		for i, x := range s[:len(d)] {
			d[i] = float32(math.Exp(float64(x)))
		}
	},
	"log": func(d, s []float32) {
		for i, x := range s[:len(d)] {
			d[i] = float32(math.Log(float64(x)))
		}
	},
	"sigmoid": func(d, s []float32) {
		for i, x := range s[:len(d)] {
			d[i] = float32(1 / (1 + math.Exp(-float64(x))))
		}
	},
	"tanh": func(d, s []float32) { // series near 0, else 1 - 2/(e^2x + 1)
		for i, x := range s[:len(d)] {
			v := float64(x)
			if math.Abs(v) < 0.0625 {
				v2 := v * v
				d[i] = float32(v * (1 + v2*(-1.0/3+v2*(2.0/15+v2*(-17.0/315+v2*(62.0/2835))))))
				continue
			}
			d[i] = float32(1 - 2/(math.Exp(2*v)+1))
		}
	},
	"erf": func(d, s []float32) {
		for i, x := range s[:len(d)] {
			d[i] = float32(math.Erf(float64(x)))
		}
	},
	"elu": func(d, s []float32) {
		for i, x := range s[:len(d)] {
			if x < 0 {
				d[i] = float32(math.Exp(float64(x)) - 1)
			} else {
				d[i] = x
			}
		}
	},
}

// vmathBenchLoop runs fn, n elements a call, and reports ns/elem and,
// where the process CPU time is known (nnCPUSeconds), cpu-ns/elem, which
// other jobs on a loaded machine disturb less.
func vmathBenchLoop(b *testing.B, n int, fn func()) {
	b.SetBytes(int64(4 * n))
	cpu0 := 0.0
	if nnCPUSeconds != nil {
		cpu0 = nnCPUSeconds()
	}
	for b.Loop() {
		fn()
	}
	elems := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/elems, "ns/elem")
	if nnCPUSeconds != nil {
		b.ReportMetric((nnCPUSeconds()-cpu0)*1e9/elems, "cpu-ns/elem")
	}
}

// BenchmarkVmath times each function on 4096 elements (in L1) with inputs
// in [-8, 8] ([1e-3, 1e3] for log), per kernel set and for the loops of
// before; ns/elem is the figure to compare.
func BenchmarkVmath(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(7, 8))
	s := make([]float32, n)
	pos := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*16 - 8)
		pos[i] = float32(math.Exp(r.Float64()*13.8 - 6.9))
	}
	d := make([]float32, n)
	fns := []struct {
		name string
		run  func(im *vmathImpl, d, s []float32)
	}{
		{"exp", func(im *vmathImpl, d, s []float32) { im.exp(d, s) }},
		{"log", func(im *vmathImpl, d, s []float32) { im.log(d, s) }},
		{"sigmoid", func(im *vmathImpl, d, s []float32) { im.sigmoid(d, s) }},
		{"tanh", func(im *vmathImpl, d, s []float32) { im.tanh(d, s) }},
		{"erf", func(im *vmathImpl, d, s []float32) { im.erf(d, s) }},
		{"elu", func(im *vmathImpl, d, s []float32) { im.elu(d, s, 1, 1) }},
	}
	for _, f := range fns {
		in := s
		if f.name == "log" {
			in = pos
		}
		b.Run(fmt.Sprintf("fn=%s/impl=before", f.name), func(b *testing.B) {
			before := vmathBenchBefore[f.name]
			vmathBenchLoop(b, n, func() { before(d, in) })
		})
		for _, im := range vmathImpls() {
			b.Run(fmt.Sprintf("fn=%s/impl=%s", f.name, im.name), func(b *testing.B) {
				vmathBenchLoop(b, n, func() { f.run(im, d, in) })
			})
		}
	}
}
