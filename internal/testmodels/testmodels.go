// Package testmodels builds the small graphs that tfd ships in testdata/
// (the tfdeploy README network, a small CNN and a two-tower network) from
// seeded weights, and keeps the weights so that tests can compute the
// expected outputs with an independent float64 reference.
//
// The random numbers come from splitmix64 so that the committed files are
// reproducible byte for byte on any Go version.
//
// Imports: tensor, graph and internal/npy. Concurrency: every function
// builds fresh values; there is no shared state.
package testmodels

import (
	"fmt"
	"math"

	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/tensor"
)

// Rand is a splitmix64 generator.
type Rand struct{ s uint64 }

// NewRand returns a generator with the given seed.
func NewRand(seed uint64) *Rand { return &Rand{s: seed} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float32 returns a uniform float32 in [lo, hi), exactly representable.
func (r *Rand) Float32(lo, hi float32) float32 {
	u := float32(r.Uint64()>>40) / (1 << 24)
	return lo + (hi-lo)*u
}

// Fill returns n uniform values in [lo, hi).
func (r *Rand) Fill(n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32(lo, hi)
	}
	return v
}

// builder accumulates nodes.
type builder struct{ nodes []*graph.Node }

func (b *builder) add(name, op string, attrs tensor.Attrs, inputs ...string) string {
	n := &graph.Node{Name: name, Op: op, Attrs: attrs}
	for _, in := range inputs {
		node, idx, ctl, err := graph.ParseTensorName(in)
		if err != nil {
			panic(err)
		}
		if ctl {
			n.ControlInputs = append(n.ControlInputs, node)
			continue
		}
		n.Inputs = append(n.Inputs, graph.Input{Node: node, Index: idx})
	}
	b.nodes = append(b.nodes, n)
	return name
}

func (b *builder) placeholder(name string, dims ...int) string {
	return b.add(name, "Placeholder", tensor.Attrs{"dtype": tensor.Float32, "shape": tensor.PartialShape{Dims: dims}})
}

func (b *builder) constF(name string, shape tensor.Shape, v []float32) string {
	return b.add(name, "Const", tensor.Attrs{"dtype": tensor.Float32, "value": tensor.FromSlice(shape, v)})
}

func (b *builder) constI(name string, v ...int32) string {
	return b.add(name, "Const", tensor.Attrs{"dtype": tensor.Int32, "value": tensor.FromSlice(tensor.Shape{len(v)}, v)})
}

func (b *builder) graph() *graph.Graph {
	g, err := graph.New(b.nodes)
	if err != nil {
		panic(err)
	}
	g.Versions = graph.Versions{Producer: 1}
	return g
}

var tF = tensor.Attrs{"T": tensor.Float32}

// MLPWeights are the parameters of the tfdeploy README network.
type MLPWeights struct {
	W []float32 // [784, 100]
	B []float32 // [100]
}

// MLP sizes.
const (
	MLPIn  = 784
	MLPOut = 100
)

// MLP returns the tfdeploy README graph: y = softmax(x·W + b) with x named
// "input" ([None, 784]) and y named "output".
func MLP(seed uint64) (*graph.Graph, MLPWeights) {
	r := NewRand(seed)
	w := MLPWeights{W: r.Fill(MLPIn*MLPOut, -0.1, 0.1), B: r.Fill(MLPOut, -0.5, 0.5)}
	var b builder
	x := b.placeholder("input", -1, MLPIn)
	W := b.constF("W", tensor.Shape{MLPIn, MLPOut}, w.W)
	bias := b.constF("b", tensor.Shape{MLPOut}, w.B)
	mm := b.add("MatMul", "MatMul", tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false}, x, W)
	add := b.add("add", "Add", tF, mm, bias)
	b.add("output", "Softmax", tF, add)
	return b.graph(), w
}

// CNNWeights are the parameters of the small CNN.
type CNNWeights struct {
	K1, B1        []float32 // conv1 3x3, 1→8, SAME
	K2            []float32 // conv2 3x3, 8→16, stride 2, VALID
	Scale, Offset []float32 // batch norm, 16
	Mean, Var     []float32
	DW            []float32 // depthwise 3x3, 16 channels, multiplier 1, SAME
	FC, FCB       []float32 // dense 16*3*3 → 10
}

// CNN shapes.
const (
	CNNSize    = 28
	CNNClasses = 10
	CNNEpsilon = 0.001
)

