package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/ops"
	"github.com/tfdgo/tfd/tensor"
)

// The fusion pass is tested on graphs of real ops (ops.Default()).

func fuseConst(t *tensor.Tensor) tensor.Attrs { return tensor.Attrs{"value": t, "dtype": t.DType()} }

func fuseRand(r *rand.Rand, shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.Shape(shape).Size())
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return tensor.FromSlice(tensor.Shape(shape), v)
}

// fuseCompile compiles g fused and unfused with opt.
func fuseCompile(t *testing.T, b *gb, feeds, fetches []string, opt Options) (fused, unfused *Plan) {
	t.Helper()
	g := b.graph(t)
	var err error
	if fused, err = Compile(g, feeds, fetches, opt); err != nil {
		t.Fatal(err)
	}
	opt.NoFusion = true
	if unfused, err = Compile(g, feeds, fetches, opt); err != nil {
		t.Fatal(err)
	}
	return fused, unfused
}

// fuseOps lists a plan's nodes as "name=op[fused...]".
func fuseOps(p *Plan) string {
	var s []string
	for _, n := range p.Nodes() {
		e := n.Name + "=" + n.Op
		if len(n.Fused) > 0 {
			e += "[" + strings.Join(n.Fused, ",") + "]"
		}
		s = append(s, e)
	}
	return strings.Join(s, " ")
}

// fuseCompare runs both plans on feeds with one and two workers (and
// batch slicing where the plan allows it) and compares the fetches: bit
// for bit when tol is 0, else within tol relative.
func fuseCompare(t *testing.T, fused, unfused *Plan, feeds []*tensor.Tensor, tol float64) {
	t.Helper()
	want, err := unfused.Run(context.Background(), feeds, RunOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []RunOptions{{Workers: 1}, {Workers: 2}, {Workers: 2, SliceRows: 8}} {
		got, err := fused.Run(context.Background(), feeds, ro)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if tol == 0 {
				if !tensor.Equal(got[i], want[i]) {
					t.Fatalf("%+v: fetch %d: fused differs from unfused:\n got %v\nwant %v", ro, i, got[i], want[i])
				}
				continue
			}
			g, w := got[i].Float64s(), want[i].Float64s()
			if !got[i].Shape().Equal(want[i].Shape()) {
				t.Fatalf("fetch %d: shape %v, want %v", i, got[i].Shape(), want[i].Shape())
			}
			for j := range w {
				if math.Abs(g[j]-w[j]) > tol*(1+math.Abs(w[j])) {
					t.Fatalf("%+v: fetch %d [%d]: fused %v, unfused %v", ro, i, j, g[j], w[j])
				}
			}
		}
	}
}

// fuseMLP: x → MatMul → BiasAdd → Relu → MatMul → Add(const b2) → Sigmoid
// → Mul(2) → AddV2(1) → y.
func fuseMLP(r *rand.Rand) *gb {
	b := &gb{}
	b.ph("x", -1, 20).
		node("w1", "Const", fuseConst(fuseRand(r, 20, 30))).
		node("b1", "Const", fuseConst(fuseRand(r, 30))).
		node("w2", "Const", fuseConst(fuseRand(r, 30, 10))).
		node("b2", "Const", fuseConst(fuseRand(r, 10))).
		node("two", "Const", fuseConst(tensor.Scalar[float32](2))).
		node("one", "Const", fuseConst(tensor.Scalar[float32](1))).
		node("l1/MatMul", "MatMul", tensor.Attrs{"T": tensor.Float32}, "x", "w1").
		node("l1/BiasAdd", "BiasAdd", tensor.Attrs{"T": tensor.Float32}, "l1/MatMul", "b1").
		node("l1/Relu", "Relu", tensor.Attrs{"T": tensor.Float32}, "l1/BiasAdd").
		node("l2/MatMul", "MatMul", tensor.Attrs{"T": tensor.Float32}, "l1/Relu", "w2").
		node("l2/add", "Add", tensor.Attrs{"T": tensor.Float32}, "b2", "l2/MatMul").
		node("l2/Sigmoid", "Sigmoid", tensor.Attrs{"T": tensor.Float32}, "l2/add").
		node("scale", "Mul", tensor.Attrs{"T": tensor.Float32}, "l2/Sigmoid", "two").
		node("y", "AddV2", tensor.Attrs{"T": tensor.Float32}, "one", "scale")
	return b
}

