package conformance

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/tensor"
)

// These tests check the harness of TestDL4J itself, without the shared
// data: how it reads TensorFlow's files, compares values, guards runs and
// ranks missing ops.

func TestDL4JReadTensor(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name      string
		csv       string
		shape     string
		wantShape tensor.Shape
		want      []float64
		wantErr   bool
	}{
		{name: "vector", csv: "1.50000000\n-2.25000000\n", shape: "2\n", wantShape: tensor.Shape{2}, want: []float64{1.5, -2.25}},
		{name: "matrix", csv: "1.00000000\n2.00000000\n3.00000000\n4.00000000\n5.00000000\n6.00000000", shape: "2\n3", wantShape: tensor.Shape{2, 3}, want: []float64{1, 2, 3, 4, 5, 6}},
		// Scalar outputs were written with Python str(), no newline.
		{name: "scalar True", csv: "True", shape: "0\n", wantShape: tensor.Shape{}, want: []float64{1}},
		{name: "scalar False", csv: "False", shape: "0\n", wantShape: tensor.Shape{}, want: []float64{0}},
		{name: "scalar full precision", csv: "0.18039072304964066", shape: "0\n", wantShape: tensor.Shape{}, want: []float64{0.18039072304964066}},
		{name: "scalar int str", csv: "3", shape: "0\n", wantShape: tensor.Shape{}, want: []float64{3}},
		{name: "empty shape file is a scalar", csv: "2.50000000\n", shape: "", wantShape: tensor.Shape{}, want: []float64{2.5}},
		{name: "single 0 without values is [0]", csv: "", shape: "0\n", wantShape: tensor.Shape{0}, want: nil},
		{name: "zero-size matrix", csv: "", shape: "2\n0\n", wantShape: tensor.Shape{2, 0}, want: nil},
		// NumPy prints NaN and infinities padded to the field width.
		{name: "nan and inf", csv: "       nan\n      -inf\n       inf\n-inf\n", shape: "4", wantShape: tensor.Shape{4}, want: []float64{nan, -inf, inf, -inf}},
		{name: "exponent", csv: "4.979719960829243e-05", shape: "0", wantShape: tensor.Shape{}, want: []float64{4.979719960829243e-05}},
		{name: "too few values", csv: "1.0\n2.0\n", shape: "3\n", wantErr: true},
		{name: "not a number", csv: "abc\n", shape: "1\n", wantErr: true},
		{name: "bad dimension", csv: "1.0\n", shape: "-1\n", wantErr: true},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(base+".csv", []byte(c.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(base+".shape", []byte(c.shape), 0o644); err != nil {
				t.Fatal(err)
			}
			ref, err := dl4jReadTensor(base)
			if c.wantErr {
				if err == nil {
					t.Fatalf("got %v%v, want an error", ref.shape, ref.values)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ref.shape.Equal(c.wantShape) {
				t.Errorf("shape %v, want %v", ref.shape, c.wantShape)
			}
			if len(ref.values) != len(c.want) {
				t.Fatalf("values %v, want %v", ref.values, c.want)
			}
			for i, w := range c.want {
				if g := ref.values[i]; g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Errorf("value %d = %v, want %v", i, g, w)
				}
			}
		})
	}
}

