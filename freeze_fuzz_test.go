package tfd

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// fzGen builds random small float32 graphs for the freeze round trip:
// placeholders of shape [-1, d], then element-wise, MatMul, BiasAdd,
// Softmax and ConcatV2 nodes, some of them inside library functions called
// through (Stateful)PartitionedCall (nested up to two deep), with private
// attrs, control edges, Identity chains and dead branches that freezing
// must strip, inline or prune without changing any output.
type fzGen struct {
	r     *testmodels.Rand
	nodes []*graph.Node
	lib   []*graph.Function
	vals  []fzVal // tensors available as inputs
	n     int     // names issued
}

// fzVal is a tensor of the graph (or of a function body, by its
// reference) with its static width: every value has shape [rows, width].
type fzVal struct {
	ref   string
	width int
}

var fzF = tensor.Attrs{"T": tensor.Float32}

func (g *fzGen) intn(n int) int { return int(g.r.Uint64() % uint64(n)) }

func (g *fzGen) name(prefix string) string {
	g.n++
	return fmt.Sprintf("%s_%d", prefix, g.n)
}

// pick returns a random available value, preferring recent ones.
func (g *fzGen) pick(vals []fzVal) fzVal {
	if g.intn(2) == 0 {
		return vals[len(vals)-1]
	}
	return vals[g.intn(len(vals))]
}

// fzInput parses a reference "node" or "node:k" into an input.
func fzInput(ref string) graph.Input {
	node, idx, _, err := graph.ParseTensorName(ref)
	if err != nil {
		panic(err)
	}
	return graph.Input{Node: node, Index: idx}
}

// body is where nodes go: the graph, or a function under construction.
type fzBody struct {
	nodes []*graph.Node
	raw   map[string][]string // function bodies: raw input strings
	fn    bool
}

func (b *fzBody) add(n *graph.Node, inputs ...string) string {
	if b.fn {
		b.raw[n.Name] = inputs
	} else {
		for _, in := range inputs {
			if c, ok := strings.CutPrefix(in, "^"); ok {
				n.ControlInputs = append(n.ControlInputs, c)
			} else {
				n.Inputs = append(n.Inputs, fzInput(in))
			}
		}
	}
	b.nodes = append(b.nodes, n)
	return n.Name
}

// out is the reference to output k of node name inside b.
func (b *fzBody) out(name, arg string, k int) string {
	if b.fn {
		return fmt.Sprintf("%s:%s:%d", name, arg, k)
	}
	if k == 0 {
		return name
	}
	return fmt.Sprintf("%s:%d", name, k)
}

func (g *fzGen) constF(b *fzBody, shape tensor.Shape) string {
	v := g.r.Fill(shape.Size(), -1, 1)
	return b.add(&graph.Node{Name: g.name("c"), Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Float32, "value": tensor.FromSlice(shape, v)}})
}

