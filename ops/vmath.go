package ops

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/tensor"
)

// Vectorized float32 math (family "vmath"): exp, log, the logistic
// sigmoid, tanh, erf, Elu/Selu and Softplus as polynomial approximations
// with range reduction, the row passes of Softmax and LogSoftmax, and the
// float32 loops of the broadcasting binary ops (Add, Sub, Mul, Div,
// Maximum, Minimum, SquaredDifference).
//
// Each function is a fixed sequence of IEEE float32 operations (fused
// multiply-adds, products, sums, quotients, selections) applied to each
// element alone, so results never depend on how the work is split. The
// assembly kernels of vmath_amd64.s (AVX-512, and AVX2 with FMA) and the
// Go loops of this file (the reference loops, which other architectures
// and -tags noasm run) perform the same sequence and give the same bits;
// vmathFMA rounds as the hardware FMA does.
//
// Accuracy against float64 math, over every float32 input
// (TestVmathAccuracy with -vmath.full, which prints the table of
// bench/README.md): within 3 ulp of the exact value, at most 3 float32
// steps from it rounded; the bounds TestVmathAccuracy asserts are the
// measured maxima. Special values are those of TensorFlow's float32
// kernels (Eigen's pexp, plog, scalar_logistic_op, tanh and erf):
//   - exp(-Inf) = 0, exp(+Inf) = +Inf, +Inf above ln(MaxFloat32), denormal
//     results from -87.3 down to -103.97, 0 below;
//   - log(±0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf, denormal inputs
//     handled exactly;
//   - sigmoid is 0 at -Inf and 1 at +Inf and from x > 16.6 (where the
//     exact value rounds to 1 or to the float32 below it; Eigen's
//     approximation gives 1 from 15.7), e^x far below 0;
//   - tanh and erf are ±1 for large |x| and keep the sign of zero; Elu is
//     -1 for large negative x;
//   - NaN gives NaN everywhere.
//
// TensorFlow runs its CPU kernels with denormals flushed to zero; these
// functions produce and accept denormals (gradual underflow), as Go does.
//
//go:generate go test -tags noasm -run TestVmathAsmGenerated . -args -vmath.gen

// Polynomial coefficients, fitted by TestVmathFit (vmath_fit_test.go),
// lowest degree first.
var (
	// expm1(r) = r + r²·Q(r) for |r| ≤ ln(2)/2.
	vmathExpQ = []float32{0.49999997, 0.16666539, 0.041667756, 0.008367122, 0.0013835706}
	// log1p(f) = f + f²·Q(f) for 1+f in [sqrt(1/2), sqrt(2)).
	vmathLogQ = []float32{-0.49999988, 0.33333325, -0.2500161, 0.2000202, -0.16608475, 0.14180323, -0.13246185, 0.1291742, -0.076327175}
	// tanh(x) = x + x³·P(x²) for |x| < vmathTanhSmall.
	vmathTanhP = []float32{-0.3333328, 0.13331406, -0.053736515, 0.020628167, -0.0056922967}
	// erf(x) = x + x·Q(x²) for |x| < vmathErfSmall.
	vmathErfQ = []float32{0.12837917, -0.37612635, 0.11283754, -0.026863592, 0.0052125743, -0.0008280364, 8.9679794e-05}
	// erf(a) = 1 - exp(-a²)·R(a - vmathErfCenter) for vmathErfSmall ≤ a ≤ vmathErfBig.
	vmathErfR = []float32{0.21458697, -0.07690617, 0.02616353, -0.008504104, 0.0027517572, -0.0006768849, 0.00023150316, -0.00019252601, -8.882349e-05, -3.6517755e-05}
)

// Constants of the kernels (float32 values; the assembly generator reads
// them too).
const (
	vmathLog2E = 1.44269504088896340736
	// vmathLn2Hi + vmathLn2Lo = ln 2 to 48 bits; vmathLn2Hi is ln 2
	// rounded to float32.
	vmathLn2Hi = 0.693147182464599609375
	vmathLn2Lo = -1.904654323148236e-09
	// vmathRound is 1.5·2^23: x + vmathRound rounds x to an integer,
	// which is also the low bits of the sum (|x| < 2^22).
	vmathRound = 12582912
	// exp's input range: above vmathExpHi the result is +Inf, below
	// vmathExpLo it is 0.
	vmathExpHi = 88.75
	vmathExpLo = -104
	// Elu's exp(x)-1 is -1 below vmathExpm1Lo.
	vmathExpm1Lo = -20
	// vmathSqrtHalfBits is the bit pattern of sqrt(1/2) rounded to float32.
	vmathSqrtHalfBits = 0x3f3504f3
	// vmathMinNormal is the smallest normal float32, 2^-126.
	vmathMinNormal = 1.1754943508222875e-38
	vmathTwo23     = 8388608 // 2^23
	vmathTanhSmall = 0.625
	// tanh(x) rounds to ±1 beyond 9.01.
	vmathTanhBig   = 9.125
	vmathErfSmall  = 0.9
	vmathErfBig    = 4
	vmathErfCenter = 2.45
)

