package ops

import (
	"flag"
	"math"
	"strconv"
	"strings"
	"testing"
)

// The polynomial coefficients of vmath.go come from this Remez exchange:
// go test -run TestVmathFit ./ops -args -vmath.fit fits them again,
// prints them and fails where they differ from vmath.go's. Each fit
// minimizes the largest weighted error w(x)·(g(x) - Σ c_i (x-center)^i)
// over an interval in float64, then rounds the coefficients to float32
// one at a time from the lowest degree, refitting the higher ones after
// each rounding when that lowers the error.

var vmathFitFlag = flag.Bool("vmath.fit", false, "print the fitted polynomial coefficients of the float32 math kernels")

// vmathFitProblem is one polynomial to fit.
type vmathFitProblem struct {
	name   string
	lo, hi float64
	center float64    // the polynomial is in x - center
	coef   *[]float32 // the coefficients in vmath.go; their number sets the degree
	g      func(x float64) float64
	w      func(x float64) float64
}

// vmathFitProblems are the polynomials of vmath.go; x is the variable
// the kernels evaluate the polynomial at.
var vmathFitProblems = []vmathFitProblem{
	// expm1(r) = r + r²·Q(r) on the reduced range of exp; the weight
	// bounds the error relative to expm1(r) (hence also to exp(r)).
	{name: "vmathExpQ", lo: -0.3466, hi: 0.3466, coef: &vmathExpQ,
		g: func(r float64) float64 { return vmathFitExpQ(r) },
		w: func(r float64) float64 {
			if r == 0 {
				return 0
			}
			return r * r / math.Abs(math.Expm1(r))
		}},
	// log1p(f) = f + f²·Q(f) for 1+f in [sqrt(1/2), sqrt(2)).
	{name: "vmathLogQ", lo: math.Sqrt(0.5) - 1, hi: math.Sqrt2 - 1, coef: &vmathLogQ,
		g: func(f float64) float64 { return vmathFitLogQ(f) },
		w: func(f float64) float64 { return f * f / math.Abs(math.Log1p(f)) }},
	// tanh(x) = x + x³·P(x²) for |x| < vmathTanhSmall; the variable is t = x².
	{name: "vmathTanhP", lo: 0, hi: vmathTanhSmall * vmathTanhSmall, coef: &vmathTanhP,
		g: func(t float64) float64 { return vmathFitTanhP(t) },
		w: func(t float64) float64 {
			x := math.Sqrt(t)
			return t * x / math.Max(math.Tanh(x), 1e-300)
		}},
	// erf(x) = x + x·Q(x²) for |x| < vmathErfSmall; the variable is t = x².
	{name: "vmathErfQ", lo: 0, hi: vmathErfSmall * vmathErfSmall, coef: &vmathErfQ,
		g: func(t float64) float64 { return vmathFitErfQ(t) },
		w: func(t float64) float64 {
			x := math.Sqrt(t)
			if x == 0 {
				return 2 / math.SqrtPi
			}
			return x / math.Erf(x)
		}},
	// erf(a) = 1 - exp(-a²)·R(a) for vmathErfSmall ≤ a ≤ vmathErfBig: the
	// error of the product, relative to erf, is weighted.
	{name: "vmathErfR", lo: vmathErfSmall, hi: vmathErfBig, center: vmathErfCenter, coef: &vmathErfR,
		g: func(a float64) float64 { return math.Erfc(a) * math.Exp(a*a) },
		w: func(a float64) float64 { return math.Exp(-a*a) / math.Erf(a) }},
}

func vmathFitExpQ(r float64) float64 {
	if math.Abs(r) < 1e-3 {
		return 1.0/2 + r*(1.0/6+r*(1.0/24+r*(1.0/120+r/720)))
	}
	return (math.Expm1(r) - r) / (r * r)
}

func vmathFitLogQ(f float64) float64 {
	if math.Abs(f) < 1e-3 {
		return -1.0/2 + f*(1.0/3+f*(-1.0/4+f*(1.0/5-f/6)))
	}
	return (math.Log1p(f) - f) / (f * f)
}

func vmathFitTanhP(t float64) float64 {
	if t < 1e-4 {
		return -1.0/3 + t*(2.0/15+t*(-17.0/315+t*62.0/2835))
	}
	x := math.Sqrt(t)
	return (math.Tanh(x) - x) / (t * x)
}

func vmathFitErfQ(t float64) float64 {
	if t < 1e-6 {
		c := 2 / math.SqrtPi
		return c - 1 + c*t*(-1.0/3+t/10)
	}
	x := math.Sqrt(t)
	return math.Erf(x)/x - 1
}

