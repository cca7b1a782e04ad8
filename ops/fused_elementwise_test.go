package ops

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/tfdgo/tfd/pool"
	"github.com/tfdgo/tfd/tensor"
)

// fuseEwUnfused runs a _TfdFusedElementwise program the way the unfused
// graph would: each step's own kernel, built from the default registry,
// one after the other. It is the reference the fused op must match bit
// for bit.
func fuseEwUnfused(t *testing.T, dt tensor.DType, steps []tensor.Func, operands []int64, in []*tensor.Tensor) (*tensor.Tensor, error) {
	t.Helper()
	acc := in[0]
	for s, f := range steps {
		var args []*tensor.Tensor
		for _, o := range operands[2*s : 2*s+2] {
			switch {
			case o == -1:
				args = append(args, acc)
			case o >= 0:
				args = append(args, in[o])
			}
		}
		attrs := tensor.Attrs{"T": dt}
		for k, v := range f.Attrs {
			attrs[k] = v
		}
		n := &Node{Name: "ref", Op: f.Name, Attrs: attrs}
		for _, a := range args {
			n.Inputs = append(n.Inputs, Value{DType: a.DType(), Shape: tensor.Known(a.Shape())})
		}
		impl, err := Default().Choose(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		k, err := impl.Build(n)
		if err != nil {
			return nil, err
		}
		out, err := k.Run(&Ctx{}, args)
		if err != nil {
			return nil, err
		}
		acc = out[0]
	}
	return acc, nil
}

// fuseEwRun builds _TfdFusedElementwise for the program and runs it with
// an inline Ctx and with one that splits work on goroutines and pools
// buffers, checking that both give the same bits.
func fuseEwRun(t *testing.T, dt tensor.DType, steps []tensor.Func, operands []int64, in []*tensor.Tensor, consts bool) (*tensor.Tensor, error) {
	t.Helper()
	attrs := tensor.Attrs{"T": dt, "steps": steps, "operands": operands}
	n := nnNode("_TfdFusedElementwise", attrs, in, consts)
	spec, _ := Default().Lookup("_TfdFusedElementwise")
	vals, err := spec.Infer(n)
	if err != nil {
		return nil, err
	}
	k, err := spec.Build(n)
	if err != nil {
		return nil, err
	}
	var first *tensor.Tensor
	for _, ctx := range []*Ctx{{}, {Par: nnTestPar, Pool: pool.New()}} {
		out, err := k.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		if len(out) != 1 || out[0].DType() != vals[0].DType || !vals[0].Shape.Matches(out[0].Shape()) {
			t.Fatalf("run gives %v, infer %v", out, vals)
		}
		for _, x := range in {
			if out[0] == x {
				t.Fatal("output is an input tensor pointer")
			}
		}
		got := out[0].Clone()
		out[0].Release()
		if first == nil {
			first = got
		} else if !tensor.Equal(first, got) {
			t.Fatalf("parallel run differs from inline run:\n%v\n%v", got, first)
		}
	}
	return first, nil
}

// fuseEwTensor makes a tensor of dt with the given values, rounded to dt.
func fuseEwTensor(dt tensor.DType, shape tensor.Shape, v []float64) *tensor.Tensor {
	out, _ := tensor.New(dt, shape, 0)
	switch d := out.Data().(type) {
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
		if r := mathRounder(dt); r != nil {
			r(d)
		}
	case []float64:
		copy(d, v)
	}
	return out
}

// fuseEwValues returns n random values in [-4, 4) with some zeros, signed
// zeros, NaN and infinities mixed in.
func fuseEwValues(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch r.Intn(40) {
		case 0:
			v[i] = math.NaN()
		case 1:
			v[i] = math.Inf(1 - 2*r.Intn(2))
		case 2:
			v[i] = math.Copysign(0, float64(1-2*r.Intn(2)))
		default:
			v[i] = r.Float64()*8 - 4
		}
	}
	return v
}