// vmathFMA returns a·b + c rounded once to float32, as VFMADD does. The
// product is exact in float64; the sum s is rounded to float64, then to
// float32. Rounding twice differs from rounding once only when s lands
// exactly halfway between two float32s (or, in the float32 denormal
// range, on one of their bit patterns) while the exact sum does not:
// such an s (vmathTwice) is then moved one float64 ulp toward the exact
// sum, whose error the TwoSum below gives exactly.
func vmathFMA(a, b, c float32) float32 {
	p, cf := float64(a)*float64(b), float64(c)
	s := p + cf
	if bits := math.Float64bits(s); vmathTwice(s) {
		bv := s - p
		// e is 0 for an exact sum, NaN for an infinite one.
		if e := (p - (s - bv)) + (cf - bv); e < 0 || e > 0 {
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
}

// vmathFMAFast is the common case of vmathFMA, small enough to inline:
// a·b + c rounded to float64, then to float32, and whether that rounded
// once (otherwise the caller calls vmathFMA).
func vmathFMAFast(a, b, c float32) (float32, bool) {
	s := float64(a)*float64(b) + float64(c)
	return float32(s), !vmathTwice(s)
}

// vmathPoly evaluates c[0] + c[1]·x + … by Horner's rule with FMA.
func vmathPoly(c []float32, x float32) float32 {
	p := c[len(c)-1]
	for i := len(c) - 2; i >= 0; i-- {
		q, ok := vmathFMAFast(p, x, c[i])
		if !ok {
			q = vmathFMA(p, x, c[i])
		}
		p = q
	}
	return p
}

// vmathMinOf and vmathMaxOf are MINPS and MAXPS (a < b ? a : b and
// a > b ? a : b): they return b when either is NaN. With a constant
// for a they clamp and keep NaN.
func vmathMinOf(a, b float32) float32 {
	if a < b {
		return a
	}
	return b
}

func vmathMaxOf(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

// vmathAbs clears the sign bit.
func vmathAbs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// vmathCopySign returns |y| with the sign bit of x.
func vmathCopySign(y, x float32) float32 {
	return math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&(1<<31))
}

// vmathReduce splits x (already clamped to [vmathExpLo, vmathExpHi], or
// NaN) into x = n·ln2 + r: it returns expm1(r), with |r| ≤ ln(2)/2, and
// n. The first step of the reduction is exact.
func vmathReduce(x float32) (float32, int32) {
	t, ok := vmathFMAFast(x, vmathLog2E, vmathRound)
	if !ok {
		t = vmathFMA(x, vmathLog2E, vmathRound)
	}
	n := t - vmathRound
	ni := int32(math.Float32bits(t) - math.Float32bits(vmathRound))
	r := vmathFMA(n, -vmathLn2Hi, x) // exact
	if r2, ok := vmathFMAFast(n, -vmathLn2Lo, r); ok {
		r = r2
	} else {
		r = vmathFMA(n, -vmathLn2Lo, r)
	}
	q := vmathPoly(vmathExpQ, r)
	p, ok := vmathFMAFast(q, r*r, r)
	if !ok {
		p = vmathFMA(q, r*r, r)
	}
	return p, ni
}

// vmathPow2 returns 2^n for -126 ≤ n ≤ 127 from its bit pattern.
func vmathPow2(n int32) float32 { return math.Float32frombits(uint32(n+127) << 23) }

// vmathExpOne is exp(x): 2^n·(1 + expm1(r)), scaled in two exact steps
// so that results near overflow and underflow (denormal) round once.
func vmathExpOne(x float32) float32 {
	if x != x {
		return x
	}
	x = vmathMaxOf(vmathExpLo, vmathMinOf(vmathExpHi, x))
	p, n := vmathReduce(x)
	n1 := n >> 1
	return (p + 1) * vmathPow2(n1) * vmathPow2(n-n1)
}

// vmathEluOne is x < 0 ? a·(exp(x) - 1) : b·x, with exp(x) - 1 computed
// as 2^n·expm1(r) + (2^n - 1), accurate near 0.
func vmathEluOne(x, a, b float32) float32 {
	if !(x < 0) {
		return b * x
	}
	x = vmathMaxOf(vmathExpm1Lo, x)
	p, n := vmathReduce(x)
	s := vmathPow2(n)
	return a * vmathFMA(s, p, s-1)
}

// vmathLogOne is log(x) = e·ln2 + log1p(f) with 1+f in [sqrt(1/2),
// sqrt(2)); denormal inputs are scaled by 2^23 first.
func vmathLogOne(x float32) float32 {
	switch {
	case x < 0 || x != x:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	case x > math.MaxFloat32:
		return x
	}
	adj := int32(0)
	if x < vmathMinNormal {
		x *= vmathTwo23
		adj = -23
	}
	ix := int32(math.Float32bits(x)) - vmathSqrtHalfBits
	e := float32(ix>>23 + adj)
	f := math.Float32frombits(uint32(ix&0x7fffff)+vmathSqrtHalfBits) - 1
	q := vmathPoly(vmathLogQ, f)
	y := vmathFMA(q, f*f, f)
	y = vmathFMA(e, vmathLn2Lo, y)
	return vmathFMA(e, vmathLn2Hi, y)
}

// vmathSigmoidOne is 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, with
// e = exp(-|x|).
func vmathSigmoidOne(x float32) float32 {
	e := vmathExpOne(-vmathAbs(x))
	num := float32(1)
	if x < 0 {
		num = e
	}
	return num / (1 + e)
}

// vmathTanhOne is a + a³·P(a²) for a = |x| < vmathTanhSmall, else
// 1 - 2/(exp(2a) + 1), with the sign of x (computing on |x| keeps
// tanh(-0) = -0).
func vmathTanhOne(x float32) float32 {
	a := vmathAbs(x)
	var y float32
	if a < vmathTanhSmall {
		a2 := a * a
		y = vmathFMA(a, a2*vmathPoly(vmathTanhP, a2), a)
	} else {
		a = vmathMinOf(vmathTanhBig, a)
		e := vmathExpOne(a + a)
		y = 1 - 2/(e+1)
	}
	return vmathCopySign(y, x)
}

// vmathErfOne is x + x·Q(x²) for |x| < vmathErfSmall, else
// ±(1 - exp(-a²)·R(a)) with a = min(|x|, vmathErfBig).
func vmathErfOne(x float32) float32 {
	a := vmathAbs(x)
	if a < vmathErfSmall {
		return vmathFMA(x, vmathPoly(vmathErfQ, x*x), x)
	}
	a = vmathMinOf(vmathErfBig, a)
	r := vmathPoly(vmathErfR, a-vmathErfCenter)
	e := vmathExpOne(-(a * a))
	return vmathCopySign(vmathFMA(-e, r, 1), x)
}

// The reference loops: the kernels of vmathGo, which the assembly ones
// equal bit for bit.

func vmathExpGo(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathExpOne(x)
	}
}

func vmathLogGo(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathLogOne(x)
	}
}

