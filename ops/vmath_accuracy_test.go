package ops

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The accuracy of the float32 math kernels of vmath.go, measured against
// float64 math:
//
//	go test ./ops -run 'TestVmathAccuracy$' -v                      # every 997th bit pattern, seconds
//	go test ./ops -run 'TestVmathAccuracy$' -timeout 0 -vmath.full  # all 2^32, prints the tables
//
// (-run 'TestVmathAccuracy/exp$' narrows the run to one function.) The
// bounds each function asserts are the maxima of the full run, rounded
// up, so a change that makes any kernel set less accurate anywhere fails
// the sampled run where the sample sees it and the full run always.

var vmathFullFlag = flag.Bool("vmath.full", false, "measure the float32 math kernels on all 2^32 inputs and print the error tables (minutes)")

// vmathSampleStep is the stride through the 2^32 bit patterns of the
// default run: a prime, so the sample meets every exponent and many
// mantissas of each (vmath_race_test.go widens it under the race
// detector).
var vmathSampleStep uint64 = 997

// vmathErr measures how far a float32 result is from the exact value w
// (a float64 reference, whose own error is far below a float32 ulp).
type vmathErr struct {
	// ulp is |got - w| in float32 ulps at w (denormal ulps below 2^-126):
	// 0.5 or less when got is w correctly rounded.
	ulp float64
	// steps is how many float32 values lie from float32(w), the
	// reference rounded to float32, to got: 0 when they are equal.
	steps uint32
	// rel is |got - w| / |w| where float32(w) is a finite normal float32
	// (relative errors of denormal results are not informative).
	rel float64
}

// vmathFunc is one float32 function with its float64 reference, written
// from the definitions, and the largest error the kernels may have.
type vmathFunc struct {
	name string
	ops  string // the ops that run it
	run  func(im *vmathImpl, d, s []float32)
	ref  func(x float64) float64
	// bound is the largest error of the full run, rounded up.
	bound vmathErr
}

var vmathFuncs = []vmathFunc{
	{"exp", "Exp", func(im *vmathImpl, d, s []float32) { im.exp(d, s) }, math.Exp,
		vmathErr{1.05, 1, 8.5e-8}},
	{"log", "Log", func(im *vmathImpl, d, s []float32) { im.log(d, s) }, math.Log,
		vmathErr{0.95, 1, 8.1e-8}},
	{"sigmoid", "Sigmoid, fused sigmoid", func(im *vmathImpl, d, s []float32) { im.sigmoid(d, s) }, vmathRefSigmoid,
		vmathErr{2.45, 2, 1.8e-7}},
	{"tanh", "Tanh, fused tanh", func(im *vmathImpl, d, s []float32) { im.tanh(d, s) }, math.Tanh,
		vmathErr{1.35, 1, 1.5e-7}},
	{"erf", "Erf", func(im *vmathImpl, d, s []float32) { im.erf(d, s) }, math.Erf,
		vmathErr{1.15, 1, 8.3e-8}},
	{"elu", "Elu, fused elu", func(im *vmathImpl, d, s []float32) { im.elu(d, s, 1, 1) }, vmathRefElu,
		vmathErr{1, 1, 9e-8}},
	{"selu", "Selu", func(im *vmathImpl, d, s []float32) { im.elu(d, s, mathSeluScaleAlpha, mathSeluScale) }, vmathRefSelu,
		vmathErr{1.75, 2, 1.5e-7}},
	{"softplus", "Softplus", func(im *vmathImpl, d, s []float32) { im.softplus(d, s) }, vmathRefSoftplus,
		vmathErr{2.9, 3, 2.3e-7}},
}