func TestDL4JRefAs(t *testing.T) {
	ref := func(v ...float64) *dl4jRef {
		return &dl4jRef{file: "x", shape: tensor.Shape{len(v)}, values: v}
	}
	cases := []struct {
		name    string
		ref     *dl4jRef
		dt      tensor.DType
		want    any
		wantErr bool
	}{
		{name: "float32 rounds", ref: ref(0.1, -2), dt: tensor.Float32, want: []float32{0.1, -2}},
		{name: "float64", ref: ref(0.1, -2), dt: tensor.Float64, want: []float64{0.1, -2}},
		{name: "half stored as float32", ref: ref(0.5), dt: tensor.Half, want: []float32{0.5}},
		{name: "int32", ref: ref(3, -7), dt: tensor.Int32, want: []int32{3, -7}},
		{name: "int64", ref: ref(1 << 40), dt: tensor.Int64, want: []int64{1 << 40}},
		{name: "uint8", ref: ref(0, 255), dt: tensor.Uint8, want: []uint8{0, 255}},
		{name: "bool", ref: ref(1, 0), dt: tensor.Bool, want: []bool{true, false}},
		{name: "fraction into int32", ref: ref(2.5), dt: tensor.Int32, wantErr: true},
		{name: "negative into uint8", ref: ref(-1), dt: tensor.Uint8, wantErr: true},
		{name: "int8 overflow", ref: ref(128), dt: tensor.Int8, wantErr: true},
		{name: "2 into bool", ref: ref(2), dt: tensor.Bool, wantErr: true},
		{name: "string", ref: ref(1), dt: tensor.String, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.ref.as(c.dt)
			if c.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.DType() != c.dt || !got.Shape().Equal(c.ref.shape) {
				t.Fatalf("got %s%v, want %s%v", got.DType(), got.Shape(), c.dt, c.ref.shape)
			}
			want, err := tensor.Wrap(c.dt, c.ref.shape, c.want)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestDL4JCompare(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	f32 := func(v ...float32) *tfd.Tensor { return tensor.FromSlice(tensor.Shape{len(v)}, v) }
	half := func(v ...float32) *tfd.Tensor {
		t, _ := tensor.Wrap(tensor.Half, tensor.Shape{len(v)}, v)
		return t
	}
	ref := func(v ...float64) *dl4jRef { return &dl4jRef{shape: tensor.Shape{len(v)}, values: v} }
	cases := []struct {
		name     string
		got      *tfd.Tensor
		want     *dl4jRef
		ok       bool
		contains string // in the message when not ok
	}{
		{name: "equal", got: f32(1, 2), want: ref(1, 2), ok: true},
		// Tolerance 1e-6 + 1e-5*|want|: at want=0 the bound is 1e-6.
		{name: "within abs near zero", got: f32(9e-7), want: ref(0), ok: true},
		{name: "beyond abs near zero", got: f32(2e-6), want: ref(0), contains: "1 of 1 elements differ"},
		// At want=1000 the bound is 1e-6 + 1e-2.
		{name: "within rel for large", got: f32(1000.005), want: ref(1000), ok: true},
		{name: "beyond rel for large", got: f32(1000.02), want: ref(1000)},
		{name: "printing rounding", got: f32(0.123456789), want: ref(0.12345679), ok: true},
		{name: "nan matches nan", got: f32(float32(nan)), want: ref(nan), ok: true},
		{name: "nan vs number", got: f32(float32(nan)), want: ref(1)},
		{name: "number vs nan", got: f32(1), want: ref(nan)},
		{name: "inf matches inf", got: f32(float32(inf), float32(-inf)), want: ref(inf, -inf), ok: true},
		{name: "inf sign", got: f32(float32(inf)), want: ref(-inf)},
		{name: "large vs inf", got: f32(3e38), want: ref(inf)},
		{name: "first mismatch index", got: tensor.FromSlice(tensor.Shape{2, 2}, []float32{1, 2, 3, 5}), want: &dl4jRef{shape: tensor.Shape{2, 2}, values: []float64{1, 2, 3, 4}}, contains: "first at [1 1]: got 5, want 4"},
		{name: "int exact", got: tensor.FromSlice(tensor.Shape{2}, []int32{3, -4}), want: ref(3, -4), ok: true},
		{name: "int off by one", got: tensor.FromSlice(tensor.Shape{1}, []int64{3}), want: ref(4)},
		{name: "int no tolerance", got: tensor.FromSlice(tensor.Shape{1}, []int32{0}), want: ref(1e-7)},
		{name: "bool", got: tensor.FromSlice(tensor.Shape{2}, []bool{true, false}), want: ref(1, 0), ok: true},
		{name: "bool wrong", got: tensor.FromSlice(tensor.Shape{1}, []bool{true}), want: ref(0)},
		// float16: 2e-3 + 2e-3*|want|; 1.0029 is within it at want=1 but not within float32's bound.
		{name: "half looser", got: half(1.0029), want: ref(1), ok: true},
		{name: "float32 not as loose", got: f32(1.0029), want: ref(1)},
		{name: "half beyond", got: half(1.005), want: ref(1)},
		{name: "empty", got: f32(), want: ref(), ok: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := dl4jCompare(c.got, c.want)
			if c.ok && msg != "" {
				t.Errorf("mismatch reported: %s", msg)
			}
			if !c.ok && msg == "" {
				t.Errorf("no mismatch reported")
			}
			if !strings.Contains(msg, c.contains) {
				t.Errorf("message %q does not contain %q", msg, c.contains)
			}
		})
	}
}

func TestDL4JGuard(t *testing.T) {
	const timeout, grace = 20 * time.Millisecond, 50 * time.Millisecond
	t.Run("returns", func(t *testing.T) {
		r := dl4jGuard("c", timeout, grace, func(context.Context) dl4jResult { return dl4jResult{name: "c", status: dl4jPass} })
		if r.status != dl4jPass {
			t.Errorf("got %+v, want pass", r)
		}
	})
	t.Run("panic", func(t *testing.T) {
		r := dl4jGuard("c", timeout, grace, func(context.Context) dl4jResult { panic("boom") })
		if r.status != dl4jFail || r.class != dl4jError || !strings.Contains(r.reason, "panic: boom") {
			t.Errorf("got %+v, want an error naming the panic", r)
		}
	})
	t.Run("honours deadline", func(t *testing.T) {
		r := dl4jGuard("c", timeout, grace, func(ctx context.Context) dl4jResult {
			<-ctx.Done()
			return dl4jFailed("c", dl4jTimedOut, ctx.Err().Error())
		})
		if r.class != dl4jTimedOut || !strings.Contains(r.reason, "deadline") {
			t.Errorf("got %+v, want a timeout", r)
		}
	})
	t.Run("ignores deadline", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release) // let the abandoned goroutine end
		start := time.Now()
		r := dl4jGuard("c", timeout, grace, func(context.Context) dl4jResult {
			<-release
			return dl4jResult{name: "c", status: dl4jPass}
		})
		if r.class != dl4jTimedOut || !strings.Contains(r.reason, "cancellation ignored") {
			t.Errorf("got %+v, want an abandoned run", r)
		}
		if d := time.Since(start); d > 10*(timeout+grace) {
			t.Errorf("guard returned after %v, want about %v", d, timeout+grace)
		}
	})
}