func vmathSigmoidGo(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathSigmoidOne(x)
	}
}

func vmathTanhGo(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathTanhOne(x)
	}
}

func vmathErfGo(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathErfOne(x)
	}
}

func vmathSoftplusGo(d, s []float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathSoftplusOne(x)
	}
}

func vmathEluGo(d, s []float32, a, b float32) {
	s = s[:len(d)]
	for i, x := range s {
		d[i] = vmathEluOne(x, a, b)
	}
}

// vmathExpSumGo stores d[i] = exp(s[i] - shift) and returns their sum,
// added in a fixed order: sixteen partial sums, lane j holding the
// elements i ≡ j (mod 16) in order, then halved pairwise (lane j plus
// lane j+8, then j+4, j+2, j+1).
func vmathExpSumGo(d, s []float32, shift float32) float32 {
	s = s[:len(d)]
	var lane [16]float32
	for i, x := range s {
		e := vmathExpOne(x - shift)
		d[i] = e
		lane[i%16] += e
	}
	for w := 8; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			lane[j] += lane[j+w]
		}
	}
	return lane[0]
}

// vmathMaxGo returns the largest element of s (not empty); it may ignore
// NaN.
func vmathMaxGo(s []float32) float32 {
	m := float32(math.Inf(-1))
	for _, x := range s {
		m = vmathMaxOf(x, m)
	}
	return m
}

// vmathUnaryFn returns the float32 loop of op run with vmathF32, or nil
// for ops without one.
func vmathUnaryFn(op mathUnaryOp) func(d, s []float32) {
	im := vmathF32
	switch op {
	case mathUExp:
		return im.exp
	case mathULog:
		return im.log
	case mathUSigmoid:
		return im.sigmoid
	case mathUTanh:
		return im.tanh
	case mathUErf:
		return im.erf
	case mathUElu:
		return func(d, s []float32) { im.elu(d, s, 1, 1) }
	case mathUSelu:
		return func(d, s []float32) { im.elu(d, s, mathSeluScaleAlpha, mathSeluScale) }
	case mathUSoftplus:
		return im.softplus
	}
	return nil
}