// step adds one random op reading vals to b and returns its value.
func (g *fzGen) step(b *fzBody, vals []fzVal, depth int) fzVal {
	x := g.pick(vals)
	switch k := g.intn(10); {
	case k < 3:
		// Each op with the name of its output arg.
		ops := [][2]string{{"Relu", "activations"}, {"Tanh", "y"}, {"Sigmoid", "y"}, {"Neg", "y"}, {"Square", "y"},
			{"Abs", "y"}, {"Identity", "output"}, {"Softsign", "activations"}, {"Relu6", "activations"}}
		op := ops[g.intn(len(ops))]
		n := &graph.Node{Name: g.name(strings.ToLower(op[0])), Op: op[0], Attrs: fzF}
		if g.intn(4) == 0 {
			n.Attrs = tensor.Attrs{"T": tensor.Float32, "_class": []string{"loc:@" + n.Name}}
		}
		return fzVal{b.out(b.add(n, x.ref), op[1], 0), x.width}
	case k < 5:
		ops := []string{"Add", "Sub", "Mul", "Maximum", "Minimum", "AddV2"}
		op := ops[g.intn(len(ops))]
		var y string
		switch {
		case g.intn(3) == 0:
			y = g.constF(b, tensor.Shape{x.width})
			if b.fn {
				y = b.out(y, "output", 0)
			}
		default:
			y = x.ref
			for _, v := range vals {
				if v.width == x.width && g.intn(2) == 0 {
					y = v.ref
				}
			}
		}
		return fzVal{b.out(b.add(&graph.Node{Name: g.name(strings.ToLower(op)), Op: op, Attrs: fzF}, x.ref, y), "z", 0), x.width}
	case k < 7:
		w := 1 + g.intn(4)
		c := g.constF(b, tensor.Shape{x.width, w})
		if b.fn {
			c = b.out(c, "output", 0)
		}
		mm := b.add(&graph.Node{Name: g.name("matmul"), Op: "MatMul",
			Attrs: tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false}}, x.ref, c)
		return fzVal{b.out(mm, "product", 0), w}
	case k == 7:
		c := g.constF(b, tensor.Shape{x.width})
		if b.fn {
			c = b.out(c, "output", 0)
		}
		return fzVal{b.out(b.add(&graph.Node{Name: g.name("bias"), Op: "BiasAdd", Attrs: fzF}, x.ref, c), "output", 0), x.width}
	case k == 8:
		if b.fn {
			return fzVal{b.out(b.add(&graph.Node{Name: g.name("softmax"), Op: "Softmax", Attrs: fzF}, x.ref), "softmax", 0), x.width}
		}
		y := g.pick(vals)
		axis := b.add(&graph.Node{Name: g.name("axis"), Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Int32, "value": tensor.Scalar[int32](1)}})
		cc := b.add(&graph.Node{Name: g.name("concat"), Op: "ConcatV2",
			Attrs: tensor.Attrs{"T": tensor.Float32, "N": int64(2), "Tidx": tensor.Int32}}, x.ref, y.ref, axis)
		return fzVal{cc, x.width + y.width}
	}
	if depth >= 2 {
		return fzVal{b.out(b.add(&graph.Node{Name: g.name("tanh"), Op: "Tanh", Attrs: fzF}, x.ref), "y", 0), x.width}
	}
	return g.call(b, x, depth)
}

// call wraps a few random ops in a new library function of one input and
// calls it on x.
func (g *fzGen) call(b *fzBody, x fzVal, depth int) fzVal {
	fb := &fzBody{raw: map[string][]string{}, fn: true}
	vals := []fzVal{{"x", x.width}}
	for range 1 + g.intn(3) {
		vals = append(vals, g.step(fb, vals, depth+1))
	}
	last := vals[len(vals)-1]
	name := g.name("fn")
	f := &graph.Function{
		Name:       name,
		InputArgs:  []graph.Arg{{Name: "x", Type: tensor.Float32}},
		OutputArgs: []graph.Arg{{Name: "y", Type: tensor.Float32}},
		Nodes:      fb.nodes,
		RawInputs:  fb.raw,
		Ret:        map[string]string{"y": last.ref},
	}
	g.lib = append(g.lib, f)
	op := "PartitionedCall"
	if g.intn(2) == 0 {
		op = "StatefulPartitionedCall"
	}
	c := b.add(&graph.Node{Name: g.name("call"), Op: op, Attrs: tensor.Attrs{
		"f": tensor.Func{Name: name}, "Tin": []tensor.DType{tensor.Float32}, "Tout": []tensor.DType{tensor.Float32}}}, x.ref)
	return fzVal{b.out(c, "output", 0), last.width}
}

// fzGraph returns a random graph, its input placeholders and the outputs
// to fetch.
func fzGraph(seed uint64) (*graph.Graph, []fzVal, []string, error) {
	g := &fzGen{r: testmodels.NewRand(seed)}
	b := &fzBody{}
	var inputs []fzVal
	for range 1 + g.intn(2) {
		w := 1 + g.intn(4)
		p := b.add(&graph.Node{Name: g.name("x"), Op: "Placeholder",
			Attrs: tensor.Attrs{"dtype": tensor.Float32, "shape": tensor.PartialShape{Dims: []int{-1, w}}}})
		inputs = append(inputs, fzVal{p, w})
	}
	vals := append([]fzVal(nil), inputs...)
	for range 3 + g.intn(8) {
		v := g.step(b, vals, 0)
		if g.intn(5) == 0 {
			// A dead branch: freezing prunes it.
			g.step(b, []fzVal{v}, 0)
		}
		if g.intn(6) == 0 {
			// A control edge from an earlier node.
			last := b.nodes[len(b.nodes)-1]
			if first := b.nodes[g.intn(len(b.nodes))]; first != last {
				last.ControlInputs = append(last.ControlInputs, first.Name)
			}
		}
		vals = append(vals, v)
	}
	outs := []string{vals[len(vals)-1].ref}
	if len(vals) > 2 && g.intn(2) == 0 {
		outs = append(outs, vals[len(vals)-2].ref)
	}
	gr, err := graph.New(b.nodes)
	if err != nil {
		return nil, nil, nil, err
	}
	gr.Library = g.lib
	gr.Versions = graph.Versions{Producer: 1}
	return gr, inputs, outs, nil
}

