package ops

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/tfdgo/tfd/tensor"
)

// TestVmathEdges checks special values, saturation and denormals in
// every kernel set: the values TensorFlow's float32 kernels give (Eigen's
// pexp, plog, logistic, tanh and erf), except that denormal results are
// kept rather than flushed to zero.
func TestVmathEdges(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	nz := float32(math.Copysign(0, -1))
	den := float32(math.SmallestNonzeroFloat32)
	cases := []struct {
		fn   string
		x    float32
		want float32
	}{
		{"exp", -inf, 0}, {"exp", inf, inf}, {"exp", nan, nan}, {"exp", nz, 1}, {"exp", den, 1},
		{"exp", 88.72283, 3.4028e38}, {"exp", 88.7229, inf}, {"exp", 1000, inf},
		// e^-100 = 3.72e-44 is denormal: 26.5 units of 2^-149, rounded to 27.
		{"exp", -100, 27 * den}, {"exp", -104, 0}, {"exp", -1000, 0},
		{"log", 0, -inf}, {"log", nz, -inf}, {"log", -1, nan}, {"log", -inf, nan}, {"log", nan, nan},
		{"log", inf, inf}, {"log", 1, 0}, {"log", den, -103.27893}, {"log", math.MaxFloat32, 88.72284},
		{"sigmoid", -inf, 0}, {"sigmoid", inf, 1}, {"sigmoid", nan, nan}, {"sigmoid", 0, 0.5}, {"sigmoid", nz, 0.5},
		{"sigmoid", 17, 1}, {"sigmoid", 1000, 1}, {"sigmoid", -1000, 0},
		// e^-100 again, as a sigmoid.
		{"sigmoid", -100, 27 * den},
		{"tanh", inf, 1}, {"tanh", -inf, -1}, {"tanh", nan, nan}, {"tanh", nz, nz}, {"tanh", 0, 0},
		{"tanh", 10, 1}, {"tanh", -10, -1}, {"tanh", den, den}, {"tanh", -den, -den}, {"tanh", 1e-20, 1e-20},
		{"erf", inf, 1}, {"erf", -inf, -1}, {"erf", nan, nan}, {"erf", nz, nz}, {"erf", 4, 1}, {"erf", -5, -1},
		{"erf", 1e-30, 1.1283792e-30},
		{"elu", -inf, -1}, {"elu", inf, inf}, {"elu", nan, nan}, {"elu", nz, nz}, {"elu", -100, -1}, {"elu", 3, 3},
		{"elu", -1e-30, -1e-30},
		// Selu: scale·alpha·(exp(x) - 1) and scale·x with float32 constants.
		{"selu", -inf, -1.7580993}, {"selu", inf, inf}, {"selu", nan, nan}, {"selu", nz, nz}, {"selu", -100, -1.7580993},
		{"selu", 1, 1.050701}, {"selu", den, den},
		{"softplus", -inf, 0}, {"softplus", inf, inf}, {"softplus", nan, nan}, {"softplus", 0, float32(math.Ln2)},
		{"softplus", 20, 20}, {"softplus", -20, 2.0611537e-09},
	}
	for _, im := range vmathImpls() {
		for _, c := range cases {
			var f vmathFunc
			for _, vf := range vmathFuncs {
				if vf.name == c.fn {
					f = vf
				}
			}
			got := make([]float32, 1)
			f.run(im, got, []float32{c.x})
			w := c.want
			if !vmathSame(got[0], w) && !(w != 0 && !math.IsInf(float64(w), 0) && math.Abs(float64(got[0]-w)) <= 1e-6*math.Abs(float64(w))) {
				t.Errorf("%s %s(%g) = %g, want %g", im.name, c.fn, c.x, got[0], w)
			}
		}
	}
}

// vmathSpecials are inputs at the edges of the kernels' ranges.
var vmathSpecials = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
	vmathMinNormal, -vmathMinNormal, 1e-40, -1e-40,
	88.72283, 88.7229, 88.75, 89, -87.33, -87.34, -103.9, -103.97, -104, -105,
	vmathTanhSmall, -vmathTanhSmall, vmathTanhBig, 9.01, 9.02, 16.63, 16.64, 17.33,
	vmathErfSmall, -vmathErfSmall, 3.92, 3.93, vmathErfBig, -vmathErfBig,
	-17.5, -18, vmathExpm1Lo, -0.3466, 0.3466, 0.70710677, 1.4142135,
}