// vmathRemez fits p of degree deg to g on [lo, hi] (in x - center),
// minimizing max |w·(g - p)|, with the coefficients in fixed (non-NaN
// entries) held. It returns the coefficients and the levelled error.
func vmathRemez(p vmathFitProblem, fixed []float64) ([]float64, float64) {
	n := len(fixed)
	var free []int
	for i := 0; i < n; i++ {
		if math.IsNaN(fixed[i]) {
			free = append(free, i)
		}
	}
	m := len(free)
	basis := func(x float64, i int) float64 { return math.Pow(x-p.center, float64(i)) }
	rest := func(x float64) float64 { // g minus the fixed terms
		v := p.g(x)
		for i := 0; i < n; i++ {
			if !math.IsNaN(fixed[i]) {
				v -= fixed[i] * basis(x, i)
			}
		}
		return v
	}
	// Chebyshev nodes to start.
	ref := make([]float64, m+1)
	for j := range ref {
		ref[j] = (p.lo+p.hi)/2 - (p.hi-p.lo)/2*math.Cos(math.Pi*float64(j)/float64(m))
	}
	const grid = 20000
	xs := make([]float64, grid+1)
	for i := range xs {
		xs[i] = p.lo + (p.hi-p.lo)*float64(i)/grid
	}
	coef := make([]float64, n)
	copy(coef, fixed)
	best, bestErr := append([]float64(nil), coef...), math.Inf(1)
	for iter := 0; iter < 40; iter++ {
		// Solve Σ c_k φ_k(x_j) + (-1)^j E / w(x_j) = rest(x_j).
		a := make([][]float64, m+1)
		for j, x := range ref {
			row := make([]float64, m+2)
			for k, i := range free {
				row[k] = basis(x, i)
			}
			sgn := 1.0
			if j%2 == 1 {
				sgn = -1
			}
			wx := p.w(x)
			if wx == 0 {
				wx = 1e-300
			}
			row[m] = sgn / wx
			row[m+1] = rest(x)
			a[j] = row
		}
		sol := vmathSolve(a)
		for k, i := range free {
			coef[i] = sol[k]
		}
		level := math.Abs(sol[m])
		errAt := func(x float64) float64 {
			v := rest(x)
			for _, i := range free {
				v -= coef[i] * basis(x, i)
			}
			return p.w(x) * v
		}
		// Alternating extrema on the grid.
		type ext struct{ x, e float64 }
		var exts []ext
		cur := ext{xs[0], errAt(xs[0])}
		for _, x := range xs[1:] {
			e := errAt(x)
			if (e >= 0) == (cur.e >= 0) {
				if math.Abs(e) > math.Abs(cur.e) {
					cur = ext{x, e}
				}
				continue
			}
			exts = append(exts, cur)
			cur = ext{x, e}
		}
		exts = append(exts, cur)
		maxE := 0.0
		for _, e := range exts {
			maxE = math.Max(maxE, math.Abs(e.e))
		}
		if maxE < bestErr {
			best, bestErr = append(best[:0], coef...), maxE
		}
		for len(exts) > m+1 {
			if math.Abs(exts[0].e) < math.Abs(exts[len(exts)-1].e) {
				exts = exts[1:]
			} else {
				exts = exts[:len(exts)-1]
			}
		}
		if len(exts) < m+1 {
			break
		}
		for j := range ref {
			ref[j] = exts[j].x
		}
		if maxE-level <= 1e-6*level {
			break
		}
	}
	return best, bestErr
}

// vmathSolve solves the (n)×(n+1) augmented system a by Gaussian
// elimination with partial pivoting.
func vmathSolve(a [][]float64) []float64 {
	n := len(a)
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k <= n; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		v := a[r][n]
		for k := r + 1; k < n; k++ {
			v -= a[r][k] * x[k]
		}
		x[r] = v / a[r][r]
	}
	return x
}

// vmathFit fits p and rounds its coefficients to float32 from the lowest
// degree, after each rounding refitting the higher ones when that helps;
// it returns them and the final weighted error.
func vmathFit(p vmathFitProblem) ([]float32, float64) {
	n := len(*p.coef)
	fixed := make([]float64, n)
	for i := range fixed {
		fixed[i] = math.NaN()
	}
	cur, _ := vmathRemez(p, fixed)
	for i := 0; i < n; i++ {
		fixed[i] = float64(float32(cur[i]))
		plain := append([]float64(nil), cur...)
		plain[i] = fixed[i]
		cur = plain
		if i < n-1 {
			if refit, _ := vmathRemez(p, fixed); vmathFitError(p, refit) < vmathFitError(p, plain) {
				cur = refit
			}
		}
	}
	out := make([]float32, n)
	for i, c := range cur {
		out[i] = float32(c)
	}
	return out, vmathFitError(p, cur)
}

// vmathFitError is the largest weighted error of coef on a fine grid.
func vmathFitError(p vmathFitProblem, coef []float64) float64 {
	e := 0.0
	for i := 0; i <= 100000; i++ {
		x := p.lo + (p.hi-p.lo)*float64(i)/100000
		s := 0.0
		for k := len(coef) - 1; k >= 0; k-- {
			s = s*(x-p.center) + coef[k]
		}
		if d := math.Abs(p.w(x) * (p.g(x) - s)); d > e {
			e = d
		}
	}
	return e
}

func TestVmathFit(t *testing.T) {
	if !*vmathFitFlag {
		t.Skip("run with -vmath.fit to fit the coefficients again")
	}
	for _, p := range vmathFitProblems {
		c, e := vmathFit(p)
		parts := make([]string, len(c))
		for i, v := range c {
			parts[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		t.Logf("%s on [%.6g, %.6g] (x - %g), degree %d: weighted error %.3g (%.1f bits)\n\t{%s}",
			p.name, p.lo, p.hi, p.center, len(c)-1, e, -math.Log2(e), strings.Join(parts, ", "))
		for i, v := range c {
			if v != (*p.coef)[i] {
				t.Errorf("%s[%d] = %g in vmath.go, fitted %g", p.name, i, (*p.coef)[i], v)
			}
		}
	}
}