var (
	fuseEwUnaryOps  = []string{"Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Exp", "Log", "Sqrt", "Rsqrt", "Square", "Neg", "Abs", "Erf", "Floor", "Ceil", "Round", "Sign", "Log1p", "Reciprocal", "Softsign"}
	fuseEwBinaryOps = []string{"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "SquaredDifference", "Pow", "FloorDiv", "FloorMod", "BiasAdd"}
)

// TestFusedElementwiseMatchesUnfused runs random programs over random
// shapes and operand kinds (scalars, same-shape tensors, vectors over the
// trailing axes, input 0 again, the running value on either side) and
// compares the bits with the unfused ops.
func TestFusedElementwiseMatchesUnfused(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	shapes := []tensor.Shape{{}, {7}, {3, 5}, {0, 4}, {2, 3, 4}, {9, 1500}, {4, 11, 13, 3}, {5000}, {2, 2, 2, 2, 3}}
	dtypes := []tensor.DType{tensor.Float32, tensor.Float64, tensor.Half, tensor.BFloat16}
	for trial := 0; trial < 400; trial++ {
		dt := dtypes[trial%len(dtypes)]
		s0 := shapes[r.Intn(len(shapes))]
		in := []*tensor.Tensor{fuseEwTensor(dt, s0, fuseEwValues(r, s0.Size()))}
		var steps []tensor.Func
		var operands []int64
		var desc []string
		nsteps := 1 + r.Intn(6)
		for s := 0; s < nsteps; s++ {
			if r.Intn(2) == 0 {
				op := fuseEwUnaryOps[r.Intn(len(fuseEwUnaryOps))]
				attrs := tensor.Attrs{}
				if op == "LeakyRelu" {
					attrs["alpha"] = float32(0.1 + r.Float64())
				}
				steps = append(steps, tensor.Func{Name: op, Attrs: attrs})
				operands = append(operands, -1, -2)
				desc = append(desc, op)
				continue
			}
			op := fuseEwBinaryOps[r.Intn(len(fuseEwBinaryOps))]
			var os tensor.Shape
			kind := r.Intn(5)
			if op == "BiasAdd" {
				if len(s0) < 2 {
					op = "Mul"
				} else {
					kind = 5
				}
			}
			switch kind {
			case 0: // a single element of some rank
				os = tensor.Shape{}
				if len(s0) > 0 && r.Intn(2) == 0 {
					os = tensor.Shape{1}
				}
			case 1: // same shape
				os = s0
			case 2, 5: // the trailing axis, or for BiasAdd the channels
				if len(s0) > 0 {
					os = tensor.Shape{s0[len(s0)-1]}
					if kind == 2 && len(s0) > 1 && r.Intn(2) == 0 {
						os = s0[1:].Clone()
						os = append(tensor.Shape{1}, os...)
					}
				}
			}
			var o int64
			switch kind {
			case 3: // input 0 again (as in x * sigmoid(x))
				o = 0
			case 4: // the running value on both sides
				o = -1
			default:
				in = append(in, fuseEwTensor(dt, os, fuseEwValues(r, os.Size())))
				o = int64(len(in) - 1)
			}
			steps = append(steps, tensor.Func{Name: op})
			if op != "BiasAdd" && r.Intn(2) == 0 {
				operands = append(operands, o, -1)
				desc = append(desc, fmt.Sprintf("%s(%d,acc)", op, o))
			} else {
				operands = append(operands, -1, o)
				desc = append(desc, fmt.Sprintf("%s(acc,%d)", op, o))
			}
		}
		name := fmt.Sprintf("%d/%s%v/%v", trial, dt, s0, desc)
		want, err := fuseEwUnfused(t, dt, steps, operands, in)
		if err != nil {
			t.Fatalf("%s: unfused: %v", name, err)
		}
		for _, consts := range []bool{false, true} {
			got, err := fuseEwRun(t, dt, steps, operands, in, consts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !tensor.Equal(got, want) {
				t.Fatalf("%s: fused differs from unfused:\n got %v\nwant %v", name, got, want)
			}
		}
	}
}

// TestFusedElementwiseTable checks hand-computed programs.
func TestFusedElementwiseTable(t *testing.T) {
	f32 := func(shape tensor.Shape, v ...float32) *tensor.Tensor { return tensor.FromSlice(shape, v) }
	cases := []struct {
		name     string
		steps    []tensor.Func
		operands []int64
		in       []*tensor.Tensor
		want     *tensor.Tensor
	}{
		{
			// relu(2x + 1) at -1, 0.5, 3: relu(-1) = 0, 2, 7.
			name:     "mul-add-relu",
			steps:    []tensor.Func{{Name: "Mul"}, {Name: "AddV2"}, {Name: "Relu"}},
			operands: []int64{-1, 1, 2, -1, -1, -2},
			in:       []*tensor.Tensor{f32(tensor.Shape{3}, -1, 0.5, 3), f32(tensor.Shape{}, 2), f32(tensor.Shape{}, 1)},
			want:     f32(tensor.Shape{3}, 0, 2, 7),
		},
		{
			// (x - 1)² at 0, 1, 3: 1, 0, 4.
			name:     "sub-square",
			steps:    []tensor.Func{{Name: "Sub"}, {Name: "Square"}},
			operands: []int64{-1, 1, -1, -2},
			in:       []*tensor.Tensor{f32(tensor.Shape{3}, 0, 1, 3), f32(tensor.Shape{1}, 1)},
			want:     f32(tensor.Shape{3}, 1, 0, 4),
		},
		{
			// 10 - x per row, then plus the column vector [1, 2]: rows
			// [10-1+1, 10-2+2] and [10-3+1, 10-4+2].
			name:     "scalar-left-then-channels",
			steps:    []tensor.Func{{Name: "Sub"}, {Name: "BiasAdd"}},
			operands: []int64{1, -1, -1, 2},
			in:       []*tensor.Tensor{f32(tensor.Shape{2, 2}, 1, 2, 3, 4), f32(tensor.Shape{}, 10), f32(tensor.Shape{2}, 1, 2)},
			want:     f32(tensor.Shape{2, 2}, 10, 10, 8, 8),
		},
		{
			// x * sigmoid(x) at 0: 0 * 0.5 = 0.
			name:     "swish",
			steps:    []tensor.Func{{Name: "Sigmoid"}, {Name: "Mul"}},
			operands: []int64{-1, -2, 0, -1},
			in:       []*tensor.Tensor{f32(tensor.Shape{1}, 0)},
			want:     f32(tensor.Shape{1}, 0),
		},
		{
			// The operand grows the value ([1, 2] + [3, 1] is [3, 2]): run
			// op by op. Rows: [1+10, 2+10], [1+20, 2+20], [1+30, 2+30],
			// then doubled.
			name:     "growing-broadcast",
			steps:    []tensor.Func{{Name: "Add"}, {Name: "Mul"}},
			operands: []int64{-1, 1, -1, 2},
			in:       []*tensor.Tensor{f32(tensor.Shape{1, 2}, 1, 2), f32(tensor.Shape{3, 1}, 10, 20, 30), f32(tensor.Shape{}, 2)},
			want:     f32(tensor.Shape{3, 2}, 22, 24, 42, 44, 62, 64),
		},
		{
			// Rank 0 throughout: -(3) then abs: 3.
			name:     "scalar-value",
			steps:    []tensor.Func{{Name: "Neg"}, {Name: "Abs"}},
			operands: []int64{-1, -2, -1, -2},
			in:       []*tensor.Tensor{f32(tensor.Shape{}, 3)},
			want:     f32(tensor.Shape{}, 3),
		},
		{
			name:     "empty",
			steps:    []tensor.Func{{Name: "Exp"}, {Name: "Mul"}},
			operands: []int64{-1, -2, -1, 1},
			in:       []*tensor.Tensor{f32(tensor.Shape{0, 3}), f32(tensor.Shape{3}, 1, 2, 3)},
			want:     f32(tensor.Shape{0, 3}),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := fuseEwRun(t, tensor.Float32, c.steps, c.operands, c.in, false)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestFusedElementwiseErrors(t *testing.T) {
	x := tensor.FromSlice(tensor.Shape{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	v2 := tensor.FromSlice(tensor.Shape{2}, []float32{1, 2})
	i32 := tensor.FromSlice(tensor.Shape{3}, []int32{1, 2, 3})
	cases := []struct {
		name     string
		steps    any
		operands []int64
		in       []*tensor.Tensor
		want     error
	}{
		{"no steps", []tensor.Func{}, nil, []*tensor.Tensor{x}, ErrAttr},
		{"steps not funcs", []string{"Relu"}, []int64{-1, -2}, []*tensor.Tensor{x}, ErrAttr},
		{"operand count", []tensor.Func{{Name: "Relu"}}, []int64{-1}, []*tensor.Tensor{x}, ErrAttr},
		{"operand out of range", []tensor.Func{{Name: "Add"}}, []int64{-1, 3}, []*tensor.Tensor{x}, ErrAttr},
		{"left none", []tensor.Func{{Name: "Relu"}}, []int64{-2, -2}, []*tensor.Tensor{x}, ErrAttr},
		{"unknown op", []tensor.Func{{Name: "NoSuchOp"}}, []int64{-1, -2}, []*tensor.Tensor{x}, ErrAttr},
		{"not element-wise", []tensor.Func{{Name: "MatMul"}}, []int64{-1, 0}, []*tensor.Tensor{x}, ErrAttr},
		{"unary with operand", []tensor.Func{{Name: "Relu"}}, []int64{0, -2}, []*tensor.Tensor{x}, ErrAttr},
		{"binary without value", []tensor.Func{{Name: "Relu"}, {Name: "Add"}}, []int64{-1, -2, 0, 0}, []*tensor.Tensor{x}, ErrAttr},
		{"BiasAdd NCHW", []tensor.Func{{Name: "BiasAdd", Attrs: tensor.Attrs{"data_format": "NCHW"}}}, []int64{-1, 1}, []*tensor.Tensor{x, v2}, ErrAttr},
		{"integer dtype", []tensor.Func{{Name: "Neg"}}, []int64{-1, -2}, []*tensor.Tensor{i32}, ErrDType},
		{"mixed dtypes", []tensor.Func{{Name: "Add"}}, []int64{-1, 1}, []*tensor.Tensor{x, i32}, ErrDType},
		// Shapes that do not broadcast: the fallback reports the op's error.
		{"bad broadcast", []tensor.Func{{Name: "Add"}}, []int64{-1, 1}, []*tensor.Tensor{x, v2}, ErrShape},
		{"BiasAdd length", []tensor.Func{{Name: "BiasAdd"}}, []int64{-1, 1}, []*tensor.Tensor{x, v2}, ErrShape},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			attrs := tensor.Attrs{"steps": c.steps, "operands": c.operands}
			n := nnNode("_TfdFusedElementwise", attrs, c.in, false)
			spec, _ := Default().Lookup("_TfdFusedElementwise")
			var err error
			if _, err = spec.Infer(n); err == nil {
				var k Kernel
				if k, err = spec.Build(n); err == nil {
					_, err = k.Run(&Ctx{}, c.in)
				}
			}
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want an error wrapping %v", err, c.want)
			}
		})
	}
}

func TestFusedElementwiseInferAndBatch(t *testing.T) {
	ps := func(d ...int) tensor.PartialShape { return tensor.PartialShape{Dims: d} }
	node := func(shapes ...tensor.PartialShape) *Node {
		n := &Node{Op: "_TfdFusedElementwise", Attrs: tensor.Attrs{"T": tensor.Float32,
			"steps":    []tensor.Func{{Name: "Mul"}, {Name: "Add"}},
			"operands": []int64{-1, 1, 2, -1}}}
		for _, s := range shapes {
			n.Inputs = append(n.Inputs, Value{DType: tensor.Float32, Shape: s})
		}
		return n
	}
	vals, err := fuseEwInfer(node(ps(-1, 4), ps(4), ps(3, 1, 1)))
	if err != nil || !fuseSameDims(vals[0].Shape, ps(3, -1, 4)) || vals[0].DType != tensor.Float32 {
		t.Errorf("infer: %v %v, want [3 -1 4] float32", vals, err)
	}
	cases := []struct {
		name    string
		shapes  []tensor.PartialShape
		batched []bool
		ok, out bool
	}{
		{"value batched, vectors not", []tensor.PartialShape{ps(-1, 4), ps(4), ps(1, 4)}, []bool{true, false, false}, true, true},
		{"all batched", []tensor.PartialShape{ps(-1, 4), ps(-1, 4), ps(-1, 4)}, []bool{true, true, true}, true, true},
		{"operand batched, value not", []tensor.PartialShape{ps(1, 4), ps(-1, 4), ps(4)}, []bool{false, true, false}, false, false},
		{"unbatched operand over rows", []tensor.PartialShape{ps(-1, 4), ps(3, 4), ps(4)}, []bool{true, false, false}, false, false},
		{"nothing batched", []tensor.PartialShape{ps(2, 4), ps(4), ps(4)}, []bool{false, false, false}, true, false},
	}
	for _, c := range cases {
		out, ok := fuseEwBatch(node(c.shapes...), c.batched)
		if ok != c.ok || (ok && out[0] != c.out) {
			t.Errorf("%s: got %v %v, want ok=%v batched=%v", c.name, out, ok, c.ok, c.out)
		}
	}
}

func fuseSameDims(a, b tensor.PartialShape) bool {
	if a.UnknownRank != b.UnknownRank || len(a.Dims) != len(b.Dims) {
		return false
	}
	for i := range a.Dims {
		if a.Dims[i] != b.Dims[i] {
			return false
		}
	}
	return true
}

func TestElementwiseArity(t *testing.T) {
	f := Value{DType: tensor.Float32, Shape: tensor.UnknownShape()}
	i := Value{DType: tensor.Int32, Shape: tensor.UnknownShape()}
	cases := []struct {
		op    string
		attrs tensor.Attrs
		in    []Value
		want  int
	}{
		{"Relu", nil, []Value{f}, 1},
		{"Exp", nil, []Value{f}, 1},
		{"Mul", nil, []Value{f, f}, 2},
		{"BiasAdd", nil, []Value{f, f}, 2},
		{"BiasAdd", tensor.Attrs{"data_format": "NCHW"}, []Value{f, f}, 0},
		{"Mul", nil, []Value{i, i}, 0},  // integer kernels are not fused
		{"Less", nil, []Value{f, f}, 0}, // bool results
		{"MatMul", nil, []Value{f, f}, 0},
	}
	for _, c := range cases {
		impl, _ := Default().Choose(c.op)
		k, err := impl.Build(&Node{Op: c.op, Attrs: c.attrs, Inputs: c.in})
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		if got := ElementwiseArity(k); got != c.want {
			t.Errorf("%s %v: arity %d, want %d", c.op, c.attrs, got, c.want)
		}
	}
}

// BenchmarkFusedElementwise compares a chain run fused (one pass) and op by
// op: impl=fused|unfused/n=elements, for Mul(x, c) → AddV2(·, b[C]) → Relu,
// with a Ctx that runs everything inline.
func BenchmarkFusedElementwise(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	steps := []tensor.Func{{Name: "Mul"}, {Name: "AddV2"}, {Name: "Relu"}}
	operands := []int64{-1, 1, -1, 2, -1, -2}
	for _, n := range []int{1 << 10, 1 << 16, 1 << 22} {
		in := []*tensor.Tensor{fuseRandTensor(r, tensor.Float32, false, n/32, 32), tensor.Scalar[float32](1.5), fuseRandTensor(r, tensor.Float32, false, 32)}
		fused, err := fuseEwBuildNode(nnNode("_TfdFusedElementwise", tensor.Attrs{"T": tensor.Float32, "steps": steps, "operands": operands}, in, true))
		if err != nil {
			b.Fatal(err)
		}
		ctx := &Ctx{Pool: pool.New()}
		b.Run(fmt.Sprintf("impl=fused/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				out, err := fused.Run(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				out[0].Release()
			}
		})
		b.Run(fmt.Sprintf("impl=unfused/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				out, err := fused.(*fuseEwKernel[float32]).runSteps(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				out[0].Release()
			}
		})
	}
}