// vmathAct returns the float32 loop of a fused epilogue's activation step
// kind ("elu", "sigmoid", "tanh"), the one the unfused op runs, or nil
// when T is not float32 or the kind has none.
func vmathAct[T tensor.Float](kind string) func(d, s []T) {
	var op mathUnaryOp
	switch kind {
	case "elu":
		op = mathUElu
	case "sigmoid":
		op = mathUSigmoid
	case "tanh":
		op = mathUTanh
	default:
		return nil
	}
	f, _ := any(vmathUnaryFn(op)).(func(d, s []T))
	return f
}

// vmathSoftplusTh is TensorFlow's float32 Softplus threshold,
// log(epsilon) + 2 (tensorflow/core/kernels/softplus_op.h).
var vmathSoftplusTh = float32(math.Log(0x1p-23)) + 2

// vmathSoftplusOne is Softplus as TensorFlow computes it: x above
// -threshold, exp(x) below threshold, log1p(exp(x)) between, the last as
// log(u)·(e/(u-1)) with e = exp(x) and u = 1 + e (Eigen's log1p, within a
// few ulp although u is rounded).
func vmathSoftplusOne(x float32) float32 {
	e := vmathExpOne(x)
	u := 1 + e
	mid := vmathLogOne(u) * (e / (u - 1))
	switch {
	case x > -vmathSoftplusTh:
		return x
	case x < vmathSoftplusTh:
		return e
	}
	return mid
}

// vmathSoftmaxRowsGo is Softmax over each row of c elements as TensorFlow
// computes it (softmax_op_functor.h): exp(x - max) in float32, then a
// product with the reciprocal of their sum. The maximum ignores NaN: a
// NaN anywhere makes the sum, hence the whole row, NaN.
func vmathSoftmaxRowsGo(d, s []float32, c int) {
	for r := 0; r+c <= len(d); r += c {
		row, x := d[r:r+c], s[r:r+c]
		m := vmathMaxGo(x)
		sum := vmathExpSumGo(row, x, m)
		mathArithVS(mathOpMul, row, row, 1/sum)
	}
}

// vmathLogSoftmaxRow is LogSoftmax over one row as TensorFlow computes
// it: (x - max) - log(sum of exp(x - max)), in float32 (the logarithm of
// the sum in float64, rounded).
func vmathLogSoftmaxRow(im *vmathImpl, d, x []float32) {
	m := im.max(x)
	ls := float32(math.Log(float64(im.expSum(d, x, m))))
	sub := im.bin[mathOpSub].vs
	sub(d, x, m)
	sub(d, d, ls)
}

// vmathImpl is a set of float32 kernels. Each unary kernel writes
// len(d) elements computed from s[:len(d)]; d and s may be the same
// slice.
type vmathImpl struct {
	name                                   string
	exp, log, sigmoid, tanh, erf, softplus func(d, s []float32)
	// elu is x < 0 ? a·(exp(x) - 1) : b·x.
	elu    func(d, s []float32, a, b float32)
	expSum func(d, s []float32, shift float32) float32
	max    func(s []float32) float32
	// softmaxRows is vmathSoftmaxRow on each row of c ≥ 1 elements of d
	// (len(d) a multiple of c).
	softmaxRows func(d, s []float32, c int)
	// bin are the loops of the binary ops, indexed by mathArithOp.
	bin [vmathBinOps]mathBinLoops[float32, float32]
}

// vmathBinOps is the number of binary ops with float32 kernels: the
// mathArithOp values from mathOpAdd to mathOpSqDiff.
const vmathBinOps = int(mathOpSqDiff) + 1

var vmathGo = &vmathImpl{
	name: "go", exp: vmathExpGo, log: vmathLogGo, sigmoid: vmathSigmoidGo, tanh: vmathTanhGo, erf: vmathErfGo,
	softplus: vmathSoftplusGo, elu: vmathEluGo, expSum: vmathExpSumGo, max: vmathMaxGo,
	softmaxRows: vmathSoftmaxRowsGo, bin: vmathGoBin(),
}

func vmathGoBin() (bin [vmathBinOps]mathBinLoops[float32, float32]) {
	for op := range bin {
		bin[op] = mathArithLoopsGo[float32](mathArithOp(op))
	}
	return bin
}

// vmathArithLoops returns the loops of vmathF32 for op when T is float32.
func vmathArithLoops[T tensor.Number](op mathArithOp) (mathBinLoops[T, T], bool) {
	if int(op) >= vmathBinOps {
		return mathBinLoops[T, T]{}, false
	}
	lp, ok := any(vmathF32.bin[op]).(mathBinLoops[T, T])
	return lp, ok
}

// vmathF32 is the kernel set of this CPU, chosen once.
var vmathF32 = vmathSelect()

func vmathCheck(name string, d, s []float32) {
	if len(s) < len(d) {
		panic(fmt.Sprintf("ops: vmath %s: source has %d elements, destination %d", name, len(s), len(d)))
	}
}