func TestFusionMLP(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	fused, unfused := fuseCompile(t, fuseMLP(r), []string{"x"}, []string{"y"}, Options{})
	want := "l1/MatMul=_FusedMatMul[l1/MatMul,l1/BiasAdd,l1/Relu] l2/MatMul=_FusedMatMul[l2/MatMul,l2/add,l2/Sigmoid] y=_TfdFusedElementwise[scale,y]"
	if got := fuseOps(fused); got != want {
		t.Errorf("fused plan:\n got %s\nwant %s", got, want)
	}
	if unfused.NumNodes() != 8 {
		t.Errorf("unfused plan has %d nodes, want 8: %s", unfused.NumNodes(), fuseOps(unfused))
	}
	if !fused.Sliceable() || !unfused.Sliceable() {
		t.Errorf("sliceable: fused %v, unfused %v", fused.Sliceable(), unfused.Sliceable())
	}
	for _, rows := range []int{1, 5, 40} {
		fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, rows, 20)}, 0)
	}
}

// TestFusionStopsAtVisibleValues: a fetched intermediate, a second
// consumer or a control edge keeps the edge unfused, and the values stay
// right.
func TestFusionStopsAtVisibleValues(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	t.Run("fetched", func(t *testing.T) {
		fused, unfused := fuseCompile(t, fuseMLP(r), []string{"x"}, []string{"y", "l1/BiasAdd", "l2/MatMul"}, Options{})
		want := "l1/MatMul=_FusedMatMul[l1/MatMul,l1/BiasAdd] l1/Relu=Relu l2/MatMul=MatMul y=_TfdFusedElementwise[l2/add,l2/Sigmoid,scale,y]"
		if got := fuseOps(fused); got != want {
			t.Errorf("fused plan:\n got %s\nwant %s", got, want)
		}
		fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 16, 20)}, 0)
	})
	t.Run("second consumer", func(t *testing.T) {
		b := fuseMLP(r)
		b.node("z", "Neg", tensor.Attrs{"T": tensor.Float32}, "l1/BiasAdd")
		fused, unfused := fuseCompile(t, b, []string{"x"}, []string{"y", "z"}, Options{})
		if got := fuseOps(fused); !strings.HasPrefix(got, "l1/MatMul=_FusedMatMul[l1/MatMul,l1/BiasAdd] l1/Relu=Relu ") {
			t.Errorf("fused plan: %s", got)
		}
		fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 16, 20)}, 0)
	})
	t.Run("control edge", func(t *testing.T) {
		b := fuseMLP(r)
		b.node("z", "Neg", tensor.Attrs{"T": tensor.Float32}, "x", "^l1/Relu")
		fused, unfused := fuseCompile(t, b, []string{"x"}, []string{"y", "z"}, Options{})
		if got := fuseOps(fused); !strings.Contains(got, "l1/MatMul=_FusedMatMul[l1/MatMul,l1/BiasAdd,l1/Relu]") {
			t.Errorf("fused plan: %s", got)
		}
		b2 := fuseMLP(r)
		b2.node("z", "Neg", tensor.Attrs{"T": tensor.Float32}, "x", "^l1/BiasAdd")
		fused, unfused = fuseCompile(t, b2, []string{"x"}, []string{"y", "z"}, Options{})
		if got := fuseOps(fused); !strings.Contains(got, "l1/MatMul=_FusedMatMul[l1/MatMul,l1/BiasAdd] l1/Relu=Relu") {
			t.Errorf("fused plan: %s", got)
		}
		fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 16, 20)}, 0)
	})
}

// TestFusionKeepsChosenKernels: an op run by another implementation than
// the default one is never fused away.
func TestFusionKeepsChosenKernels(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	fused, _ := fuseCompile(t, fuseMLP(r), []string{"x"}, []string{"y"}, Options{Prefer: []string{"gonum"}})
	if got := fuseOps(fused); !strings.HasPrefix(got, "l1/MatMul=MatMul l1/Relu=_TfdFusedElementwise[l1/BiasAdd,l1/Relu]") {
		t.Errorf("with gonum MatMul: %s", got)
	}
	reg := ops.Default().Clone()
	relu, _ := ops.Default().Lookup("Relu")
	if err := reg.RegisterImpl("Relu", ops.Impl{Name: "mine", Priority: ops.PriorityUser, Build: relu.Build}); err != nil {
		t.Fatal(err)
	}
	fused, unfused := fuseCompile(t, fuseMLP(r), []string{"x"}, []string{"y"}, Options{Registry: reg})
	if got := fuseOps(fused); !strings.HasPrefix(got, "l1/MatMul=_FusedMatMul[l1/MatMul,l1/BiasAdd] l1/Relu=Relu") {
		t.Errorf("with a user Relu: %s", got)
	}
	fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 4, 20)}, 0)
	// A clone of the default registry fuses as the default does.
	fused, _ = fuseCompile(t, fuseMLP(r), []string{"x"}, []string{"y"}, Options{Registry: ops.Default().Clone()})
	if fused.NumNodes() != 3 {
		t.Errorf("with a cloned registry: %s", fuseOps(fused))
	}
}