// FuzzFreezeRoundTrip freezes random small graphs (fzGraph), writes them
// as binary and text GraphDefs, reads them back and checks that they give
// the same outputs as the original, bit for bit, and hold no function
// calls or private attrs.
func FuzzFreezeRoundTrip(f *testing.F) {
	for seed := range uint64(8) {
		f.Add(seed, uint8(3))
	}
	f.Fuzz(func(t *testing.T, seed uint64, rows uint8) {
		g, inputs, outs, err := fzGraph(seed)
		if err != nil {
			t.Fatal(err)
		}
		m, err := FromGraph(g, WithName("random"), WithWorkers(1))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		r := testmodels.NewRand(seed ^ 0x9e3779b97f4a7c15)
		feeds := map[string]*Tensor{}
		n := int(rows % 5)
		for _, in := range inputs {
			feeds[in.ref] = FromSlice([]int{n, in.width}, r.Fill(n*in.width, -3, 3))
		}
		want, err := m.Run(context.Background(), feeds, outs...)
		if err != nil {
			t.Fatalf("seed %d: run: %v", seed, err)
		}
		fr, err := m.Freeze(FreezeOptions{Outputs: outs})
		if err != nil {
			t.Fatalf("seed %d: freeze: %v", seed, err)
		}
		for _, text := range []bool{false, true} {
			var data []byte
			format := graph.FormatBinary
			if text {
				data, err = fr.EncodeText()
				format = graph.FormatText
			} else {
				data, err = fr.Encode()
			}
			if err != nil {
				t.Fatal(err)
			}
			g2, err := graph.Decode(data, format, graph.Limits{})
			if err != nil {
				t.Fatalf("seed %d: the frozen graph does not decode: %v", seed, err)
			}
			if len(g2.Library) != 0 {
				t.Errorf("seed %d: the frozen graph keeps %d functions", seed, len(g2.Library))
			}
			for _, nd := range g2.Nodes {
				if strings.HasSuffix(nd.Op, "PartitionedCall") {
					t.Errorf("seed %d: the frozen graph keeps call %q", seed, nd.Name)
				}
				for a := range nd.Attrs {
					if strings.HasPrefix(a, "_") {
						t.Errorf("seed %d: node %q keeps private attr %q", seed, nd.Name, a)
					}
				}
			}
			fm, err := FromGraph(g2, WithName("frozen"), WithWorkers(1))
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			fetch := make([]string, len(outs))
			for i, o := range outs {
				fetch[i] = fr.Outputs[o]
			}
			// Placeholders the outputs do not need are pruned away.
			fed := map[string]*Tensor{}
			for k, v := range feeds {
				if _, ok := g2.Node(k); ok {
					fed[k] = v
				}
			}
			got, err := fm.Run(context.Background(), fed, fetch...)
			if err != nil {
				t.Fatalf("seed %d: frozen run: %v", seed, err)
			}
			for i := range want {
				if !fzSameBits(got[i], want[i]) {
					t.Fatalf("seed %d (text %v): output %q differs after freezing:\n%v\nvs\n%v", seed, text, outs[i], got[i], want[i])
				}
			}
		}
	})
}

// fzSameBits compares float32 tensors bit for bit, NaNs of any payload
// equal.
func fzSameBits(a, b *Tensor) bool {
	if a.DType() != b.DType() || !a.Shape().Equal(b.Shape()) {
		return false
	}
	x, y := tensor.As[float32](a), tensor.As[float32](b)
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) && !(x[i] != x[i] && y[i] != y[i]) {
			return false
		}
	}
	return true
}