// vmathInputs returns n inputs mixing magnitudes, random bit patterns and
// the specials.
func vmathInputs(r *rand.Rand, n int) []float32 {
	xs := make([]float32, n)
	for i := range xs {
		switch r.IntN(5) {
		case 0:
			xs[i] = float32(r.NormFloat64())
		case 1:
			xs[i] = float32(r.NormFloat64() * 20)
		case 2:
			xs[i] = float32(r.NormFloat64() * 100)
		case 3:
			xs[i] = math.Float32frombits(r.Uint32())
		default:
			xs[i] = vmathSpecials[r.IntN(len(vmathSpecials))]
		}
	}
	return xs
}

// vmathSame compares bit patterns, any NaN matching any NaN.
func vmathSame(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// vmathKernelCases runs every kernel of im on s, writing into d (which
// may be s), for comparison with the reference loops.
var vmathKernelCases = []struct {
	name string
	run  func(im *vmathImpl, d, s []float32) float32
}{
	{"exp", func(im *vmathImpl, d, s []float32) float32 { im.exp(d, s); return 0 }},
	{"log", func(im *vmathImpl, d, s []float32) float32 { im.log(d, s); return 0 }},
	{"sigmoid", func(im *vmathImpl, d, s []float32) float32 { im.sigmoid(d, s); return 0 }},
	{"tanh", func(im *vmathImpl, d, s []float32) float32 { im.tanh(d, s); return 0 }},
	{"erf", func(im *vmathImpl, d, s []float32) float32 { im.erf(d, s); return 0 }},
	{"softplus", func(im *vmathImpl, d, s []float32) float32 { im.softplus(d, s); return 0 }},
	{"elu", func(im *vmathImpl, d, s []float32) float32 { im.elu(d, s, 1, 1); return 0 }},
	{"selu", func(im *vmathImpl, d, s []float32) float32 { im.elu(d, s, 1.7580993, 1.050701); return 0 }},
	{"expSum", func(im *vmathImpl, d, s []float32) float32 { return im.expSum(d, s, 1.5) }},
	{"max", func(im *vmathImpl, d, s []float32) float32 {
		if len(s) == 0 {
			return 0
		}
		copy(d, s)
		return im.max(s)
	}},
}

// vmathBinCases are the binary loops in their three forms.
var vmathBinCases = []struct {
	name string
	run  func(lp mathBinLoops[float32, float32], d, a, b []float32)
}{
	{"vv", func(lp mathBinLoops[float32, float32], d, a, b []float32) { lp.vv(d, a, b) }},
	{"vs", func(lp mathBinLoops[float32, float32], d, a, b []float32) { lp.vs(d, a, b[0]) }},
	{"sv", func(lp mathBinLoops[float32, float32], d, a, b []float32) { lp.sv(d, a[0], b) }},
}

// TestVmathKernels compares every kernel set with the reference loops on
// all lengths up to 70 (every tail) and a few longer ones, out of place
// and in place, and checks that nothing past len(d) is written.
func TestVmathKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const guard = 32
	sentinel := math.Float32frombits(0x7fa5a5a5)
	lengths := []int{0, 1000, 4099}
	for n := 1; n <= 70; n++ {
		lengths = append(lengths, n)
	}
	for _, im := range vmathImpls() {
		if im == vmathGo {
			continue
		}
		for _, n := range lengths {
			s := vmathInputs(r, n)
			for _, kc := range vmathKernelCases {
				want := make([]float32, n)
				wr := kc.run(vmathGo, want, s)
				got := make([]float32, n+guard)
				for i := range got {
					got[i] = sentinel
				}
				gr := kc.run(im, got[:n], s)
				if !vmathSame(gr, wr) {
					t.Errorf("%s %s n=%d: returned %g, want %g", im.name, kc.name, n, gr, wr)
				}
				inPlace := append([]float32(nil), s...)
				ir := kc.run(im, inPlace, inPlace)
				for i := range got {
					if i >= n {
						if math.Float32bits(got[i]) != math.Float32bits(sentinel) {
							t.Fatalf("%s %s n=%d: wrote d[%d]", im.name, kc.name, n, i)
						}
						continue
					}
					if !vmathSame(got[i], want[i]) {
						t.Fatalf("%s %s n=%d: x[%d] = %g: got %g, want %g", im.name, kc.name, n, i, s[i], got[i], want[i])
					}
					if kc.name != "max" && !vmathSame(inPlace[i], want[i]) {
						t.Fatalf("%s %s n=%d in place: x[%d] = %g: got %g, want %g", im.name, kc.name, n, i, s[i], inPlace[i], want[i])
					}
				}
				if !vmathSame(ir, wr) {
					t.Errorf("%s %s n=%d in place: returned %g, want %g", im.name, kc.name, n, ir, wr)
				}
			}
			if n == 0 {
				continue
			}
			a, b := vmathInputs(r, n), vmathInputs(r, n)
			for op := 0; op < vmathBinOps; op++ {
				for _, bc := range vmathBinCases {
					want := make([]float32, n)
					bc.run(vmathGo.bin[op], want, a, b)
					got := make([]float32, n+guard)
					for i := range got {
						got[i] = sentinel
					}
					bc.run(im.bin[op], got[:n], a, b)
					for i := range got {
						if i >= n {
							if math.Float32bits(got[i]) != math.Float32bits(sentinel) {
								t.Fatalf("%s op %d %s n=%d: wrote d[%d]", im.name, op, bc.name, n, i)
							}
							continue
						}
						if !vmathSame(got[i], want[i]) {
							t.Fatalf("%s op %d %s n=%d: [%d] a=%g b=%g: got %g, want %g", im.name, op, bc.name, n, i, a[i], b[i], got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestVmathSumOrder checks the documented order of vmathExpSumGo's sum
// against a direct evaluation.
func TestVmathSumOrder(t *testing.T) {
	s := []float32{0, -30, -1, -5, 0.5, -16, -17, -20, -2, -3, -4, -6, -7, -8, -9, -10, -11, -12, -13}
	d := make([]float32, len(s))
	got := vmathExpSumGo(d, s, 0)
	var lane [16]float32
	for i := range s {
		lane[i%16] += vmathExpOne(s[i])
	}
	var l8 [8]float32
	for j := range l8 {
		l8[j] = lane[j] + lane[j+8]
	}
	l4 := [4]float32{l8[0] + l8[4], l8[1] + l8[5], l8[2] + l8[6], l8[3] + l8[7]}
	want := (l4[0] + l4[2]) + (l4[1] + l4[3])
	if got != want {
		t.Fatalf("sum = %g, want %g", got, want)
	}
}

// TestVmathFMA checks the single rounding of vmathFMA against exact
// arithmetic (math/big), on random operands and on cases built so that
// the float64 sum lands exactly halfway between two float32s while the
// exact sum does not (where rounding twice would differ).
func TestVmathFMA(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		p := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		p.Mul(p, new(big.Float).SetFloat64(float64(b)))
		p.Add(p, new(big.Float).SetFloat64(float64(c)))
		f, _ := p.Float32()
		return f
	}
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := vmathFMA(a, b, c), exact(a, b, c); got != want {
			t.Fatalf("vmathFMA(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	// a·b = 2^-24·(1 - j²·2^-46): c + a·b rounds to c + 2^-24 in float64.
	for j := 1; j <= 200; j++ {
		a := float32(math.Ldexp(1+float64(j)*0x1p-23, -24))
		b := float32(1 - float64(j)*0x1p-23)
		for _, c := range []float32{1 + 0x1p-23, 1, -1 - 0x1p-23, 3 + 0x1p-22} {
			check(a, b, c)
			check(-a, b, -c)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	rnd := func() float32 {
		f := float32(math.Ldexp(r.Float64()+0.5, r.IntN(80)-40))
		if r.IntN(2) == 0 {
			f = -f
		}
		return f
	}
	for i := 0; i < 200000; i++ {
		a, b := rnd(), rnd()
		c := rnd()
		if i%2 == 0 {
			c = float32(-float64(a) * float64(b) * (1 + (r.Float64()-0.5)*0x1p-20)) // cancellation
		}
		check(a, b, c)
	}
	// Denormal and overflowing results.
	check(0x1p-100, 0x1p-40, 0x1p-149)
	check(0x1p-75, 0x1p-75, -0x1p-149)
	check(math.MaxFloat32, 2, -math.MaxFloat32)
	check(math.MaxFloat32, 1.5, 0)
}

// TestVmathRowBroadcast checks the [N, L] with [L] path of the binary
// ops (mathRowsApply) on both sides, for row lengths around the chunk
// size and ops that do not commute, against an element-wise reference;
// mathEval also compares a split run with the inline one.
func TestVmathRowBroadcast(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	type ref struct {
		op string
		f  func(a, b float32) float32
	}
	refs := []ref{
		{"Sub", func(a, b float32) float32 { return a - b }},
		{"RealDiv", func(a, b float32) float32 { return a / b }},
		{"Maximum", func(a, b float32) float32 { // std::max, NaN-propagating
			if a != a || b != b {
				return float32(math.NaN())
			}
			if a < b {
				return b
			}
			return a
		}},
		{"SquaredDifference", func(a, b float32) float32 { d := a - b; return d * d }},
	}
	for _, l := range []int{1, 3, 7, 100, 300, 511, 512, 513} {
		for _, n := range []int{1, 5, 37} {
			full := vmathInputs(r, n*l)
			row := vmathInputs(r, l)
			for _, rf := range refs {
				for _, rowFirst := range []bool{false, true} {
					a, b := tensor.FromSlice(mathS(n, l), full), tensor.FromSlice(mathS(l), row)
					if rowFirst {
						a, b = b, a
					}
					got := tensor.As[float32](mathMust(t, rf.op, nil, a, b))
					for i, g := range got {
						x, y := full[i], row[i%l]
						if rowFirst {
							x, y = y, x
						}
						if w := rf.f(x, y); !vmathSame(g, w) {
							t.Fatalf("%s [%d %d] row first %v: [%d] %g, %g: got %g, want %g", rf.op, n, l, rowFirst, i, x, y, g, w)
						}
					}
				}
			}
			ai, bi := make([]int32, n*l), make([]int32, l)
			for i := range ai {
				ai[i] = int32(r.Uint32())
			}
			for i := range bi {
				bi[i] = int32(r.Uint32())
			}
			got := tensor.As[bool](mathMust(t, "Less", nil, tensor.FromSlice(mathS(l), bi), tensor.FromSlice(mathS(n, l), ai)))
			for i, g := range got {
				if w := bi[i%l] < ai[i]; g != w {
					t.Fatalf("Less int32 [%d] [%d %d]: [%d] got %v, want %v", l, n, l, i, g, w)
				}
			}
		}
	}
}

// TestVmathAct checks that fused epilogues get the float32 loops of the
// unfused activation ops, and nothing for float64 or other kinds.
func TestVmathAct(t *testing.T) {
	x := vmathInputs(rand.New(rand.NewPCG(17, 18)), 100)
	for kind, op := range map[string]mathUnaryOp{"elu": mathUElu, "sigmoid": mathUSigmoid, "tanh": mathUTanh} {
		f := vmathAct[float32](kind)
		if f == nil {
			t.Fatalf("no float32 loop for %s", kind)
		}
		got, want := make([]float32, len(x)), make([]float32, len(x))
		f(got, x)
		vmathUnaryFn(op)(want, x)
		for i := range got {
			if !vmathSame(got[i], want[i]) {
				t.Fatalf("%s(%g) = %g, the op gives %g", kind, x[i], got[i], want[i])
			}
		}
		if vmathAct[float64](kind) != nil {
			t.Errorf("%s: a float32 loop returned for float64", kind)
		}
	}
	if vmathAct[float32]("relu") != nil {
		t.Error("relu: want no loop")
	}
}

// TestVmathSoftmaxRows compares the softmax row kernels with the
// reference loop on rows of every tail length, logits with NaN and
// infinities among them.
func TestVmathSoftmaxRows(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, c := range []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000} {
		for _, rows := range []int{1, 2, 5} {
			s := vmathInputs(r, rows*c)
			if r.IntN(2) == 0 { // mostly ordinary logits
				for i := range s {
					s[i] = float32(r.NormFloat64() * 10)
				}
				s[r.IntN(len(s))] = vmathSpecials[r.IntN(len(vmathSpecials))]
			}
			want := make([]float32, len(s))
			vmathSoftmaxRowsGo(want, s, c)
			for _, im := range vmathImpls() {
				got := make([]float32, len(s))
				im.softmaxRows(got, s, c)
				for i := range got {
					if !vmathSame(got[i], want[i]) {
						t.Fatalf("%s c=%d rows=%d: [%d] (x %g): got %g, want %g", im.name, c, rows, i, s[i], got[i], want[i])
					}
				}
			}
		}
	}
}