// fuseCNN: Conv2D → BiasAdd → Relu; Conv2D → FusedBatchNormV3 → Relu6;
// DepthwiseConv2dNative → BiasAdd → Relu6; then x·sigmoid(x) (swish) and
// (x - c)² with a per-channel c.
func fuseCNN(r *rand.Rand) *gb {
	f := tensor.Attrs{"T": tensor.Float32}
	conv := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME"}
	bn := tensor.Attrs{"T": tensor.Float32, "U": tensor.Float32, "epsilon": float32(0.001), "is_training": false}
	scale := fuseRand(r, 6)
	for i, v := range tensor.As[float32](scale) {
		tensor.As[float32](scale)[i] = 1 + v/2
	}
	variance := fuseRand(r, 6)
	for i, v := range tensor.As[float32](variance) {
		tensor.As[float32](variance)[i] = 0.5 + v*v
	}
	b := &gb{}
	b.ph("x", -1, 8, 8, 3).
		node("k1", "Const", fuseConst(fuseRand(r, 3, 3, 3, 4))).
		node("b1", "Const", fuseConst(fuseRand(r, 4))).
		node("c1/Conv2D", "Conv2D", conv, "x", "k1").
		node("c1/BiasAdd", "BiasAdd", f, "c1/Conv2D", "b1").
		node("c1/Relu", "Relu", f, "c1/BiasAdd").
		node("k2", "Const", fuseConst(fuseRand(r, 1, 1, 4, 6))).
		node("gamma", "Const", fuseConst(scale)).
		node("beta", "Const", fuseConst(fuseRand(r, 6))).
		node("mean", "Const", fuseConst(fuseRand(r, 6))).
		node("var", "Const", fuseConst(variance)).
		node("c2/Conv2D", "Conv2D", conv, "c1/Relu", "k2").
		node("c2/bn", "FusedBatchNormV3", bn, "c2/Conv2D", "gamma", "beta", "mean", "var").
		node("c2/Relu6", "Relu6", f, "c2/bn").
		node("k3", "Const", fuseConst(fuseRand(r, 3, 3, 6, 2))).
		node("b3", "Const", fuseConst(fuseRand(r, 12))).
		node("dw/depthwise", "DepthwiseConv2dNative", conv, "c2/Relu6", "k3").
		node("dw/BiasAdd", "BiasAdd", f, "dw/depthwise", "b3").
		node("dw/Relu6", "Relu6", f, "dw/BiasAdd").
		node("sw/Sigmoid", "Sigmoid", f, "dw/Relu6").
		node("sw/mul", "Mul", f, "dw/Relu6", "sw/Sigmoid").
		node("c", "Const", fuseConst(fuseRand(r, 12))).
		node("sq/sub", "Sub", f, "sw/mul", "c").
		node("y", "Square", f, "sq/sub")
	return b
}