// CNN returns a small image classifier over [None, 28, 28, 1] inputs named
// "input", with output "output" ([None, 10] probabilities):
//
//	conv1 = relu(conv2d(x, K1, SAME) + B1)               28x28x8
//	pool1 = maxpool(conv1, 2x2, stride 2, VALID)          14x14x8
//	conv2 = conv2d(pool1, K2, stride 2, VALID)            6x6x16
//	bn    = relu6(batchnorm(conv2))
//	dw    = depthwise(bn, DW, SAME)                       6x6x16
//	pool2 = avgpool(dw, 3x3, stride 2, SAME)              3x3x16
//	flat  = reshape(pool2, [-1, 144])
//	out   = softmax(flat·FC + FCB)
func CNN(seed uint64) (*graph.Graph, CNNWeights) {
	r := NewRand(seed)
	w := CNNWeights{
		K1: r.Fill(3*3*1*8, -0.5, 0.5), B1: r.Fill(8, -0.1, 0.1),
		K2:    r.Fill(3*3*8*16, -0.2, 0.2),
		Scale: r.Fill(16, 0.5, 1.5), Offset: r.Fill(16, -0.2, 0.2),
		Mean: r.Fill(16, -0.1, 0.1), Var: r.Fill(16, 0.5, 2),
		DW: r.Fill(3*3*16, -0.4, 0.4),
		FC: r.Fill(144*CNNClasses, -0.2, 0.2), FCB: r.Fill(CNNClasses, -0.1, 0.1),
	}
	var b builder
	x := b.placeholder("input", -1, CNNSize, CNNSize, 1)
	conv := func(name, in, k string, stride int64, pad string) string {
		return b.add(name, "Conv2D", tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, stride, stride, 1},
			"padding": pad, "data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "use_cudnn_on_gpu": true}, in, k)
	}
	k1 := b.constF("conv1/kernel", tensor.Shape{3, 3, 1, 8}, w.K1)
	b1 := b.constF("conv1/bias", tensor.Shape{8}, w.B1)
	c1 := conv("conv1/Conv2D", x, k1, 1, "SAME")
	c1b := b.add("conv1/BiasAdd", "BiasAdd", tensor.Attrs{"T": tensor.Float32, "data_format": "NHWC"}, c1, b1)
	r1 := b.add("conv1/Relu", "Relu", tF, c1b)
	p1 := b.add("pool1/MaxPool", "MaxPool", tensor.Attrs{"T": tensor.Float32, "ksize": []int64{1, 2, 2, 1},
		"strides": []int64{1, 2, 2, 1}, "padding": "VALID", "data_format": "NHWC"}, r1)
	k2 := b.constF("conv2/kernel", tensor.Shape{3, 3, 8, 16}, w.K2)
	c2 := conv("conv2/Conv2D", p1, k2, 2, "VALID")
	sc := b.constF("bn/gamma", tensor.Shape{16}, w.Scale)
	of := b.constF("bn/beta", tensor.Shape{16}, w.Offset)
	mn := b.constF("bn/moving_mean", tensor.Shape{16}, w.Mean)
	vr := b.constF("bn/moving_variance", tensor.Shape{16}, w.Var)
	bn := b.add("bn/FusedBatchNormV3", "FusedBatchNormV3", tensor.Attrs{"T": tensor.Float32, "U": tensor.Float32,
		"epsilon": float32(CNNEpsilon), "is_training": false, "data_format": "NHWC", "exponential_avg_factor": float32(1)},
		c2, sc, of, mn, vr)
	r2 := b.add("bn/Relu6", "Relu6", tF, bn)
	dk := b.constF("dw/depthwise_kernel", tensor.Shape{3, 3, 16, 1}, w.DW)
	dw := b.add("dw/depthwise", "DepthwiseConv2dNative", tensor.Attrs{"T": tensor.Float32, "strides": []int64{1, 1, 1, 1},
		"padding": "SAME", "data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}}, r2, dk)
	p2 := b.add("pool2/AvgPool", "AvgPool", tensor.Attrs{"T": tensor.Float32, "ksize": []int64{1, 3, 3, 1},
		"strides": []int64{1, 2, 2, 1}, "padding": "SAME", "data_format": "NHWC"}, dw)
	shp := b.constI("flatten/shape", -1, 144)
	fl := b.add("flatten/Reshape", "Reshape", tensor.Attrs{"T": tensor.Float32, "Tshape": tensor.Int32}, p2, shp)
	fc := b.constF("dense/kernel", tensor.Shape{144, CNNClasses}, w.FC)
	fcb := b.constF("dense/bias", tensor.Shape{CNNClasses}, w.FCB)
	mm := b.add("dense/MatMul", "MatMul", tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false}, fl, fc)
	ba := b.add("dense/BiasAdd", "BiasAdd", tensor.Attrs{"T": tensor.Float32, "data_format": "NHWC"}, mm, fcb)
	b.add("output", "Softmax", tF, ba)
	return b.graph(), w
}

// TowersWeights are the parameters of the two-tower network.
type TowersWeights struct {
	WA, BA, WB, BB []float32 // [16, 8] and [8] each
}

// Towers returns a network with two independent branches joined at the
// end, to exercise graph-level parallelism and the text format:
//
//	a = tanh(x·WA + BA); b = sigmoid(x·WB + BB)
//	output = concat([a, b], axis 1) * 2 - 1      ([None, 16])
func Towers(seed uint64) (*graph.Graph, TowersWeights) {
	r := NewRand(seed)
	w := TowersWeights{WA: r.Fill(16*8, -0.5, 0.5), BA: r.Fill(8, -0.1, 0.1), WB: r.Fill(16*8, -0.5, 0.5), BB: r.Fill(8, -0.1, 0.1)}
	var b builder
	x := b.placeholder("x", -1, 16)
	mk := func(p string, wv, bv []float32, act string) string {
		wn := b.constF(p+"/w", tensor.Shape{16, 8}, wv)
		bn := b.constF(p+"/b", tensor.Shape{8}, bv)
		mm := b.add(p+"/MatMul", "MatMul", tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false}, x, wn)
		ad := b.add(p+"/add", "AddV2", tF, mm, bn)
		return b.add(p+"/act", act, tF, ad)
	}
	a := mk("tower_a", w.WA, w.BA, "Tanh")
	c := mk("tower_b", w.WB, w.BB, "Sigmoid")
	ax := b.constI("concat/axis", 1)
	cc := b.add("concat", "ConcatV2", tensor.Attrs{"T": tensor.Float32, "N": int64(2), "Tidx": tensor.Int32}, a, c, ax+":0")
	two := b.constF("two", tensor.Shape{}, []float32{2})
	one := b.constF("one", tensor.Shape{}, []float32{1})
	m := b.add("scale", "Mul", tF, cc, two)
	b.add("output", "Sub", tF, m, one)
	return b.graph(), w
}