func TestDL4JUnlockOrder(t *testing.T) {
	miss := func(ops ...string) dl4jResult {
		return dl4jResult{status: dl4jFail, class: dl4jUnsupported, missing: ops}
	}
	results := []dl4jResult{
		miss("A"), miss("A"), miss("A"),
		miss("B", "C"), miss("B", "C"), miss("B", "C"), miss("B", "C"),
		miss("A", "D"),
		miss("E"),
		{status: dl4jPass},
	}
	// By hand: step 1 {A} unlocks 3 cases (3 per op; {B,C} is 4/2 = 2 per
	// op). Then {A,D} has D left: {D} unlocks 1 per op, {B,C} 2 per op, {E}
	// 1 per op: {B,C} (4) next. Then {D} and {E} tie at 1 case and 1 op:
	// by name, D then E.
	want := []dl4jUnlock{{ops: []string{"A"}, cases: 3}, {ops: []string{"B", "C"}, cases: 4}, {ops: []string{"D"}, cases: 1}, {ops: []string{"E"}, cases: 1}}
	got := dl4jUnlockOrder(results)
	if !slices.EqualFunc(got, want, func(a, b dl4jUnlock) bool { return a.cases == b.cases && slices.Equal(a.ops, b.ops) }) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDL4JKnownRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known.tsv")
	results := []dl4jResult{
		{name: "a/b", status: dl4jPass},
		{name: "c/d", status: dl4jFail, class: dl4jUnsupported, reason: "unsupported ops: X, Y"},
		{name: "e", status: dl4jFail, class: dl4jWrongValue, reason: "output y: 1 of 2 elements differ"},
		{name: "f", status: dl4jSkip, reason: "no stored outputs"},
	}
	sum := dl4jSummary{cases: 4, pass: 1, fail: 2, skip: 1}
	if err := dl4jWriteKnown(path, sum, results); err != nil {
		t.Fatal(err)
	}
	known, pass, err := dl4jReadKnown(path)
	if err != nil {
		t.Fatal(err)
	}
	if pass != 1 || len(known) != 2 || known["c/d"].class != dl4jUnsupported || known["e"].reason != results[2].reason {
		t.Errorf("read back pass=%d %+v", pass, known)
	}
	// A missing file is an empty list with a zero baseline.
	known, pass, err = dl4jReadKnown(filepath.Join(t.TempDir(), "none.tsv"))
	if err != nil || pass != 0 || len(known) != 0 {
		t.Errorf("missing file: %v %d %v", known, pass, err)
	}
}

func TestConfReplaceBetween(t *testing.T) {
	const b, e = "<!-- B -->", "<!-- E -->"
	cases := []struct {
		name, text, want string
		wantErr          bool
	}{
		{name: "replace", text: "x\n" + b + "\nold\n" + e + "\ny\n", want: "x\n" + b + "\nnew\n" + e + "\ny\n"},
		{name: "append", text: "x\n", want: "x\n\n" + b + "\nnew\n" + e + "\n"},
		{name: "end only", text: "x\n" + e + "\n", wantErr: true},
		{name: "reversed", text: e + "\n" + b + "\n", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := confReplaceBetween(c.text, b, e, "new\n")
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if err == nil && got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestDL4JStaleDTypes(t *testing.T) {
	g, err := graph.New([]*graph.Node{
		{Name: "in/x", Op: "Placeholder", Attrs: tensor.Attrs{"dtype": tensor.Float64}},
		{Name: "y", Op: "Identity", Inputs: []graph.Input{{Node: "in/x"}}, Attrs: tensor.Attrs{"T": tensor.Float64}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		dtypes map[string]string
		stale  bool
	}{
		{name: "agrees", dtypes: map[string]string{"in____x.0": "float64", "y.0": "float64"}},
		{name: "agrees with import prefix", dtypes: map[string]string{"import____in____x.0": "float64"}},
		{name: "placeholder without index", dtypes: map[string]string{"in____x": "float32"}, stale: true},
		{name: "placeholder contradicted", dtypes: map[string]string{"in____x.0": "float32", "y.0": "float32"}, stale: true},
		// Only placeholders decide: an output's dtype is what is tested.
		{name: "output differs", dtypes: map[string]string{"in____x.0": "float64", "y.0": "float32"}},
		{name: "no file", dtypes: nil},
	} {
		if got := dl4jStaleDTypes(tt.dtypes, g); (got != "") != tt.stale {
			t.Errorf("%s: dl4jStaleDTypes = %q, want stale %v", tt.name, got, tt.stale)
		}
	}
}