func TestFusionCNN(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	fused, unfused := fuseCompile(t, fuseCNN(r), []string{"x"}, []string{"y"}, Options{})
	want := "c1/Conv2D=_FusedConv2D[c1/Conv2D,c1/BiasAdd,c1/Relu] " +
		"c2/Conv2D=_FusedConv2D[c2/Conv2D,c2/bn,c2/Relu6] " +
		"dw/depthwise=FusedDepthwiseConv2dNative[dw/depthwise,dw/BiasAdd,dw/Relu6] " +
		"y=_TfdFusedElementwise[sw/Sigmoid,sw/mul,sq/sub,y]"
	if got := fuseOps(fused); got != want {
		t.Errorf("fused plan:\n got %s\nwant %s", got, want)
	}
	in := fused.Nodes()[1].Inputs
	if len(in) != 3 || in[1] != "c2/Conv2D/fused_filter" || in[2] != "c2/Conv2D/fused_bias" {
		t.Errorf("folded batch norm inputs %v", in)
	}
	if !fused.Sliceable() {
		t.Error("fused CNN should stay sliceable")
	}
	// The batch norm folded into the filter rounds differently.
	fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 20, 8, 8, 3)}, 1e-5)

	// Without the batch norm every fusion is exact.
	b := fuseCNN(r)
	for _, n := range b.nodes {
		if n.Name == "c2/Relu6" {
			n.Inputs[0].Node = "c2/Conv2D"
		}
	}
	fused, unfused = fuseCompile(t, b, []string{"x"}, []string{"y"}, Options{})
	if got := fuseOps(fused); !strings.Contains(got, "c2/Conv2D=_FusedConv2D[c2/Conv2D,c2/Relu6]") {
		t.Errorf("fused plan: %s", got)
	}
	fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 20, 8, 8, 3)}, 0)
}

// TestFusionElementwiseShapes: chains over operands of the value's shape,
// a channel vector, a scalar and a fed tensor of unknown shape (which
// the fused node checks at run time, running the ops one by one when the
// shapes broadcast otherwise).
func TestFusionElementwiseShapes(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	f := tensor.Attrs{"T": tensor.Float32}
	b := &gb{}
	b.ph("x", -1, 5).
		node("u", "Placeholder", tensor.Attrs{"dtype": tensor.Float32}).
		node("c", "Const", fuseConst(fuseRand(r, 5))).
		node("e", "Exp", f, "x").
		node("m", "Mul", f, "e", "u").
		node("d", "RealDiv", f, "c", "m").
		node("y", "Maximum", f, "d", "x")
	fused, unfused := fuseCompile(t, b, []string{"x", "u"}, []string{"y"}, Options{})
	if got := fuseOps(fused); got != "y=_TfdFusedElementwise[e,m,d,y]" {
		t.Errorf("fused plan: %s", got)
	}
	x := fuseRand(r, 7, 5)
	for _, u := range []*tensor.Tensor{fuseRand(r, 7, 5), fuseRand(r, 5), tensor.Scalar[float32](3), fuseRand(r, 3, 7, 5)} {
		fuseCompare(t, fused, unfused, []*tensor.Tensor{x, u}, 0)
	}
	// A value of unknown shape: the operand may or may not grow it.
	v := &gb{}
	v.node("x", "Placeholder", tensor.Attrs{"dtype": tensor.Float32}).
		node("c", "Const", fuseConst(fuseRand(r, 3))).
		node("m", "Mul", f, "c", "x").
		node("y", "Relu", f, "m")
	fused, unfused = fuseCompile(t, v, []string{"x"}, []string{"y"}, Options{})
	if got := fuseOps(fused); got != "y=_TfdFusedElementwise[m,y]" {
		t.Errorf("fused plan: %s", got)
	}
	for _, x := range []*tensor.Tensor{fuseRand(r, 4, 3), fuseRand(r, 3), tensor.Scalar[float32](-2), fuseRand(r, 2, 1)} {
		fuseCompare(t, fused, unfused, []*tensor.Tensor{x}, 0)
	}
	// Half values round after every step, fused or not.
	h := &gb{}
	h.node("x", "Placeholder", tensor.Attrs{"dtype": tensor.Half, "shape": tensor.PartialShape{Dims: []int{-1, 4}}}).
		node("s", "Sigmoid", tensor.Attrs{"T": tensor.Half}, "x").
		node("y", "Mul", tensor.Attrs{"T": tensor.Half}, "x", "s")
	fused, unfused = fuseCompile(t, h, []string{"x"}, []string{"y"}, Options{})
	if fused.NumNodes() != 1 {
		t.Errorf("half plan: %s", fuseOps(fused))
	}
	xh, _ := tensor.New(tensor.Half, tensor.Shape{3, 4}, 0)
	for i := range tensor.As[float32](xh) {
		tensor.As[float32](xh)[i] = float32(i)/4 - 1.5
	}
	fuseCompare(t, fused, unfused, []*tensor.Tensor{xh}, 0)
}