// Input returns a seeded batch of rows×(dims...) uniform values in [0, 1).
func Input(seed uint64, rows int, dims ...int) *tensor.Tensor {
	shape := append(tensor.Shape{rows}, dims...)
	return tensor.FromSlice(shape, NewRand(seed).Fill(shape.Size(), 0, 1))
}

// Seeds of the committed files.
const (
	SeedMLP      = 1
	SeedCNN      = 2
	SeedTowers   = 3
	SeedMLPIn    = 11
	SeedCNNIn    = 12
	SeedTowersIn = 13
	MLPRows      = 256
	CNNRows      = 64
	TowersRows   = 32
)

// CustomWeights are the parameters of the custom-op model.
type CustomWeights struct{ W, B []float32 } // [4, 3] and [3]

// Custom returns a graph that uses an op TensorFlow does not have, the
// tfdeploy README's InvertedSoftmax (exp(-a) / sum(exp(-a)) over the last
// axis): output = InvertedSoftmax(x·W + b) with x named "x" ([None, 4]).
func Custom(seed uint64) (*graph.Graph, CustomWeights) {
	r := NewRand(seed)
	w := CustomWeights{W: r.Fill(12, -1, 1), B: r.Fill(3, -0.5, 0.5)}
	var b builder
	x := b.placeholder("x", -1, 4)
	W := b.constF("W", tensor.Shape{4, 3}, w.W)
	bias := b.constF("b", tensor.Shape{3}, w.B)
	mm := b.add("MatMul", "MatMul", tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false}, x, W)
	add := b.add("add", "AddV2", tF, mm, bias)
	b.add("output", "InvertedSoftmax", tF, add)
	return b.graph(), w
}

// SeedCustom is the seed of testdata/custom.pbtxt.
const SeedCustom = 4

// WideMLP returns a heavier MLP with the README graph's interface (input
// [None, 784] named "input", softmax output [None, 100] named "output") and
// `layers` Relu layers of `width` units between, for serving benchmarks
// where the model, not the request's JSON, dominates the cost.
func WideMLP(seed uint64, width, layers int) *graph.Graph {
	r := NewRand(seed)
	var b builder
	x := b.placeholder("input", -1, MLPIn)
	in, cur := MLPIn, x
	for l := 0; l <= layers; l++ {
		out := width
		if l == layers {
			out = MLPOut
		}
		scale := float32(1 / math.Sqrt(float64(in)))
		w := b.constF(fmt.Sprintf("dense_%d/kernel", l), tensor.Shape{in, out}, r.Fill(in*out, -scale, scale))
		bias := b.constF(fmt.Sprintf("dense_%d/bias", l), tensor.Shape{out}, r.Fill(out, -0.1, 0.1))
		mm := b.add(fmt.Sprintf("dense_%d/MatMul", l), "MatMul", tensor.Attrs{"T": tensor.Float32, "transpose_a": false, "transpose_b": false}, cur, w)
		cur = b.add(fmt.Sprintf("dense_%d/BiasAdd", l), "BiasAdd", tensor.Attrs{"T": tensor.Float32, "data_format": "NHWC"}, mm, bias)
		if l < layers {
			cur = b.add(fmt.Sprintf("dense_%d/Relu", l), "Relu", tF, cur)
		}
		in = out
	}
	b.add("output", "Softmax", tF, cur)
	return b.graph()
}