// vmathRefSoftplus is TensorFlow's Softplus with its float32 thresholds
// (x itself above 13.94, exp(x) below -13.94), the pieces computed exactly.
func vmathRefSoftplus(x float64) float64 {
	switch th := float64(vmathSoftplusTh); {
	case x > -th:
		return x
	case x < th:
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}

func vmathRefSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func vmathRefElu(x float64) float64 {
	if x < 0 {
		return math.Expm1(x)
	}
	return x
}

// vmathRefSelu is SELU as TensorFlow's float32 kernel defines it: with
// its constants rounded to float32 (so that, like TensorFlow, it
// overflows from x = 3.2386221e38, where the exact scale·x is still
// below MaxFloat32).
func vmathRefSelu(x float64) float64 {
	if x < 0 {
		return float64(float32(mathSeluScaleAlpha)) * math.Expm1(x)
	}
	return float64(float32(mathSeluScale)) * x
}

// vmathULP returns the error of got against the exact want in ulps of
// the float32 format at want (denormal ulps below 2^-126), +Inf when got
// is not the right special value: NaN for NaN, ±Inf where want rounds to
// ±Inf.
func vmathULP(got float32, want float64) float64 {
	g := float64(got)
	switch {
	case math.IsNaN(want):
		if math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(float64(float32(want)), 0):
		if g == float64(float32(want)) {
			return 0
		}
		return math.Inf(1)
	case math.IsNaN(g) || math.IsInf(g, 0):
		return math.Inf(1)
	}
	ulp := 0x1p-149
	if a := math.Abs(want); a >= 0x1p-126 {
		// 2^(e-23) for a in [2^e, 2^(e+1)): a's exponent field less 23.
		ulp = math.Float64frombits(math.Float64bits(a)&(0x7ff<<52) - 23<<52)
	}
	return math.Abs(g-want) / ulp
}

// vmathOrd maps a float32 (not NaN) to an integer that counts the
// float32 values from +0: consecutive floats map to consecutive integers,
// and -0 to 0.
func vmathOrd(f float32) int64 {
	b := math.Float32bits(f)
	if b>>31 != 0 {
		return -int64(b &^ (1 << 31))
	}
	return int64(b)
}

// vmathMeasure returns the errors of got against the exact want;
// all three are infinite (steps the largest uint32) when got is the
// wrong special value.
func vmathMeasure(got float32, want float64) vmathErr {
	u := vmathULP(got, want)
	if math.IsInf(u, 1) {
		return vmathErr{u, math.MaxUint32, u}
	}
	if math.IsNaN(want) {
		return vmathErr{}
	}
	w32 := float32(want)
	d := vmathOrd(got) - vmathOrd(w32)
	if d < 0 {
		d = -d
	}
	e := vmathErr{ulp: u, steps: uint32(min(d, math.MaxUint32))}
	if a := math.Abs(want); a >= vmathMinNormal && !math.IsInf(float64(w32), 0) {
		e.rel = math.Abs(float64(got)-want) / a
	}
	return e
}

// vmathWorst is the largest error of each kind over a set of inputs,
// with the input where it occurs (the smallest bit pattern among ties,
// so that the report does not depend on the order of the sweep).
type vmathWorst struct {
	max                vmathErr
	ulpX, stepsX, relX float32
	got                float32 // the result at ulpX
	want               float64 // the exact value at ulpX
	rounded            int     // results equal to the rounded reference
	n                  int     // inputs measured
}

// vmathBefore reports whether the error a at input x replaces the worst
// b at input y.
func vmathBefore[T float64 | uint32](a T, x float32, b T, y float32, empty bool) bool {
	return empty || a > b || (a == b && math.Float32bits(x) < math.Float32bits(y))
}

func (w *vmathWorst) add(x, got float32, want float64) {
	e := vmathMeasure(got, want)
	empty := w.n == 0
	if vmathBefore(e.ulp, x, w.max.ulp, w.ulpX, empty) {
		w.max.ulp, w.ulpX, w.got, w.want = e.ulp, x, got, want
	}
	if vmathBefore(e.steps, x, w.max.steps, w.stepsX, empty) {
		w.max.steps, w.stepsX = e.steps, x
	}
	if vmathBefore(e.rel, x, w.max.rel, w.relX, empty) {
		w.max.rel, w.relX = e.rel, x
	}
	if e.steps == 0 {
		w.rounded++
	}
	w.n++
}

func (w *vmathWorst) merge(o vmathWorst) {
	if o.n == 0 {
		return
	}
	empty := w.n == 0
	if vmathBefore(o.max.ulp, o.ulpX, w.max.ulp, w.ulpX, empty) {
		w.max.ulp, w.ulpX, w.got, w.want = o.max.ulp, o.ulpX, o.got, o.want
	}
	if vmathBefore(o.max.steps, o.stepsX, w.max.steps, w.stepsX, empty) {
		w.max.steps, w.stepsX = o.max.steps, o.stepsX
	}
	if vmathBefore(o.max.rel, o.relX, w.max.rel, w.relX, empty) {
		w.max.rel, w.relX = o.max.rel, o.relX
	}
	w.rounded += o.rounded
	w.n += o.n
}

// vmathSweep checks f on the bit patterns lo, lo+step, … below hi
// (chunked over goroutines) in every kernel set of ims, the reference
// loops (vmathGo) among them: it returns each set's worst errors against
// the float64 reference and the first input where a set differs from the
// reference loops.
func vmathSweep(f vmathFunc, ims []*vmathImpl, lo, hi, step uint64) ([]vmathWorst, string) {
	const chunk = 1 << 16
	var (
		mu       sync.Mutex
		worst    = make([]vmathWorst, len(ims))
		mismatch string
		wg       sync.WaitGroup
	)
	next := lo
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs := make([]float32, chunk)
			want := make([]float64, chunk)
			twin := make([]float32, chunk)
			got := make([]float32, chunk)
			local := make([]vmathWorst, len(ims))
			for {
				mu.Lock()
				start := next
				next += chunk * step
				mu.Unlock()
				if start >= hi {
					break
				}
				n := 0
				for b := start; b < hi && n < chunk; b += step {
					xs[n] = math.Float32frombits(uint32(b))
					want[n] = f.ref(float64(xs[n]))
					n++
				}
				f.run(vmathGo, twin[:n], xs[:n])
				// The errors of the reference loops on this chunk, which
				// a kernel set that gives the same bits shares.
				var ref vmathWorst
				for i, x := range xs[:n] {
					ref.add(x, twin[i], want[i])
				}
				var bad string
				for k, im := range ims {
					if im == vmathGo {
						local[k].merge(ref)
						continue
					}
					f.run(im, got[:n], xs[:n])
					same := true
					for i, x := range xs[:n] {
						if !vmathSame(got[i], twin[i]) {
							same = false
							if bad == "" {
								bad = fmt.Sprintf("%s(%g) [bits %#08x]: %s gives %g, the reference loop %g",
									f.name, x, math.Float32bits(x), im.name, got[i], twin[i])
							}
						}
					}
					if same {
						local[k].merge(ref)
						continue
					}
					for i, x := range xs[:n] {
						local[k].add(x, got[i], want[i])
					}
				}
				if bad != "" {
					mu.Lock()
					if mismatch == "" {
						mismatch = bad
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			for k := range ims {
				worst[k].merge(local[k])
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return worst, mismatch
}

// vmathRow is one line of the error table.
type vmathRow struct {
	f  vmathFunc
	im string
	w  vmathWorst
}

// TestVmathAccuracy measures every kernel set against float64 math on a
// sample of all float32 bit patterns (every vmathSampleStep-th; every
// one with -vmath.full, which also prints the tables), requires each
// function's errors to stay within its bounds and the assembly sets to
// equal the reference loops bit for bit.
func TestVmathAccuracy(t *testing.T) {
	step := vmathSampleStep
	if *vmathFullFlag {
		step = 1
	}
	ims := vmathImpls()
	var rows []vmathRow
	for _, f := range vmathFuncs {
		t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
			ws, mismatch := vmathSweep(f, ims, 0, 1<<32, step)
			if mismatch != "" {
				t.Errorf("%s", mismatch)
			}
			for k, w := range ws {
				rows = append(rows, vmathRow{f, ims[k].name, w})
				t.Logf("%-14s %-6s max %.3f ulp at x = %g (%#08x): got %g, want %.9g; %d from the rounded reference at %g; rel %.3g at %g (%d inputs)",
					f.name, ims[k].name, w.max.ulp, w.ulpX, math.Float32bits(w.ulpX), w.got, w.want,
					w.max.steps, w.stepsX, w.max.rel, w.relX, w.n)
				if b := f.bound; w.max.ulp > b.ulp || w.max.steps > b.steps || w.max.rel > b.rel {
					t.Errorf("%s %s: max %.3f ulp (at %g), %d from the rounded reference (at %g), rel %.3g (at %g); want ≤ %g, %d, %g",
						f.name, ims[k].name, w.max.ulp, w.ulpX, w.max.steps, w.stepsX, w.max.rel, w.relX,
						b.ulp, b.steps, b.rel)
				}
			}
		})
	}
	table := vmathErrorTable(rows, step)
	if *vmathFullFlag {
		fmt.Print(table, "\n", vmathSpecialTable(), "\n", vmathSoftmaxTable())
		return
	}
	t.Logf("\n%s", table)
}

// TestVmathExpSumIsExp checks that the exponentials the Softmax and
// LogSoftmax kernels compute (expSum, here with shift 0) are those of
// exp, bit for bit, in every kernel set, on the same inputs as
// TestVmathAccuracy (all 2^32 with -vmath.full): they then have exp's
// errors.
func TestVmathExpSumIsExp(t *testing.T) {
	step := vmathSampleStep
	if *vmathFullFlag {
		step = 1
	}
	const chunk = 1 << 16
	var (
		mu       sync.Mutex
		next     uint64
		n        int
		mismatch string
		wg       sync.WaitGroup
	)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs := make([]float32, 0, chunk)
			e, es := make([]float32, chunk), make([]float32, chunk)
			for {
				mu.Lock()
				start := next
				next += chunk * step
				mu.Unlock()
				if start >= 1<<32 {
					return
				}
				xs = xs[:0]
				for b := start; b < 1<<32 && len(xs) < chunk; b += step {
					xs = append(xs, math.Float32frombits(uint32(b)))
				}
				for _, im := range vmathImpls() {
					im.exp(e[:len(xs)], xs)
					im.expSum(es[:len(xs)], xs, 0)
					for i, x := range xs {
						if !vmathSame(e[i], es[i]) {
							mu.Lock()
							if mismatch == "" {
								mismatch = fmt.Sprintf("%s: exp(%g) = %g, expSum gives %g", im.name, x, e[i], es[i])
							}
							mu.Unlock()
							break
						}
					}
				}
				mu.Lock()
				n += len(xs)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if mismatch != "" {
		t.Fatal(mismatch)
	}
	t.Logf("expSum equals exp on %d inputs in %d kernel sets", n, len(vmathImpls()))
}

// vmathErrorTable formats rows as a Markdown table.
func vmathErrorTable(rows []vmathRow, step uint64) string {
	var b strings.Builder
	what := "all 2^32 float32 inputs"
	if step != 1 {
		what = fmt.Sprintf("every %dth float32 bit pattern", step)
	}
	fmt.Fprintf(&b, "Float32 math kernels against float64 math (Go's math package), %s:\n\n", what)
	b.WriteString("| function | ops | kernels | max error (ulp) | worst input | max ulp from rounded reference | max relative error | correctly rounded |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		w := r.w
		fmt.Fprintf(&b, "| %s | %s | %s | %.3f | %g | %d | %.3g | %.2f%% |\n",
			r.f.name, r.f.ops, r.im, w.max.ulp, w.ulpX, w.max.steps, w.max.rel,
			100*float64(w.rounded)/float64(max(w.n, 1)))
	}
	b.WriteString("\nThe exponentials of Softmax and LogSoftmax (expSum) equal exp's bit for bit on the same inputs (TestVmathExpSumIsExp).\n")
	return b.String()
}

// vmathSpecialTable lists what each function of vmathF32 gives at
// special inputs and at the edges of its ranges.
func vmathSpecialTable() string {
	xs := []float32{
		float32(math.Inf(-1)), -math.MaxFloat32, -1000, -104, -103.97, -100, -87.34, -20, -17, -9,
		float32(math.Copysign(0, -1)), 0, math.SmallestNonzeroFloat32, vmathMinNormal, 1e-20,
		9, 17, 88.72283, 88.7229, 89, 1000, math.MaxFloat32, float32(math.Inf(1)), float32(math.NaN()),
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Special inputs (kernel set %s):\n\n| x |", vmathF32.name)
	var fs []vmathFunc
	for _, f := range vmathFuncs {
		fs = append(fs, f)
		fmt.Fprintf(&b, " %s |", f.name)
	}
	b.WriteString("\n|---:|")
	for range fs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, x := range xs {
		fmt.Fprintf(&b, "| %g |", x)
		for _, f := range fs {
			d := make([]float32, 1)
			f.run(vmathF32, d, []float32{x})
			fmt.Fprintf(&b, " %g |", d[0])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// vmathSoftmaxTable measures the Softmax and LogSoftmax rows of every
// kernel set on random logits against float64 references.
func vmathSoftmaxTable() string {
	var b strings.Builder
	b.WriteString("Softmax and LogSoftmax rows (2000 rows of 1 to 4000 random logits, deviation 0.1 to 100) against float64; " +
		"\"given x − max\" takes the differences as rounded to float32, as TensorFlow's kernels (and these) compute them:\n\n")
	b.WriteString("| kernels | Softmax: max relative error | Softmax: max relative error given x − max | LogSoftmax: max \\|error\\| / max(1, \\|value\\|) |\n|---|---:|---:|---:|\n")
	for _, im := range vmathImpls() {
		e := vmathSoftmaxErrors(im, 2000)
		fmt.Fprintf(&b, "| %s | %.3g | %.3g | %.3g |\n", im.name, e.rel, e.relGiven, e.logAbs)
	}
	return b.String()
}

// vmathSoftmaxErr holds the largest errors of the Softmax and LogSoftmax
// rows.
type vmathSoftmaxErr struct {
	// rel is Softmax's relative error against float64 softmax; relGiven
	// against float64 softmax of the differences x - max rounded to
	// float32 (the first step of the kernels, exact only when x and max
	// are close): what the kernels' exp, sum and product add.
	rel, relGiven float64
	// logAbs is LogSoftmax's absolute error, relative above 1: its values
	// near 0 come from cancellation and carry the absolute error of
	// log(sum).
	logAbs float64
}

// vmathSoftmaxErrors runs rows of random logits (lengths 1 to 4000,
// deviations 0.1 to 100) through im's Softmax and LogSoftmax rows and
// returns their largest errors against float64 references (over
// results in the float32 normal range).
func vmathSoftmaxErrors(im *vmathImpl, rows int) (e vmathSoftmaxErr) {
	r := rand.New(rand.NewPCG(21, 22))
	devs := []float64{0.1, 1, 10, 100}
	for i := 0; i < rows; i++ {
		c := 1 + r.IntN(4000)
		if i%2 == 0 {
			c = 1 + r.IntN(64)
		}
		dev := devs[i%len(devs)]
		x := make([]float32, c)
		for j := range x {
			x[j] = float32(r.NormFloat64() * dev)
		}
		var m32 float32 = float32(math.Inf(-1))
		for _, v := range x {
			m32 = max(m32, v)
		}
		m := float64(m32)
		var sum, sumGiven float64
		for _, v := range x {
			sum += math.Exp(float64(v) - m)
			sumGiven += math.Exp(float64(v - m32))
		}
		d := make([]float32, c)
		im.softmaxRows(d, x, c)
		for j, v := range x {
			e.rel = max(e.rel, vmathMeasure(d[j], math.Exp(float64(v)-m)/sum).rel)
			e.relGiven = max(e.relGiven, vmathMeasure(d[j], math.Exp(float64(v-m32))/sumGiven).rel)
		}
		vmathLogSoftmaxRow(im, d, x)
		for j, v := range x {
			w := float64(v) - m - math.Log(sum)
			e.logAbs = max(e.logAbs, math.Abs(float64(d[j])-w)/math.Max(1, math.Abs(w)))
		}
	}
	return e
}

// TestVmathSoftmaxAccuracy bounds the errors of the Softmax and
// LogSoftmax rows of every kernel set on random logits (the largest
// measured on this sample, rounded up).
func TestVmathSoftmaxAccuracy(t *testing.T) {
	bound := vmathSoftmaxErr{rel: 2.1e-6, relGiven: 2.6e-7, logAbs: 1.3e-7}
	for _, im := range vmathImpls() {
		e := vmathSoftmaxErrors(im, 300)
		t.Logf("%s: Softmax max rel %.3g, given x - max %.3g; LogSoftmax %.3g", im.name, e.rel, e.relGiven, e.logAbs)
		if e.rel > bound.rel || e.relGiven > bound.relGiven || e.logAbs > bound.logAbs {
			t.Errorf("%s: Softmax max rel %.3g, given x - max %.3g; LogSoftmax %.3g; want ≤ %g, %g, %g",
				im.name, e.rel, e.relGiven, e.logAbs, bound.rel, bound.relGiven, bound.logAbs)
		}
	}
}