// TestFusedNodeErrors: a run-time error in a fused node names it.
func TestFusedNodeErrors(t *testing.T) {
	f := tensor.Attrs{"T": tensor.Float32}
	b := &gb{}
	b.ph("x", -1, 3).ph("w", -1, -1).ph("bias", -1).
		node("mm", "MatMul", f, "x", "w").
		node("ba", "BiasAdd", f, "mm", "bias").
		node("y", "Relu", f, "ba")
	p, err := Compile(b.graph(t), []string{"x", "w", "bias"}, []string{"y"}, Options{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fuseOps(p); got != "mm=_FusedMatMul[mm,ba,y]" {
		t.Fatalf("plan: %s", got)
	}
	_, err = p.Run(context.Background(), []*tensor.Tensor{fuseRand(rand.New(rand.NewSource(1)), 2, 3), tensor.FromSlice(tensor.Shape{3, 2}, make([]float32, 6)), tensor.FromSlice(tensor.Shape{3}, make([]float32, 3))}, RunOptions{})
	var ne *NodeError
	if !errors.As(err, &ne) || ne.Node != "mm" || ne.Op != "_FusedMatMul" || !errors.Is(err, ops.ErrShape) {
		t.Errorf("error %v, want a NodeError for node mm (_FusedMatMul) wrapping ErrShape", err)
	}
}

// TestFusionRandomChains builds random chains of element-wise ops after a
// MatMul and checks fused against unfused, bit for bit.
func TestFusionRandomChains(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	unary := []string{"Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "Exp", "Square", "Neg", "Abs", "Softplus", "Erf"}
	binary := []string{"Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "SquaredDifference"}
	f := tensor.Attrs{"T": tensor.Float32}
	for trial := 0; trial < 40; trial++ {
		b := &gb{}
		b.ph("x", -1, 6).node("w", "Const", fuseConst(fuseRand(r, 6, 9))).node("n0", "MatMul", f, "x", "w")
		prev := "n0"
		for i := 1; i <= 1+r.Intn(6); i++ {
			name := fmt.Sprintf("n%d", i)
			if r.Intn(2) == 0 {
				b.node(name, unary[r.Intn(len(unary))], f, prev)
			} else {
				c := fmt.Sprintf("c%d", i)
				shapes := [][]int{{}, {9}, {1, 9}}
				b.node(c, "Const", fuseConst(fuseRand(r, shapes[r.Intn(3)]...)))
				op := binary[r.Intn(len(binary))]
				if r.Intn(2) == 0 {
					b.node(name, op, f, prev, c)
				} else {
					b.node(name, op, f, c, prev)
				}
			}
			prev = name
		}
		fused, unfused := fuseCompile(t, b, []string{"x"}, []string{prev}, Options{})
		if fused.NumNodes() > 2 {
			t.Errorf("trial %d: %s", trial, fuseOps(fused))
		}
		fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 1+r.Intn(30), 6)}, 0)
	}
}

// TestFusionExtendsFusedProducts: a _FusedConv2D that only adds a bias
// (as TF.js writes it) takes in a residual AddV2 of the same fully known
// shape and the activation after it; with a batch of unknown size the Add
// stays out (the fused Add does not broadcast) and joins an element-wise
// chain instead.
func TestFusionExtendsFusedProducts(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	build := func(batch int) *gb {
		conv := tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1}, "padding": "SAME",
			"fused_ops": []string{"BiasAdd"}, "num_args": int64(1)}
		b := &gb{}
		b.ph("x", batch, 6, 6, 4).
			node("k", "Const", fuseConst(fuseRand(r, 3, 3, 4, 4))).
			node("b", "Const", fuseConst(fuseRand(r, 4))).
			node("conv", "_FusedConv2D", conv, "x", "k", "b").
			node("add", "AddV2", tensor.Attrs{"T": tensor.Float32}, "conv", "x").
			node("y", "Relu", tensor.Attrs{"T": tensor.Float32}, "add")
		return b
	}
	fused, unfused := fuseCompile(t, build(2), []string{"x"}, []string{"y"}, Options{})
	if got := fuseOps(fused); got != "conv=_FusedConv2D[conv,add,y]" {
		t.Errorf("fused plan: %s", got)
	}
	fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 2, 6, 6, 4)}, 0)
	fused, unfused = fuseCompile(t, build(-1), []string{"x"}, []string{"y"}, Options{})
	if got := fuseOps(fused); got != "conv=_FusedConv2D y=_TfdFusedElementwise[add,y]" {
		t.Errorf("fused plan with an unknown batch: %s", got)
	}
	fuseCompare(t, fused, unfused, []*tensor.Tensor{fuseRand(r, 3, 6, 6, 4)}, 0)
}
